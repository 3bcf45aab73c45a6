"""`latentjax edit`: edit latents along a saved direction or in a flow's W*."""

from __future__ import annotations

from latentjax.cli._common import floats, model_args, noise_mode_arg


def cmd_edit(args) -> int:
    from latentjax import load_generator
    from latentjax.render import load_ws
    from latentjax.seeds import parse_seeds, z_from_seeds
    from latentjax.workflows import edit_sweep

    G = load_generator(args.model, args.network)
    strengths = floats(args.strengths)
    if args.ws:
        z, ws = None, load_ws(args.ws, G)
    else:
        z, ws = z_from_seeds(parse_seeds(args.seeds), G.config.z_dim), None
    wstar = args.space == "w*"
    r = edit_sweep(
        G,
        args.outdir,
        strengths,
        direction=None if wstar else args.direction,
        flow=args.flow if wstar else None,
        attribute=args.attribute if wstar else None,
        z=z,
        ws=ws,
        psi=args.trunc,
        layers=args.layers,
        noise_mode=args.noise_mode,
    )
    print(
        f"edited {r.edits.shape[1]} latents along {r.what} at "
        f"strengths {strengths}: {r.strip} (rows = latents), {r.latents}"
    )
    return 0


def register(sub) -> None:
    e = sub.add_parser("edit", help="edit latents along a saved direction: w' = w + lambda d (strip + latents)")
    model_args(e)
    e.add_argument("--direction", default=None, help="direction .npz (latentjax directions fit)")
    e.add_argument("--space", choices=["direction", "w*"], default="direction", help="w*: edit in a flow's W*")
    e.add_argument("--flow", default=None, help="--space w*: directory written by latentjax flow train")
    e.add_argument("--attribute", default=None, help="--space w*: attribute whose W* normal to follow")
    e.add_argument("--seeds", default="0-3")
    e.add_argument("--ws", default=None, help=".npz with 'ws' or 'w' (e.g. a projection) instead of seeds")
    e.add_argument("--strengths", default="-3,-1.5,0,1.5,3", help="lambda values (default: %(default)s)")
    e.add_argument("--layers", default=None, help="coarse|middle|fine|rows '0-3' (default: the direction's)")
    e.add_argument("--trunc", type=float, default=1.0)
    noise_mode_arg(e)
    e.add_argument("--outdir", default="out/edit")
    e.set_defaults(func=cmd_edit)
