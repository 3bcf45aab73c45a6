"""Latent datasets (dataset.py): row determinism, shards + manifest, resumption after a kill, refusal
of mismatched settings, loading. Tiny 16x16 generator and a tiny classifier; N <= 40."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest

from latentjax.classifier import Classifier, ClassifierConfig, init_classifier
from latentjax.dataset import (
    MANIFEST,
    SampleConfig,
    iter_shards,
    load_dataset,
    read_manifest,
    row_latents,
    row_noise,
    sample_arrays,
    sample_dataset,
    shard_name,
)
from latentjax.generator import Generator
from latentjax.media import to_uint8
from latentjax.ops.resample import resize_images

ALL = ("z", "w", "ws", "probs", "thumbs")
REF = SampleConfig(40, batch=7, shard_size=16, seed=3, psi=0.7, save_ws=True, thumbnails=8)  # shards 16, 16, 8


def tiny_classifier(attributes=("a", "b"), res=16, seed=5) -> Classifier:
    cfg = ClassifierConfig(attributes=attributes, resolution=res, widths=(4, 8), hidden=8)
    return Classifier(cfg, init_classifier(cfg, jax.random.key(seed)))


class Killed(Exception):
    pass


def kill_after(k: int):
    def cb(info):
        if info.index == k:
            raise Killed

    return cb


@pytest.fixture(scope="module")
def clf():
    return tiny_classifier()


@pytest.fixture(scope="module")
def ref(tiny_sg2, clf, tmp_path_factory):
    """An uninterrupted run of REF: (directory, all fields loaded)."""
    out = tmp_path_factory.mktemp("ds") / "ref"
    sample_dataset(tiny_sg2, out, REF, clf, progress=False)
    return out, load_dataset(out, ALL)


def copy_of(src: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(src, tmp_path / "copy"))


def assert_same(a: dict, b: dict, exact: bool = True):
    assert a.keys() == b.keys()
    np.testing.assert_array_equal(a["index"], b["index"])
    np.testing.assert_array_equal(a["z"], b["z"])  # z is a function of (seed, row) alone: always bitwise
    for k in set(a) - {"index", "z", "attributes"}:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        if exact:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        elif a[k].dtype == np.uint8:  # rounding of the last float bit may move a pixel by one level
            assert np.abs(a[k].astype(np.int16) - b[k]).max() <= 1, k
        else:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)


# ---- config and row latents --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"n": 0},
        {"n": 2**32 + 1},
        {"n": 1.5},
        {"n": True},
        {"batch": 0},
        {"shard_size": 0},
        {"seed": -1},
        {"seed": 2**32},
        {"thumbnails": -1},
        {"psi": float("nan")},
        {"noise_mode": "fresh"},
    ],
)
def test_config_rejects_bad_values(kw):
    with pytest.raises(ValueError):
        SampleConfig(**{"n": 10, **kw})


def test_config_shards():
    c = SampleConfig(25, shard_size=10)
    assert c.num_shards == 3 and [c.shard_rows(k) for k in range(3)] == [(0, 10), (10, 20), (20, 25)]
    assert SampleConfig(20, shard_size=10).num_shards == 2 and SampleConfig(np.int64(5)).n == 5


def test_row_latents_depend_on_seed_and_row_only():
    z = np.asarray(row_latents(7, np.arange(10), 8))
    assert z.shape == (10, 8) and z.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(row_latents(7, [5, 3], 8)), z[[5, 3]])  # any batch, any order
    literal = jax.random.normal(jax.random.fold_in(jax.random.key(7), 3), (8,))
    np.testing.assert_array_equal(z[3], np.asarray(literal))
    assert not np.allclose(np.asarray(row_latents(8, np.arange(10), 8)), z)
    assert len({tuple(r) for r in z}) == 10
    for seed, ids in ((2**32, [0]), (-1, [0]), (0, [-1]), (0, [2**32]), (0, [0.5])):
        with pytest.raises(ValueError):
            row_latents(seed, np.asarray(ids), 8)


# ---- what a dataset holds ----------------------------------------------------------------------


@pytest.mark.slow  # ~13 s of CPU (2026-12-02)
def test_reference_dataset_contents(tiny_sg2, clf, ref):
    out, d = ref
    m = read_manifest(out)
    assert m["complete"] and m["n"] == 40 and m["num_shards"] == 3 and m["attributes"] == ["a", "b"]
    assert (m["seed"], m["psi"], m["shard_size"], m["model"]["arch"]) == (3, 0.7, 16, "stylegan2")
    assert [(e["file"], e["start"], e["rows"]) for e in m["shards"]] == [
        (shard_name(0), 0, 16),
        (shard_name(1), 16, 16),
        (shard_name(2), 32, 8),
    ]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, *(shard_name(k) for k in range(3))]
    with np.load(out / shard_name(2)) as f:
        assert set(f.files) == {"index", *ALL} and f["z"].shape == (8, 8)
    np.testing.assert_array_equal(d["index"], np.arange(40))
    assert d["index"].dtype == np.int64 and d["attributes"] == ("a", "b")
    np.testing.assert_array_equal(d["z"], np.asarray(row_latents(3, np.arange(40), 8)))
    ws = np.asarray(tiny_sg2.mapping(d["z"], 0.7))
    assert d["w"].shape == (40, 8) and d["ws"].shape == (40, 6, 8) and d["w"].dtype == d["ws"].dtype == np.float32
    np.testing.assert_allclose(d["w"], ws[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d["ws"], ws, rtol=1e-5, atol=1e-6)
    images = tiny_sg2.synthesis(ws, noise_mode="const")
    assert d["probs"].shape == (40, 2) and d["probs"].dtype == np.float32
    np.testing.assert_allclose(d["probs"], clf.probabilities(images), rtol=1e-5, atol=1e-6)
    assert d["thumbs"].shape == (40, 8, 8, 3) and d["thumbs"].dtype == np.uint8
    box = np.asarray(images).reshape(40, 8, 2, 8, 2, 3).mean(axis=(2, 4))
    assert np.abs(d["thumbs"].astype(np.int16) - to_uint8(box)).max() <= 1


def test_rows_independent_of_batch_and_shard_size(tiny_sg2, clf, ref, tmp_path):
    other = SampleConfig(40, batch=16, shard_size=10, seed=3, psi=0.7, save_ws=True, thumbnails=8)
    sample_dataset(tiny_sg2, tmp_path / "b", other, clf, progress=False)
    assert len(read_manifest(tmp_path / "b")["shards"]) == 4
    assert_same(load_dataset(tmp_path / "b", ALL), ref[1], exact=False)


def test_in_memory_sample_has_the_same_rows(tiny_sg2, clf, ref):
    mem = sample_arrays(tiny_sg2, SampleConfig(40, batch=16, seed=3, psi=0.7, save_ws=True, thumbnails=8), clf)
    assert set(ref[1]) - set(mem) == {"attributes"}  # metadata of the files, not a sampled field
    assert_same({f: mem.get(f, ref[1][f]) for f in ref[1]}, ref[1], exact=False)


def test_thumbnails_at_full_and_odd_sizes(tiny_sg2, tmp_path):
    z = np.asarray(row_latents(0, np.arange(5), 8))
    images = tiny_sg2(z)
    sample_dataset(tiny_sg2, tmp_path / "a", SampleConfig(5, thumbnails=16), progress=False)
    np.testing.assert_array_equal(load_dataset(tmp_path / "a", ["thumbs"])["thumbs"], to_uint8(images))
    sample_dataset(tiny_sg2, tmp_path / "b", SampleConfig(5, thumbnails=6), progress=False)
    t = load_dataset(tmp_path / "b", ["thumbs"])["thumbs"]
    assert t.shape == (5, 6, 6, 3) and t.dtype == np.uint8


def test_classifier_at_another_resolution_sees_resized_images(tiny_sg2, tmp_path):
    clf8 = tiny_classifier(("x",), res=8)
    sample_dataset(tiny_sg2, tmp_path, SampleConfig(5), clf8, progress=False)
    d = load_dataset(tmp_path)
    assert set(d) == {"index", "z", "w", "probs", "attributes"} and d["attributes"] == ("x",)
    want = clf8.probabilities(resize_images(tiny_sg2(d["z"]), 8))
    np.testing.assert_allclose(d["probs"], want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # ~12 s of CPU (2026-12-02)
def test_random_noise_is_per_row(tiny_sg2, tmp_path):
    sample_dataset(tiny_sg2, tmp_path, SampleConfig(6, batch=2, thumbnails=16, noise_mode="random"), progress=False)
    thumbs = load_dataset(tmp_path, ["thumbs"])["thumbs"]
    ids = np.arange(6)
    noise = row_noise(tiny_sg2, 0, ids)  # the same maps, drawn for all six rows at once
    assert [m.shape for m in noise] == [(6, r, r) for r in tiny_sg2.config.noise_resolutions]
    assert all(float(np.std(m)) > 0.5 for m in noise)
    for a, b in zip(row_noise(tiny_sg2, 0, [4, 5]), noise):
        np.testing.assert_array_equal(a, b[4:])
    images = tiny_sg2.synthesis(tiny_sg2.mapping(row_latents(0, ids, 8)), noise=noise)
    assert np.abs(thumbs.astype(np.int16) - to_uint8(images)).max() <= 1


# ---- resumption ----------------------------------------------------------------------------------


def test_resume_after_kill_matches_uninterrupted_run(tiny_sg2, clf, ref, tmp_path, capsys):
    out = tmp_path / "ds"
    seen = []
    with pytest.raises(Killed):
        sample_dataset(tiny_sg2, out, REF, clf, progress=False, on_shard=lambda i: (seen.append(i), kill_after(0)(i)))
    assert [(i.index, i.start, i.rows, i.done_rows, i.total_rows) for i in seen] == [(0, 0, 16, 16, 40)]
    assert seen[0].path == out / shard_name(0) and seen[0].path.is_file()
    m = read_manifest(out)
    assert not m["complete"] and [e["index"] for e in m["shards"]] == [0]
    with pytest.raises(ValueError, match="incomplete"):
        load_dataset(out)
    with pytest.raises(ValueError, match="incomplete"):
        iter_shards(out)
    part = load_dataset(out, ALL, allow_partial=True)
    np.testing.assert_array_equal(part["index"], np.arange(16))

    capsys.readouterr()
    report = sample_dataset(tiny_sg2, out, REF, clf, progress=True)
    assert report.written == (1, 2) and report.skipped == 1 and report.shards == 3
    assert "16/40" in capsys.readouterr().err  # the bar starts at the rows already done
    d = load_dataset(out, ALL)
    assert len(np.unique(d["index"])) == 40
    assert_same(d, ref[1])
    # batch size is not part of a dataset's identity: a finished dataset accepts any
    again = sample_dataset(tiny_sg2, out, dataclasses.replace(REF, batch=3), clf, progress=False)
    assert again.written == () and again.skipped == 3


def test_shard_renamed_but_not_recorded_is_written_again(tiny_sg2, clf, ref, tmp_path):
    out = copy_of(ref[0], tmp_path)
    m = json.loads((out / MANIFEST).read_text())
    m["shards"], m["complete"] = m["shards"][:2], False  # killed between the shard's and the manifest's rename
    (out / MANIFEST).write_text(json.dumps(m))
    (out / shard_name(2)).write_bytes(b"half a shard")  # whatever is there is not trusted
    assert sample_dataset(tiny_sg2, out, REF, clf, progress=False).written == (2,)
    assert_same(load_dataset(out, ALL), ref[1])


def test_leftover_temp_files_are_discarded(tiny_sg2, clf, ref, tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(Killed):
        sample_dataset(tiny_sg2, out, REF, clf, progress=False, on_shard=kill_after(1))
    temps = [out / f".{shard_name(2)}.x1y2.tmp", out / f".{MANIFEST}.abc.tmp"]
    for t in temps:
        t.write_bytes(b"PK\x03\x04 cut short")
    assert sample_dataset(tiny_sg2, out, REF, clf, progress=False).written == (2,)
    assert not any(t.exists() for t in temps)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, *(shard_name(k) for k in range(3))]
    assert_same(load_dataset(out, ALL), ref[1])


@pytest.mark.parametrize("damage", ["delete", "truncate", "wrong_rows"])
def test_damaged_completed_shard_is_rewritten_with_a_warning(tiny_sg2, clf, ref, tmp_path, damage):
    out = copy_of(ref[0], tmp_path)
    path = out / shard_name(1)
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        with np.load(path) as f:
            arrays = {k: f[k][:-1] for k in f.files}
        np.savez(path, **arrays)
    with pytest.warns(UserWarning, match="written again"):
        report = sample_dataset(tiny_sg2, out, REF, clf, progress=False)
    assert report.written == (1,)
    assert_same(load_dataset(out, ALL), ref[1])


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, match",
    [
        ({"n": 41}, "n: 40 on disk, 41"),
        ({"seed": 4}, "seed"),
        ({"psi": 0.5}, "psi"),
        ({"shard_size": 8}, "shard_size"),
        ({"save_ws": False}, "save_ws"),
        ({"thumbnails": 4}, "thumbnails"),
        ({"noise_mode": "none"}, "noise_mode"),
        ("no_classifier", "attributes"),
        ("other_classifier", "classifier"),
        ("other_weights", r"model \(fingerprint differ\)"),
    ],
)
def test_mismatching_settings_are_refused(tiny_sg2, clf, ref, change, match):
    G, c, cfg = tiny_sg2, clf, REF
    if change == "no_classifier":
        c = None
    elif change == "other_classifier":
        c = Classifier(clf.config, jax.tree_util.tree_map(lambda a: a + 0.01, clf.params))
    elif change == "other_weights":
        v = tiny_sg2.variables
        buffers = {**v["buffers"], "mapping_network": {"w_avg": v["buffers"]["mapping_network"]["w_avg"] + 1.0}}
        G = Generator(tiny_sg2.config, {**v, "buffers": buffers})
    else:
        cfg = dataclasses.replace(REF, **change)
    before = {p.name: p.stat().st_mtime_ns for p in ref[0].iterdir()}
    with pytest.raises(ValueError, match=match):
        sample_dataset(G, ref[0], cfg, c, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in ref[0].iterdir()} == before  # nothing touched


def test_refuses_a_directory_that_is_not_a_dataset(tiny_sg2, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a latentjax dataset"):
        sample_dataset(tiny_sg2, tmp_path, SampleConfig(4), progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    (tmp_path / MANIFEST).write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a latentjax-dataset/1 manifest"):
        sample_dataset(tiny_sg2, tmp_path, SampleConfig(4), progress=False)
    with pytest.raises(ValueError, match="no manifest.json"):
        load_dataset(tmp_path / "nowhere")


# ---- loading -------------------------------------------------------------------------------------


def test_load_fields_and_iter_shards(tiny_sg2, ref, tmp_path):
    sample_dataset(tiny_sg2, tmp_path, SampleConfig(12, batch=4, shard_size=5), progress=False)
    d = load_dataset(tmp_path)  # default: z, w (no classifier, so no probs)
    assert set(d) == {"index", "z", "w", "attributes"} and d["attributes"] == ()
    with pytest.raises(ValueError, match=r"\['probs'\] not stored"):
        load_dataset(tmp_path, ["z", "probs"])
    shards = list(iter_shards(tmp_path, ["w"]))
    assert [len(s["index"]) for s in shards] == [5, 5, 2] and all(set(s) == {"index", "w"} for s in shards)
    np.testing.assert_array_equal(np.concatenate([s["w"] for s in shards]), d["w"])
    full = load_dataset(ref[0], ALL)
    assert_same(full, ref[1])
    assert set(load_dataset(ref[0])) == {"index", "z", "w", "probs", "attributes"}
