"""`latentjax mix | interpolate | noise`: the StyleGAN figures (style mixing, interpolation, noise)."""

from __future__ import annotations

from pathlib import Path

from latentjax.cli._common import check_image_out, model_args, noise_mode_arg, stage_printer
from latentjax.latent_types import SAMPLED


def cmd_mix(args) -> int:
    from latentjax import load_generator
    from latentjax.figures import style_mixing_grid
    from latentjax.media import save_png
    from latentjax.seeds import parse_seeds

    check_image_out(args.out)
    rows, cols = parse_seeds(args.rows), parse_seeds(args.cols)
    say, elapsed = stage_printer(args.quiet)
    say(f"loading {args.model}")
    G = load_generator(args.model, args.network)
    grid = style_mixing_grid(G, rows, cols, args.layers, args.trunc, args.noise_mode, progress=say)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_png(out, grid)
    print(f"wrote {out} (rows {args.rows} take layers {args.layers} from columns {args.cols}) in {elapsed():.1f}s")
    return 0


def cmd_interpolate(args) -> int:
    from latentjax import load_generator
    from latentjax.figures import interpolation_frames
    from latentjax.media import make_grid, save_loop, save_png
    from latentjax.seeds import parse_seeds

    check_image_out(args.out, animation=True)  # before rendering: an .mp4 without ffmpeg is refused now
    seeds = parse_seeds(args.seeds)
    if len(seeds) < 2:
        raise ValueError(f"--seeds {args.seeds}: interpolation needs at least two seeds")
    if args.steps < 1:
        raise ValueError(f"--steps {args.steps}: must be >= 1")
    say, elapsed = stage_printer(args.quiet)
    say(f"loading {args.model}")
    G = load_generator(args.model, args.network)
    frames = interpolation_frames(G, seeds, args.steps, args.space, args.trunc, args.noise_mode, progress=say)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".gif", ".mp4"):
        out, count = save_loop(out, frames, args.frame_ms)
        what = f"{count} frames ({len(frames)} images there and back)"
    else:
        save_png(out, make_grid(frames, args.steps if args.cols is None else args.cols))
        what = f"{len(frames)} frames"
    kind = "slerp" if args.space == "z" else "lerp"
    print(f"wrote {out}: {what}, {args.space}-space {kind}, in {elapsed():.1f}s")
    return 0


def cmd_noise(args) -> int:
    from latentjax import load_generator
    from latentjax.figures import noise_figure
    from latentjax.media import save_png
    from latentjax.seeds import parse_seeds

    check_image_out(args.out)
    seeds = parse_seeds(args.seeds)
    say, elapsed = stage_printer(args.quiet)
    say(f"loading {args.model}")
    G = load_generator(args.model, args.network)
    fig = noise_figure(G, seeds, args.trunc, args.k, args.noise_seed, progress=say)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_png(out, fig)
    print(
        f"wrote {out}: columns = noise on all / none / coarse / fine layers, std over {args.k} noise draws, "
        f"in {elapsed():.1f}s"
    )
    return 0


def register(sub) -> None:
    m = sub.add_parser("mix", help="style-mixing grid (StyleGAN Fig. 3): rows take columns' layers")
    model_args(m)
    m.add_argument("--rows", default="0-4", help="destination seeds (default: %(default)s)")
    m.add_argument("--cols", default="5-9", help="source seeds whose layers are copied (default: %(default)s)")
    m.add_argument("--layers", default="coarse", help="coarse|middle|fine|all, unions 'coarse,middle' or rows '0-3'")
    m.add_argument("--trunc", type=float, default=1.0)
    noise_mode_arg(m)
    m.add_argument("--quiet", action="store_true", help="no progress lines (the result line stays)")
    m.add_argument("--out", default="out/mix.png")
    m.set_defaults(func=cmd_mix)

    it = sub.add_parser("interpolate", help="interpolation strip (.png) or animation (.gif) through seeds")
    model_args(it)
    it.add_argument("--seeds", default="0-3", help="keyframe seeds, in order (default: %(default)s)")
    it.add_argument("--steps", type=int, default=8, help="frames per segment (default: %(default)s)")
    it.add_argument("--space", choices=SAMPLED, default="w", help="slerp in Z or lerp in W (default: w)")
    it.add_argument("--trunc", type=float, default=1.0)
    noise_mode_arg(it)
    it.add_argument("--cols", type=int, default=None, help="strip columns (default: steps per segment)")
    it.add_argument("--frame-ms", type=int, default=80, help="gif frame duration")
    it.add_argument("--quiet", action="store_true", help="no progress lines (the result line stays)")
    it.add_argument("--out", default="out/interpolation.png")
    it.set_defaults(func=cmd_interpolate)

    nz = sub.add_parser("noise", help="noise on all/none/coarse/fine layers + stochastic variation (Fig. 4-5)")
    model_args(nz)
    nz.add_argument("--seeds", default="0-3")
    nz.add_argument("--trunc", type=float, default=1.0)
    nz.add_argument("--k", type=int, default=16, help="noise realisations for the std map")
    nz.add_argument("--noise-seed", type=int, default=0)
    nz.add_argument("--quiet", action="store_true", help="no progress lines (the result line stays)")
    nz.add_argument("--out", default="out/noise.png")
    nz.set_defaults(func=cmd_noise)
