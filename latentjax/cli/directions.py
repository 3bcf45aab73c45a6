"""`latentjax directions fit`: attribute directions from a sampled dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def cmd_directions_fit(args) -> int:
    from latentjax.dataset import load_dataset
    from latentjax.directions.fit import fit_directions
    from latentjax.directions.io import save_direction

    data = load_dataset(args.data, fields=("z", "w", "probs"))  # probs: sampled with --classifier
    attrs = list(data["attributes"])
    want = attrs if args.attributes == "all" else [a.strip() for a in args.attributes.split(",")]
    unknown = [a for a in want if a not in attrs]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; the dataset has {', '.join(attrs)}")
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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for d in dirs:
        save_direction(out / f"{d.attribute}.npz", d)
        print(f"{d.attribute:16s} " + " ".join(f"{k} {v:.4g}" for k, v in d.metrics.items()))
    print(f"wrote {len(dirs)} {args.method} directions in {args.space} to {out}")
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
    df.set_defaults(func=cmd_directions_fit)
