"""`latentjax directions fit`: attribute directions from a sampled dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentjax.cli._common import distributed_args, start_distributed


def cmd_directions_fit(args) -> int:
    import jax

    from latentjax.dataset import load_dataset
    from latentjax.directions.fit import fit_directions
    from latentjax.directions.io import save_direction
    from latentjax.distributed import allgather_json
    from latentjax.sharding import process_items

    start_distributed(args)
    data = load_dataset(args.data, fields=("z", "w", "probs"))  # probs: sampled with --classifier
    attrs = list(data["attributes"])
    want = attrs if args.attributes == "all" else [a.strip() for a in args.attributes.split(",")]
    unknown = [a for a in want if a not in attrs]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; the dataset has {', '.join(attrs)}")
    total = len(want)
    want = process_items(want)  # several processes: each fits (and writes) every N-th attribute
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    if want:
        cols = [attrs.index(a) for a in want]
        probs = data["probs"][:, cols]
        labels = probs > 0.5
        if args.labels == "toyfaces":  # the toy world's exact labels of each z instead of the classifier's
            from latentjax.toyfaces import labels_of

            exact = labels_of(data["z"])
            labels = np.stack([np.asarray(exact[a]) for a in want], axis=1)
        dirs = fit_directions(
            data[args.space], labels, want, args.method, args.space, args.C, scores=probs, fraction=args.fraction
        )
        for d in dirs:
            save_direction(out / f"{d.attribute}.npz", d)
            lines.append(f"{d.attribute:16s} " + " ".join(f"{k} {v:.4g}" for k, v in d.metrics.items()))
    lines = [line for part in allgather_json(lines, "gathering directions") for line in part]
    if jax.process_index() == 0:
        print("\n".join(sorted(lines, key=lambda line: attrs.index(line.split()[0]))))
        print(f"wrote {total} {args.method} directions in {args.space} to {out}")
    return 0


def register(sub) -> None:
    dr = sub.add_parser("directions", help="attribute directions").add_subparsers(dest="action", required=True)
    df = dr.add_parser("fit", help="fit one direction per attribute on a `latentjax sample` dataset")
    df.add_argument("--data", required=True, help="directory written by latentjax sample (with --classifier)")
    df.add_argument("--attributes", default="all", help="comma-separated names or 'all'")
    df.add_argument("--method", choices=["logistic", "svm", "batched"], default="logistic")
    df.add_argument("--space", choices=["z", "w"], default="w")
    df.add_argument("--C", type=float, default=0.1, help="inverse regularisation (paper 000: 0.1)")
    df.add_argument("--fraction", type=float, default=0.02, help="svm: top/bottom fraction (InterFaceGAN)")
    df.add_argument("--labels", choices=["classifier", "toyfaces"], default="classifier")
    df.add_argument("--out", default="directions")
    distributed_args(df)
    df.set_defaults(func=cmd_directions_fit)
