"""`latentjax` command line: parses arguments, calls the library, prints. No math here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "toyfaces-sg2"


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        "-m",
        default=DEFAULT_MODEL,
        help="official pickle, converted checkpoint dir, or shipped model name (default: %(default)s)",
    )
    p.add_argument("--network", default=None, help="pickle entry to use (default Gs for TF, G_ema for PyTorch)")


def cmd_generate(args) -> int:
    from tqdm import tqdm

    from latentjax import load_generator
    from latentjax.generate import iter_batches, load_ws
    from latentjax.images import make_grid, save_png, to_uint8
    from latentjax.seeds import parse_seeds, z_from_seeds

    G = load_generator(args.model, args.network)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
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
    import jax

    key = jax.random.key(args.noise_seed) if args.noise_mode == "random" else None
    thumbs = []
    with tqdm(total=len(ws), unit="img", disable=args.quiet or len(ws) < 2 * args.batch) as bar:
        done = 0
        for imgs in iter_batches(G, ws, args.batch, args.noise_mode, key):
            px = to_uint8(imgs)
            for img in px:
                save_png(out / f"{names[done]}.png", img)
                thumbs.append(img)
                done += 1
            bar.update(len(px))
    save_png(out / "grid.png", make_grid(np.stack(thumbs), args.grid_cols))
    extra = {} if zs is None else {"z": zs, "seeds": np.asarray(seeds)}
    np.savez(out / "latents.npz", ws=ws, **extra)
    print(f"wrote {len(ws)} images, grid.png and latents.npz to {out}")
    return 0


def cmd_convert(args) -> int:
    from latentjax.checkpoint import save_generator
    from latentjax.convert import read_generator_pickle

    cfg, variables = read_generator_pickle(args.pickle, args.network)
    out = save_generator(args.outdir, cfg, variables, overwrite=args.overwrite)
    print(f"converted {args.pickle} ({cfg.arch}, {cfg.resolution}x{cfg.resolution}) -> {out}")
    return 0


def cmd_info(args) -> int:
    from latentjax import load_generator

    G = load_generator(args.model, args.network)
    c = G.config
    print(f"architecture : {c.arch}")
    print(f"resolution   : {c.resolution}x{c.resolution}, {c.img_channels} channels")
    print(f"latents      : z_dim {c.z_dim}, w_dim {c.w_dim}, num_ws {c.num_ws}")
    print(f"mapping      : {c.mapping_layers} layers x {c.mapping_fmaps}, lr_mul {c.mapping_lr_mul}")
    print("channels     : " + ", ".join(f"{r}:{ch}" for r, ch in zip(c.block_resolutions, c.channels)))
    if c.arch == "stylegan":
        print(f"fused up     : {', '.join(str(r) for r, f in zip(c.block_resolutions[1:], c.fused_up) if f) or 'none'}")
    if c.conv_clamp is not None:
        print(f"conv clamp   : {c.conv_clamp}")
    print(f"noise inputs : {len(G.noise_shapes)} ({', '.join(f'{h}x{w}' for h, w in G.noise_shapes)})")
    print(f"parameters   : {G.num_params:,}")
    return 0


def cmd_mix(args) -> int:
    from latentjax import load_generator
    from latentjax.figures import style_mixing_grid
    from latentjax.images import save_png
    from latentjax.seeds import parse_seeds

    G = load_generator(args.model, args.network)
    grid = style_mixing_grid(
        G, parse_seeds(args.rows), parse_seeds(args.cols), args.layers, args.trunc, args.noise_mode
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_png(out, grid)
    print(f"wrote {out} (rows {args.rows} take layers {args.layers} from columns {args.cols})")
    return 0


def cmd_interpolate(args) -> int:
    from PIL import Image

    from latentjax import load_generator
    from latentjax.figures import interpolation_frames
    from latentjax.images import make_grid, save_png
    from latentjax.seeds import parse_seeds

    G = load_generator(args.model, args.network)
    frames = interpolation_frames(G, parse_seeds(args.seeds), args.steps, args.space, args.trunc, args.noise_mode)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":  # an animation with Pillow alone: no video codec to install
        imgs = [Image.fromarray(f) for f in frames]
        imgs[0].save(out, save_all=True, append_images=imgs[1:] + imgs[-2:0:-1], duration=args.frame_ms, loop=0)
    else:
        save_png(out, make_grid(frames, args.steps if args.cols is None else args.cols))
    print(f"wrote {out}: {len(frames)} frames, {args.space}-space {'slerp' if args.space == 'z' else 'lerp'}")
    return 0


def cmd_noise(args) -> int:
    from latentjax import load_generator
    from latentjax.figures import noise_figure
    from latentjax.images import save_png
    from latentjax.seeds import parse_seeds

    G = load_generator(args.model, args.network)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_png(out, noise_figure(G, parse_seeds(args.seeds), args.trunc, args.k, args.noise_seed))
    print(f"wrote {out}: columns = noise on all / none / coarse / fine layers, std over {args.k} noise draws")
    return 0


def _floats(spec: str) -> list[float]:
    try:
        return [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"bad number list {spec!r} (use e.g. -3,-1.5,0,1.5,3)") from None


def cmd_sample(args) -> int:
    from latentjax import load_classifier, load_generator
    from latentjax.dataset import SampleConfig, sample_dataset

    G = load_generator(args.model, args.network)
    clf = None if args.classifier == "none" else load_classifier(args.classifier)
    cfg = SampleConfig(
        n=args.n,
        batch=args.batch,
        shard_size=args.shard_size,
        seed=args.seed,
        psi=args.trunc,
        save_ws=args.save_ws,
        thumbnails=args.thumbnails,
        noise_mode=args.noise_mode,
    )
    rep = sample_dataset(G, args.out, cfg, clf, progress=not args.quiet)
    print(
        f"{rep.rows} rows in {rep.shards} shards at {rep.out_dir} ({len(rep.written)} written now, "
        f"{rep.skipped} already done) in {rep.seconds:.1f}s"
    )
    return 0


def cmd_edit(args) -> int:
    from latentjax import load_generator
    from latentjax.directions import load_direction
    from latentjax.figures import edit_strip, edited_ws, resolve_layers
    from latentjax.generate import load_ws
    from latentjax.images import save_png
    from latentjax.seeds import parse_seeds, z_from_seeds

    G = load_generator(args.model, args.network)
    d = load_direction(args.direction)
    strengths = _floats(args.strengths)
    layers = None if args.layers is None else resolve_layers(args.layers, G.config.num_ws)
    if args.ws:
        z, ws = None, load_ws(args.ws, G)
    else:
        z, ws = z_from_seeds(parse_seeds(args.seeds), G.config.z_dim), None
    edits = edited_ws(G, d, strengths, z=z, ws=ws, psi=args.trunc, layers=layers)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    save_png(out / "edit.png", edit_strip(G, edits, args.noise_mode))
    np.savez(out / "edited.npz", ws=edits.reshape(-1, *edits.shape[2:]), strengths=np.repeat(strengths, edits.shape[1]))
    print(
        f"edited {edits.shape[1]} latents along {d.attribute or args.direction} ({d.space}, {d.method}) at "
        f"strengths {strengths}: {out / 'edit.png'} (rows = latents), {out / 'edited.npz'}"
    )
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="latentjax", description="StyleGAN / StyleGAN2 latent-space toolkit (JAX)")
    sub = ap.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="render images from seeds or saved latents")
    _model_arg(g)
    g.add_argument("--seeds", default="0-15", help="e.g. 0-63 or 1,5,7-9 (default: %(default)s)")
    g.add_argument("--ws", default=None, help=".npz with 'ws' [N,num_ws,w_dim] or 'w' [N,w_dim] instead of seeds")
    g.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default: %(default)s)")
    g.add_argument("--trunc-cutoff", type=int, default=None, help="truncate layers < this (default: all)")
    g.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    g.add_argument("--noise-seed", type=int, default=0, help="key for --noise-mode random")
    g.add_argument("--batch", type=int, default=16)
    g.add_argument("--grid-cols", type=int, default=None)
    g.add_argument("--outdir", default="out")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_generate)

    m = sub.add_parser("mix", help="style-mixing grid (StyleGAN Fig. 3): rows take columns' layers")
    _model_arg(m)
    m.add_argument("--rows", default="0-4", help="destination seeds (default: %(default)s)")
    m.add_argument("--cols", default="5-9", help="source seeds whose layers are copied (default: %(default)s)")
    m.add_argument("--layers", default="coarse", help="coarse|middle|fine|all, unions 'coarse,middle' or rows '0-3'")
    m.add_argument("--trunc", type=float, default=1.0)
    m.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    m.add_argument("--out", default="out/mix.png")
    m.set_defaults(func=cmd_mix)

    it = sub.add_parser("interpolate", help="interpolation strip (.png) or animation (.gif) through seeds")
    _model_arg(it)
    it.add_argument("--seeds", default="0-3", help="keyframe seeds, in order (default: %(default)s)")
    it.add_argument("--steps", type=int, default=8, help="frames per segment (default: %(default)s)")
    it.add_argument("--space", choices=["z", "w"], default="w", help="slerp in Z or lerp in W (default: w)")
    it.add_argument("--trunc", type=float, default=1.0)
    it.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    it.add_argument("--cols", type=int, default=None, help="strip columns (default: steps per segment)")
    it.add_argument("--frame-ms", type=int, default=80, help="gif frame duration")
    it.add_argument("--out", default="out/interpolation.png")
    it.set_defaults(func=cmd_interpolate)

    nz = sub.add_parser("noise", help="noise on all/none/coarse/fine layers + stochastic variation (Fig. 4-5)")
    _model_arg(nz)
    nz.add_argument("--seeds", default="0-3")
    nz.add_argument("--trunc", type=float, default=1.0)
    nz.add_argument("--k", type=int, default=16, help="noise realisations for the std map")
    nz.add_argument("--noise-seed", type=int, default=0)
    nz.add_argument("--out", default="out/noise.png")
    nz.set_defaults(func=cmd_noise)

    sp = sub.add_parser("sample", help="latent dataset: z, w (+ W+, thumbnails) and classifier probabilities")
    _model_arg(sp)
    sp.add_argument("--n", type=int, required=True, help="rows")
    sp.add_argument("--out", required=True, help="directory (a killed run resumes where it stopped)")
    sp.add_argument("--classifier", default="toyfaces", help="attribute classifier name/dir, or 'none'")
    sp.add_argument("--batch", type=int, default=256)
    sp.add_argument("--shard-size", type=int, default=10000)
    sp.add_argument("--seed", type=int, default=0, help="row i's z depends only on (seed, i)")
    sp.add_argument("--trunc", type=float, default=1.0)
    sp.add_argument("--save-ws", action="store_true", help="also store W+ [num_ws, w_dim] per row")
    sp.add_argument("--thumbnails", type=int, default=0, help="thumbnail side in pixels (0 = none)")
    sp.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=cmd_sample)

    e = sub.add_parser("edit", help="edit latents along a saved direction: w' = w + lambda d (strip + latents)")
    _model_arg(e)
    e.add_argument("--direction", required=True, help="direction .npz (latentjax directions fit)")
    e.add_argument("--seeds", default="0-3")
    e.add_argument("--ws", default=None, help=".npz with 'ws' or 'w' (e.g. a projection) instead of seeds")
    e.add_argument("--strengths", default="-3,-1.5,0,1.5,3", help="lambda values (default: %(default)s)")
    e.add_argument("--layers", default=None, help="coarse|middle|fine|rows '0-3' (default: the direction's)")
    e.add_argument("--trunc", type=float, default=1.0)
    e.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    e.add_argument("--outdir", default="out/edit")
    e.set_defaults(func=cmd_edit)

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

    c = sub.add_parser("convert", help="convert an official pickle to an orbax checkpoint directory")
    c.add_argument("pickle")
    c.add_argument("outdir")
    c.add_argument("--network", default=None, help="Gs/G/D (TF) or G_ema/G (PyTorch); default Gs / G_ema")
    c.add_argument("--overwrite", action="store_true")
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("info", help="print architecture, resolution, latent sizes, parameter count")
    i.add_argument("model")
    i.add_argument("--network", default=None)
    i.set_defaults(func=lambda a: cmd_info(argparse.Namespace(model=a.model, network=a.network)))
    return ap


def main(argv: list[str] | None = None) -> int:
    from latentjax.errors import LoadError

    args = build_parser().parse_args(argv)
    if getattr(args, "batch", 1) < 1:
        print("error: --batch must be >= 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (LoadError, ValueError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
