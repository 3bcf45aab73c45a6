"""`latentjax sample`: sharded, resumable latent datasets."""

from __future__ import annotations

from pathlib import Path

from latentjax.cli._common import distributed_args, model_args, noise_mode_arg, progress_bar, start_distributed


def cmd_sample(args) -> int:
    from latentjax import load_classifier, load_generator
    from latentjax.dataset import SampleConfig, sample_dataset

    start_distributed(args)
    G = load_generator(args.model, args.network)
    clf = None if args.classifier == "none" else load_classifier(args.classifier)
    cfg = SampleConfig(
        n=args.n,
        batch=args.batch,
        shard_size=args.shard_size,
        seed=args.seed,
        psi=args.trunc,
        save_ws=args.save_ws,
        thumbnails=args.thumbnails,
        noise_mode=args.noise_mode,
    )
    args.resume_hint = (  # main() prints it on Ctrl-C: completed shards are kept, the rest is redone
        f": the shards finished so far are kept in {args.out}; rerun the same command to resume"
    )
    with progress_bar(disabled=args.quiet, unit="row", desc=Path(args.out).name) as bar:
        rep = sample_dataset(G, args.out, cfg, clf, progress=bar.update_to)
    import jax

    if jax.process_index() != 0:  # one summary per job
        return 0
    print(
        f"{rep.rows} rows in {rep.shards} shards at {rep.out_dir} ({len(rep.written)} written now, "
        f"{rep.skipped} already done) in {rep.seconds:.1f}s"
    )
    return 0


def register(sub) -> None:
    sp = sub.add_parser("sample", help="latent dataset: z, w (+ W+, thumbnails) and classifier probabilities")
    model_args(sp)
    sp.add_argument("--n", type=int, required=True, help="rows")
    sp.add_argument("--out", required=True, help="directory (a killed run resumes where it stopped)")
    sp.add_argument("--classifier", default="toyfaces", help="attribute classifier name/dir, or 'none'")
    sp.add_argument("--batch", type=int, default=256)
    sp.add_argument("--shard-size", type=int, default=10000)
    sp.add_argument("--seed", type=int, default=0, help="row i's z depends only on (seed, i)")
    sp.add_argument("--trunc", type=float, default=1.0)
    sp.add_argument("--save-ws", action="store_true", help="also store W+ [num_ws, w_dim] per row")
    sp.add_argument("--thumbnails", type=int, default=0, help="thumbnail side in pixels (0 = none)")
    noise_mode_arg(sp)
    sp.add_argument("--quiet", action="store_true")
    distributed_args(sp)
    sp.set_defaults(func=cmd_sample)
