"""`latentjax invert`: photos -> aligned, projected, editable latents (`latentjax.invert`)."""

from __future__ import annotations

import sys

from latentjax.cli._common import model_args, progress_bar
from latentjax.latent_types import MAPPED


def cmd_invert(args) -> int:
    from latentjax import load_generator
    from latentjax.invert import invert

    if args.steps < 1:
        raise ValueError("--steps must be >= 1")
    G = load_generator(args.model, args.network)
    bar = progress_bar(disabled=args.quiet, unit="step")

    def show(ev) -> None:
        if ev.stage == "prepared":
            r = ev.result
            if r.error:
                print(f"error: {r.error}", file=sys.stderr)
            elif r.notes and not args.quiet:
                print(f"{r.name}: {', '.join(r.notes)}")
        elif ev.stage == "compiling" and not args.quiet:
            print(f"{', '.join(ev.names)}: compiling the projector (once per batch size; can take a minute)...")
        elif ev.stage == "step":  # the bar opens after the first step: the compile does not distort its ETA
            bar.desc = ", ".join(ev.names)[:40]
            bar(ev.step, ev.steps, loss=ev.loss)
        elif ev.stage == "measuring":
            bar.close()
            if not args.quiet:
                print(f"{', '.join(ev.names)}: rendering and measuring the reconstructions...")
        elif ev.stage == "done":
            r = ev.result
            print(f"{r.name}: PSNR {r.psnr:.2f} dB, LPIPS {r.lpips:.4f}, {r.seconds:.1f} s -> {r.outputs[0]}")

    results = invert(
        args.photos,
        G,
        space=args.space,
        steps=args.steps,
        align=False if args.no_align else None,
        landmarks=args.landmarks,
        batch=args.batch,
        seed=args.seed,
        outdir=args.outdir,
        meta={"model": args.model},
        progress=show,
    )
    ok = [r for r in results if r.error is None]
    print(f"inverted {len(ok)} of {len(results)} photo(s) into {args.space} ({args.steps} steps): {args.outdir}")
    return 0 if len(ok) == len(results) else 1


def register(sub) -> None:
    p = sub.add_parser("invert", help="photos -> editable latents: align, project, write .npz / PNGs / JSON")
    model_args(p)
    p.add_argument("photos", nargs="+", help="photo files (any mode Pillow reads)")
    p.add_argument("--space", choices=MAPPED, default="w+", help="latent space (default: %(default)s)")
    p.add_argument("--steps", type=int, default=1000, help="projection steps (default: %(default)s)")
    p.add_argument(
        "--no-align",
        action="store_true",
        help="centre-crop instead of FFHQ face alignment (default: align when the [faces] extra is installed)",
    )
    p.add_argument("--landmarks", default=None, help="landmarks JSON (as `latentjax align`) instead of dlib")
    p.add_argument("--batch", type=int, default=4, help="photos optimised together (default: %(default)s)")
    p.add_argument("--seed", type=int, default=303, help="noise maps / latent noise (default: %(default)s)")
    p.add_argument("--outdir", default="out/invert", help="output folder (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes (results still printed)")
    p.set_defaults(func=cmd_invert)
