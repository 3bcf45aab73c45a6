"""`latentjax directions fit`: attribute directions from a sampled dataset."""

from __future__ import annotations

from latentjax.cli._common import distributed_args, start_distributed
from latentjax.latent_types import SAMPLED


def cmd_directions_fit(args) -> int:
    import jax

    from latentjax.workflows import fit_directions_to_folder

    start_distributed(args)
    r = fit_directions_to_folder(
        args.data,
        args.out,
        attributes=args.attributes if args.attributes == "all" else args.attributes.split(","),
        method=args.method,
        space=args.space,
        C=args.C,
        fraction=args.fraction,
        labels=args.labels,
    )
    if jax.process_index() == 0:
        for a, metrics in r.metrics.items():
            print(f"{a:16s} " + " ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
        print(f"wrote {len(r.metrics)} {r.method} directions in {r.space} to {r.outdir}")
    return 0


def register(sub) -> None:
    dr = sub.add_parser("directions", help="attribute directions").add_subparsers(dest="action", required=True)
    df = dr.add_parser("fit", help="fit one direction per attribute on a `latentjax sample` dataset")
    df.add_argument("--data", required=True, help="directory written by latentjax sample (with --classifier)")
    df.add_argument("--attributes", default="all", help="comma-separated names or 'all'")
    df.add_argument("--method", choices=["logistic", "svm", "batched"], default="logistic")
    df.add_argument("--space", choices=SAMPLED, default="w")
    df.add_argument("--C", type=float, default=0.1, help="inverse regularisation (paper 000: 0.1)")
    df.add_argument("--fraction", type=float, default=0.02, help="svm: top/bottom fraction (InterFaceGAN)")
    df.add_argument("--labels", choices=["classifier", "toyfaces"], default="classifier")
    df.add_argument("--out", default="directions")
    distributed_args(df)
    df.set_defaults(func=cmd_directions_fit)
