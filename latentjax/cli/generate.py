"""`latentjax generate`: render images from seeds or saved latents."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentjax.cli._common import distributed_args, model_args, start_distributed, vec2


def cmd_generate(args) -> int:
    from tqdm import tqdm

    from latentjax import load_generator
    from latentjax.distributed import allgather_arrays
    from latentjax.media import make_grid, save_png, to_uint8
    from latentjax.render import iter_batches, load_ws
    from latentjax.seeds import parse_seeds, z_from_seeds
    from latentjax.sharding import process_block

    start_distributed(args)
    G = load_generator(args.model, args.network)
    if args.translate is not None or args.rotate is not None:
        G = G.with_transform(args.translate or (0.0, 0.0), args.rotate or 0.0)
    out = Path(args.outdir)
    if args.ws:
        ws, zs, seeds = load_ws(args.ws, G), None, None
        names = [f"ws{i:04d}" for i in range(len(ws))]
    else:
        seeds = parse_seeds(args.seeds)
        zs = z_from_seeds(seeds, G.config.z_dim)
        ws = np.concatenate(
            [
                np.asarray(G.mapping(zs[i : i + args.batch], args.trunc, args.trunc_cutoff))
                for i in range(0, len(zs), args.batch)
            ]
        )
        names = [f"seed{s:04d}" for s in seeds]
    out.mkdir(parents=True, exist_ok=True)  # only now: bad --seeds / --ws / --trunc leave no empty folder
    import jax

    key = jax.random.key(args.noise_seed) if args.noise_mode == "random" else None
    # Several processes: each renders a block of whole batches (the same batches, so the same
    # pixels, as one process) and writes its own PNGs; process 0 writes grid.png and latents.npz.
    b0, b1 = process_block(-(-len(ws) // args.batch))
    lo, hi = b0 * args.batch, min(b1 * args.batch, len(ws))
    first = jax.process_index() == 0
    thumbs = []
    with tqdm(total=hi - lo, unit="img", disable=args.quiet or not first or hi - lo < 2 * args.batch) as bar:
        done = lo
        for imgs in iter_batches(G, ws[lo:hi], args.batch, args.noise_mode, key, first_batch=b0):
            px = to_uint8(imgs)
            for img in px:
                save_png(out / f"{names[done]}.png", img)
                thumbs.append(img)
                done += 1
            bar.update(len(px))
    c = G.config
    mine = np.stack(thumbs) if thumbs else np.zeros((0, c.resolution, c.resolution, c.img_channels), np.uint8)
    everything = allgather_arrays({"px": mine}, "gathering images for grid.png")["px"]
    if not first:
        return 0
    save_png(out / "grid.png", make_grid(everything, args.grid_cols))
    extra = {} if zs is None else {"z": zs, "seeds": np.asarray(seeds)}
    np.savez(out / "latents.npz", ws=ws, **extra)
    print(f"wrote {len(ws)} images, grid.png and latents.npz to {out}")
    return 0


def register(sub) -> None:
    g = sub.add_parser("generate", help="render images from seeds or saved latents")
    model_args(g)
    g.add_argument("--seeds", default="0-15", help="e.g. 0-63 or 1,5,7-9 (default: %(default)s)")
    g.add_argument("--ws", default=None, help=".npz with 'ws' [N,num_ws,w_dim] or 'w' [N,w_dim] instead of seeds")
    g.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default: %(default)s)")
    g.add_argument("--trunc-cutoff", type=int, default=None, help="truncate layers < this (default: all)")
    g.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    g.add_argument("--noise-seed", type=int, default=0, help="key for --noise-mode random")
    g.add_argument(
        "--translate", type=vec2, default=None, metavar="X,Y", help="StyleGAN3 only: translate the image, e.g. 0.3,1"
    )
    g.add_argument("--rotate", type=float, default=None, metavar="DEG", help="StyleGAN3 only: rotation angle")
    g.add_argument("--batch", type=int, default=16)
    g.add_argument("--grid-cols", type=int, default=None)
    g.add_argument("--outdir", default="out")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    distributed_args(g)
    g.set_defaults(func=cmd_generate)
