"""Latent datasets at scale: N rows of (z, w[, ws][, thumbnails][, classifier probabilities]) in
fixed-size .npz shards plus a manifest, written so that a killed run resumes without losing or
duplicating rows. The library side of `latentjax sample`.

Row i is a pure function of (model, classifier, seed, psi, noise_mode, i): its z is drawn from
`fold_in(key(seed), i)` (see `row_latents`), so batch size, shard size and resumption never change
which z a row gets. z and index are bit-identical across batch sizes; w / ws / probs / thumbs are
bit-identical for the same batch size and equal up to float rounding of batched matmuls otherwise.

Layout of a dataset directory (shapes per shard of `rows` rows):
    manifest.json      format tag, model, settings, attributes, fields, completed shards
    shard-00000.npz    index [rows] int64 (global row ids), z [rows, z_dim] float32,
                       w [rows, w_dim] float32 (mapping output after truncation, W+ row 0),
                       ws [rows, num_ws, w_dim] float32 (save_ws), thumbs [rows, t, t, C] uint8
                       (thumbnails=t), probs [rows, A] float32 (classifier, order of `attributes`)
Every file is written to a temporary sibling and renamed into place; a shard counts as done only
once the manifest (rewritten the same way) lists it. A shard on disk but not in the manifest
(killed between the two renames) is simply written again.

Several processes (`latentjax.distributed`, `latentjax launch`) share the work shard by shard: the
shards still missing are dealt round-robin, each process writes only its own shard files, and after
each round (one shard per process) the processes exchange what they wrote and process 0 alone
records it in the manifest. The rows are byte-identical to a single process's (same batches); a run
killed anywhere, on any process, resumes with any number of processes.

Modules: `rows` (sampling: SampleConfig, row_latents, sample_arrays), `storage` (the directory format,
reading: load_dataset, iter_shards), `resume` (writing and resuming: sample_dataset).
"""

from latentjax.dataset.resume import SampleReport, ShardInfo, sample_dataset
from latentjax.dataset.rows import SampleConfig, field_specs, row_latents, row_noise, sample_arrays, sample_rows
from latentjax.dataset.storage import (
    DEFAULT_FIELDS,
    FORMAT,
    MANIFEST,
    dataset_header,
    fingerprint,
    iter_shards,
    load_dataset,
    read_manifest,
    shard_name,
)

__all__ = [
    "DEFAULT_FIELDS",
    "FORMAT",
    "MANIFEST",
    "SampleConfig",
    "SampleReport",
    "ShardInfo",
    "dataset_header",
    "field_specs",
    "fingerprint",
    "iter_shards",
    "load_dataset",
    "read_manifest",
    "row_latents",
    "row_noise",
    "sample_arrays",
    "sample_dataset",
    "sample_rows",
    "shard_name",
]
