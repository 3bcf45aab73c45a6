"""`latentjax flow train`: the W* flow of paper 002."""

from __future__ import annotations

from latentjax.cli._common import model_args, progress_bar
from latentjax.latent_types import MAPPED


def cmd_flow_train(args) -> int:
    from latentjax import load_generator
    from latentjax.flow import FlowTrainConfig
    from latentjax.metrics.sample import labelled_latents
    from latentjax.workflows import train_wstar_flow

    G = None if args.data and args.space == "w" else load_generator(args.model, args.network)
    with progress_bar(disabled=args.quiet, unit="row", desc="sample") as bar:
        data = labelled_latents(
            G,
            data=args.data,
            n=args.n,
            seed=args.seed,
            psi=args.trunc,
            classifier=args.classifier,
            progress=bar.update_to,
        )
    tcfg = FlowTrainConfig(
        steps=args.steps, batch_size=args.batch_size, learning_rate=args.lr, lambda_ap=args.lambda_ap, seed=args.seed
    )
    with progress_bar(disabled=args.quiet, unit="step", desc="flow") as bar:
        r = train_wstar_flow(
            data,
            args.out,
            space=args.space,
            num_ws=None if G is None else G.config.num_ws,
            flow={"num_couplings": args.couplings, "hidden": args.hidden},
            train=tcfg,
            meta={"model": args.model},
            progress=bar.update_to,
        )
    print("last 100 steps: " + ", ".join(f"{k} {v:.4f}" for k, v in r.last.items()))
    print(f"trained T on {r.n} {r.space} latents ({args.steps} steps): {r.flow_dir}")
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
    ft.add_argument("--space", choices=MAPPED, default="w", help="w: [w_dim]; w+: flattened [num_ws * w_dim]")
    ft.add_argument("--steps", type=int, default=10000)
    ft.add_argument("--batch-size", type=int, default=8, help="paper 002: 8")
    ft.add_argument("--lr", type=float, default=1e-4, help="Adam, paper 002: 1e-4")
    ft.add_argument("--lambda-ap", type=float, default=0.1, help="paper 002: 0.1")
    ft.add_argument("--couplings", type=int, default=8)
    ft.add_argument("--hidden", type=int, default=512)
    ft.add_argument("--out", default="flows/toyfaces", help="OUT/flow (the model) and OUT/checkpoint (resumable)")
    ft.add_argument("--quiet", action="store_true")
    ft.set_defaults(func=cmd_flow_train)
