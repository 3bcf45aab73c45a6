"""`latentjax flow train`: the W* flow of paper 002."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentjax.cli._common import model_args


def cmd_flow_train(args) -> int:
    from latentjax import load_classifier, load_generator
    from latentjax.flow import FlowConfig, FlowTrainConfig, fit_wstar, save_flow
    from latentjax.metrics.sample import from_dataset, sample_labelled

    G = None if args.data and args.space == "w" else load_generator(args.model, args.network)
    if args.data:
        data = from_dataset(args.data)
    else:
        clf = load_classifier(args.classifier)
        data = sample_labelled(G, args.n, args.seed, args.trunc, "classifier", clf, progress=not args.quiet)
    x = data.w
    if args.space == "w+":  # sampled codes: w on every row, flattened row-major as flow.flatten_ws does
        x = np.tile(x, (1, G.config.num_ws))
    cfg = FlowConfig(dim=x.shape[1], num_couplings=args.couplings, hidden=args.hidden)
    tcfg = FlowTrainConfig(
        steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr, lambda_ap=args.lambda_ap, seed=args.seed
    )
    out = Path(args.out)
    meta = {"space": args.space, "model": args.model, "n": len(x), "labels": data.source}
    model, hist = fit_wstar(
        x, data.probs, data.attributes, cfg, tcfg, out / "checkpoint", progress=not args.quiet, meta=meta
    )
    save_flow(out / "flow", model.params, cfg, model.clf_w, model.clf_b, model.attributes, model.normals, meta, True)
    last = {k: float(np.mean(v[-100:])) for k, v in hist.items()}
    print("last 100 steps: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    print(f"trained T on {len(x)} {args.space} latents ({args.steps} steps): {out / 'flow'}")
    return 0


def register(sub) -> None:
    fl = sub.add_parser("flow", help="W*: RealNVP flow of paper 002").add_subparsers(dest="action", required=True)
    ft = fl.add_parser("train", help="train T: W(+) -> W* against fixed linear attribute classifiers")
    model_args(ft)
    ft.add_argument("--data", default=None, help="a `latentjax sample` directory (else --n latents are sampled)")
    ft.add_argument("--n", type=int, default=20000)
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--trunc", type=float, default=1.0)
    ft.add_argument("--classifier", default="toyfaces")
    ft.add_argument("--space", choices=["w", "w+"], default="w", help="w: [w_dim]; w+: flattened [num_ws * w_dim]")
    ft.add_argument("--steps", type=int, default=10000)
    ft.add_argument("--batch-size", type=int, default=8, help="paper 002: 8")
    ft.add_argument("--lr", type=float, default=1e-4, help="Adam, paper 002: 1e-4")
    ft.add_argument("--lambda-ap", type=float, default=0.1, help="paper 002: 0.1")
    ft.add_argument("--couplings", type=int, default=8)
    ft.add_argument("--hidden", type=int, default=512)
    ft.add_argument("--out", default="flows/toyfaces", help="OUT/flow (the model) and OUT/checkpoint (resumable)")
    ft.add_argument("--quiet", action="store_true")
    ft.set_defaults(func=cmd_flow_train)
