"""`latentjax edit`: edit latents along a saved direction or in a flow's W*."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentjax.cli._common import floats, model_args


def cmd_edit(args) -> int:
    from latentjax import load_generator, validate
    from latentjax.directions import load_direction
    from latentjax.figures import edit_strip, edited_ws, resolve_layers
    from latentjax.media import save_png
    from latentjax.render import load_ws
    from latentjax.seeds import parse_seeds, z_from_seeds

    G = load_generator(args.model, args.network)
    strengths = floats(args.strengths)
    if args.ws:
        z, ws = None, load_ws(args.ws, G)
    else:
        z, ws = z_from_seeds(parse_seeds(args.seeds), G.config.z_dim), None
    if args.space == "w*":
        from latentjax.flow import load_flow
        from latentjax.flow.edit import edit_in_wstar

        if not args.flow or not args.attribute:
            raise ValueError("--space w* needs --flow DIR (latentjax flow train) and --attribute NAME")
        flow = load_flow(args.flow)
        ws = G.mapping(z, args.trunc) if ws is None else ws
        edits = np.stack([edit_in_wstar(flow, ws, args.attribute, lam) for lam in strengths])
        what = f"{args.attribute} (w*, paper 002 flow {args.flow})"
    else:
        if not args.direction:
            raise ValueError("--direction is required (or --space w* with --flow and --attribute)")
        d = load_direction(args.direction)
        validate.direction_for(d, G.config.z_dim, G.config.w_dim, G.config.num_ws, args.direction)
        layers = None if args.layers is None else resolve_layers(args.layers, G.config.num_ws)
        edits = edited_ws(G, d, strengths, z=z, ws=ws, psi=args.trunc, layers=layers)
        what = f"{d.attribute or args.direction} ({d.space}, {d.method})"
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    save_png(out / "edit.png", edit_strip(G, edits, args.noise_mode))
    np.savez(out / "edited.npz", ws=edits.reshape(-1, *edits.shape[2:]), strengths=np.repeat(strengths, edits.shape[1]))
    print(
        f"edited {edits.shape[1]} latents along {what} at "
        f"strengths {strengths}: {out / 'edit.png'} (rows = latents), {out / 'edited.npz'}"
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
    e.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    e.add_argument("--outdir", default="out/edit")
    e.set_defaults(func=cmd_edit)
