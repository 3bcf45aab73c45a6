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
    strengths = _floats(args.strengths)
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


def _unique_names(paths: list[str]) -> list[str]:
    """File stems, made unique with the argument index where two images share one."""
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else f"{s}_{i}" for i, s in enumerate(stems)]


def cmd_project(args) -> int:
    import jax
    from tqdm import tqdm

    from latentjax import load_generator
    from latentjax.generate import iter_batches
    from latentjax.images import make_grid, save_png, to_uint8
    from latentjax.project import ProjectConfig, evaluate, image_keys, project
    from latentjax.targets import load_targets, save_animation

    if args.steps < 1:
        raise ValueError("--steps must be >= 1")
    G = load_generator(args.model, args.network)
    targets = load_targets(args.images, G.config.resolution, 3 if G.config.img_channels == 3 else 1)
    every = max(1, args.steps // max(1, args.video_frames)) if args.save_video else 0
    config = ProjectConfig(
        initial_learning_rate=args.lr,
        regularize_noise_weight=args.noise_reg,
        optimize_noise=not args.fixed_noise,
        perceptual=args.perceptual,
        mse_weight=args.mse_weight,
        mse_steps=args.mse_steps,
        record_every=every,
    )
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    names = _unique_names(args.images)
    direction = strengths = None
    if args.edit:  # paper 001: project, then move the projected latent along a direction (e.g. age)
        from latentjax.directions import load_direction
        from latentjax.figures import edit_strip, edited_ws

        direction, strengths = load_direction(args.edit), _floats(args.strengths)
        if direction.space == "z":
            raise ValueError("a projection has no z: use a w / w+ direction with --edit")
    keys_all = image_keys(jax.random.key(args.seed), len(targets))  # image i: fold_in(seed key, i), any --batch
    for start in range(0, len(targets), args.batch):
        tgt = targets[start : start + args.batch]
        keys = keys_all[start : start + len(tgt)]
        desc = ", ".join(names[start : start + len(tgt)])
        with tqdm(total=args.steps, desc=desc[:40], unit="step", disable=args.quiet) as bar:

            def show(step, loss, bar=bar):
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.mean()):.4f}")

            try:
                res = project(G, tgt, args.space, args.steps, config, key=keys, progress=show)
            except FloatingPointError as e:
                raise ValueError(str(e)) from None
        # Saved images render ws with the model's stored noise, as `generate --ws` (and NVIDIA's projector) do.
        lp_const, _, imgs = evaluate(G, res.ws, tgt)
        for j in range(len(tgt)):
            name = names[start + j]
            extra = {} if res.w is None else {"w": res.w[j : j + 1]}
            noise = {} if res.noise is None else {f"noise{k:02d}": m[j : j + 1] for k, m in enumerate(res.noise)}
            np.savez(
                out / f"{name}.npz",
                ws=res.ws[j : j + 1],
                **extra,
                **noise,
                space=np.array(args.space),
                steps=np.array(args.steps),
                lpips=np.float32(res.lpips[j]),
                lpips_const_noise=np.float32(lp_const[j]),
                loss=res.loss[:, j],
            )
            proj, target = to_uint8(imgs[j : j + 1])[0], to_uint8(tgt[j : j + 1])[0]
            save_png(out / f"{name}_proj.png", proj)
            save_png(out / f"{name}_compare.png", make_grid(np.stack([target, proj]), cols=2))
            msg = f"{name}: lpips {res.lpips[j]:.4f}"
            if res.noise is not None:
                msg += f" (optimised noise), {lp_const[j]:.4f} (stored noise, as saved)"
            if every:
                frames = np.concatenate(list(iter_batches(G, res.ws_history[:, j], 8)))
                strip = np.concatenate([np.broadcast_to(target, (len(frames), *target.shape)), to_uint8(frames)], 2)
                msg += f", video {save_animation(out / f'{name}_proj', strip).name}"
            if direction is not None:
                edits = edited_ws(G, direction, strengths, ws=res.ws[j : j + 1])  # [S, 1, num_ws, w_dim]
                save_png(out / f"{name}_edit.png", edit_strip(G, edits))
                np.savez(out / f"{name}_edit.npz", ws=edits[:, 0], strengths=np.asarray(strengths, np.float32))
                msg += f", edit {out / f'{name}_edit.png'}"
            print(msg)
    print(f"projected {len(targets)} image(s) into {args.space} ({args.steps} steps): {out}")
    return 0


def _jsonable(x):
    """Dataclasses / numpy / tuples -> JSON values."""
    import dataclasses

    if dataclasses.is_dataclass(x):
        return {f.name: _jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def _write_json(path: str | None, payload: dict) -> None:
    import json

    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(_jsonable(payload), indent=1))
        print(f"wrote {path}")


def _labelled(args, G):
    """The latents + probabilities a metric runs on: a dataset, sampled and classified, or --probs."""
    from latentjax import load_classifier
    from latentjax.metrics.sample import from_dataset, sample_labelled, with_probs

    if args.data:
        data = from_dataset(args.data)
    elif args.probs or args.labels == "exact":  # no classifier needed
        data = sample_labelled(
            G, args.n, args.seed, args.trunc, "exact" if not args.probs else "none", None, args.batch
        )
    else:
        clf = load_classifier(args.classifier)
        data = sample_labelled(G, args.n, args.seed, args.trunc, "classifier", clf, args.batch, not args.quiet)
    if args.probs:
        data = with_probs(data, np.load(args.probs), args.attributes.split(",") if args.attributes else None)
    return data


def cmd_metrics(args) -> int:
    from latentjax import load_generator

    G = None if getattr(args, "data", None) else load_generator(args.model, args.network)
    header = {"metric": args.metric, "model": args.model, "space": args.space}
    if args.metric == "ppl":
        from latentjax.metrics.ppl import perceptual_path_length

        r = perceptual_path_length(
            G,
            num_samples=args.n,
            space=args.space,
            sampling=args.sampling,
            epsilon=args.epsilon,
            crop=args.crop,
            batch=args.batch,
            seed=args.seed,
            truncation_psi=args.trunc,
            noise_mode=args.noise_mode,
            progress=not args.quiet,
        )
        print(f"PPL {args.space}-{args.sampling}: {r.mean:.4g} (std {r.std:.4g}, {r.num_samples} samples)")
        _write_json(args.out, {**header, "trunc": args.trunc, "result": r})
        return 0
    data = _labelled(args, G)
    x, names = data.latents(args.space), data.attributes
    header.update(n=len(x), labels=data.source, trunc=args.trunc, attributes=names)
    if args.metric == "separability":
        from latentjax.metrics.separability import linear_separability

        r = linear_separability(x, data.probs, engine=args.engine, C=args.C, attributes=names)
        for a, s in zip(names, r.per_attribute):
            print(f"{a:16s} exp(H) {s:.4f}")
        print(f"linear separability ({args.space}, {args.engine}): {r.score:.4f}")
        _write_json(args.out, {**header, "engine": args.engine, "result": r})
    elif args.metric == "scores":
        from latentjax.directions.pca import pca
        from latentjax.directions.scores import cv_scores, svm_accuracy_split

        cv = cv_scores(x, data.labels, folds=args.folds, C=args.C)
        svm = svm_accuracy_split(x, data.labels, test_fraction=args.test_fraction)
        ratio = np.asarray(pca(x, min(x.shape)).explained_variance_ratio)
        for i, a in enumerate(names):
            print(f"{a:16s} AUC {cv.auc[i]:.3f}  balanced acc {cv.balanced_accuracy[i]:.3f}  SVM {svm.accuracy[i]:.3f}")
        print(
            f"mean AUC {cv.auc.mean():.3f}, balanced accuracy {cv.balanced_accuracy.mean():.3f}; SVM accuracy "
            f"min {svm.min:.3f} max {svm.max:.3f} mean {svm.mean:.3f}; PCA: 10 PCs explain {ratio[:10].sum():.3f}"
        )
        _write_json(
            args.out, {**header, "cv": cv, "svm": svm, "pca_explained_variance_ratio": ratio, "folds": args.folds}
        )
    else:
        from latentjax.metrics.dci import dci

        r = dci(x, data.labels, method=args.method, alpha=args.alpha, weighting=args.weighting)
        print(
            f"DCI ({args.space}, {args.method}): disentanglement {r.disentanglement:.3f}, completeness "
            f"{r.completeness:.3f}, informativeness {r.informativeness:.3f} (error {r.prediction_error:.3f})"
        )
        _write_json(args.out, {**header, "method": args.method, "result": r})
    return 0


def cmd_flow_train(args) -> int:
    from latentjax import load_classifier, load_generator
    from latentjax.flow import FlowConfig, FlowTrainConfig, fit_wstar, save_flow
    from latentjax.metrics.sample import from_dataset, sample_labelled

    G = None if args.data and args.space == "w" else load_generator(args.model, args.network)
    if args.data:
        data = from_dataset(args.data)
    else:
        data = sample_labelled(G, args.n, args.seed, args.trunc, "classifier", load_classifier(args.classifier))
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

    fl = sub.add_parser("flow", help="W*: RealNVP flow of paper 002").add_subparsers(dest="action", required=True)
    ft = fl.add_parser("train", help="train T: W(+) -> W* against fixed linear attribute classifiers")
    _model_arg(ft)
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

    mt = sub.add_parser("metrics", help="linear separability, PPL, classification scores, DCI")
    msub = mt.add_subparsers(dest="metric", required=True)
    helps = {
        "separability": "linear separability exp(sum H(Y|X)) (StyleGAN, NVIDIA's protocol)",
        "ppl": "perceptual path length (StyleGAN): Z slerp / W lerp, full / end",
        "scores": "AUC + balanced accuracy (k-fold CV), SVM accuracy (80/20), PCA explained variance",
        "dci": "disentanglement / completeness / informativeness (Lasso or GBT)",
    }
    for name, text in helps.items():
        q = msub.add_parser(name, help=text)
        _model_arg(q)
        q.add_argument("--space", choices=["z", "w"], default="w", help="W: the mapping output (NVIDIA's dlatent)")
        q.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default: %(default)s)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--batch", type=int, default=256 if name != "ppl" else 32)
        q.add_argument("--out", default=None, help="write the result as JSON here")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
        q.set_defaults(func=cmd_metrics)
        if name == "ppl":
            q.add_argument("--n", type=int, default=100000, help="pairs (NVIDIA: 100k v1, 50k v2)")
            q.add_argument("--sampling", choices=["full", "end"], default="full")
            q.add_argument("--epsilon", type=float, default=1e-4)
            q.add_argument("--crop", action="store_true", help="NVIDIA's FFHQ face crop")
            q.add_argument(
                "--noise-mode", choices=["random", "const", "none"], default="random", help="shared within a pair"
            )
            continue
        q.add_argument("--n", type=int, default=200000 if name == "separability" else 10000, help="latents")
        q.add_argument("--labels", choices=["classifier", "exact"], default="classifier", help="exact: toyfaces")
        q.add_argument("--classifier", default="toyfaces")
        q.add_argument("--data", default=None, help="a `latentjax sample` directory instead of sampling")
        q.add_argument("--probs", default=None, help=".npy [N, A] probabilities of the sampled rows (your labels)")
        q.add_argument("--attributes", default=None, help="comma-separated names for --probs columns")
        if name == "separability":
            q.add_argument("--engine", choices=["jax", "sklearn"], default="jax")
            q.add_argument("--C", type=float, default=1.0, help="LinearSVC C (NVIDIA: 1)")
        elif name == "scores":
            q.add_argument("--folds", type=int, default=10)
            q.add_argument("--C", type=float, default=0.1, help="L1 logistic C (paper 000: 0.1)")
            q.add_argument("--test-fraction", type=float, default=0.2)
        else:
            q.add_argument("--method", choices=["lasso", "gbt"], default="lasso")
            q.add_argument("--alpha", type=float, default=0.05, help="Lasso alpha (paper 002: 0.05)")
            q.add_argument("--weighting", choices=["mean", "factor"], default="mean", help="completeness average")

    pj = sub.add_parser("project", help="project images into W / W+ (NVIDIA's projector, batched)")
    _model_arg(pj)
    pj.add_argument("images", nargs="+", help="target image files (any mode Pillow reads; centre-cropped)")
    pj.add_argument("--space", choices=["w", "w+"], default="w", help="W (NVIDIA's) or W+ (default: %(default)s)")
    pj.add_argument("--steps", type=int, default=1000)
    pj.add_argument("--lr", type=float, default=0.1, help="initial learning rate (default: %(default)s)")
    pj.add_argument("--perceptual", choices=["lpips", "vgg", "none"], default="lpips", help="vgg: relu3_3 MSE")
    pj.add_argument("--mse-weight", type=float, default=0.0, help="pixel MSE weight (default: %(default)s)")
    pj.add_argument("--mse-steps", type=int, default=0, help="first steps with pixel MSE only (paper 001)")
    pj.add_argument("--noise-reg", type=float, default=1e5, help="noise regularisation weight (default: 1e5)")
    pj.add_argument("--fixed-noise", action="store_true", help="keep the stored noise maps instead of optimising")
    pj.add_argument("--seed", type=int, default=303, help="initial noise maps / latent noise (default: %(default)s)")
    pj.add_argument("--batch", type=int, default=4, help="images optimised together (default: %(default)s)")
    pj.add_argument("--edit", default=None, help="direction .npz: also write NAME_edit.png/.npz (project, then edit)")
    pj.add_argument("--strengths", default="-3,-1.5,0,1.5,3", help="--edit lambda values (use --strengths=-3,0,3)")
    pj.add_argument("--save-video", action="store_true", help="NAME_proj.mp4 (imageio+ffmpeg) or .gif (Pillow)")
    pj.add_argument("--video-frames", type=int, default=100, help="about this many frames (default: %(default)s)")
    pj.add_argument("--outdir", default="out/project")
    pj.add_argument("--quiet", action="store_true", help="no progress bar")
    pj.set_defaults(func=cmd_project)

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
