"""`latentjax project`: project images into W / W+."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentjax.cli._common import distributed_args, floats, model_args, start_distributed, unique_names


def cmd_project(args) -> int:
    import jax
    from tqdm import tqdm

    from latentjax import load_generator, validate
    from latentjax.media import make_grid, save_animation, save_png, to_uint8
    from latentjax.projector import ProjectConfig, evaluate, image_keys, project
    from latentjax.render import iter_batches
    from latentjax.sharding import process_block
    from latentjax.targets import prepare_targets

    if args.steps < 1:
        raise ValueError("--steps must be >= 1")
    start_distributed(args)
    G = load_generator(args.model, args.network)
    prepared = prepare_targets(args.images, G.config.resolution, 3 if G.config.img_channels == 3 else 1)
    targets = np.concatenate([t.pixels for t in prepared])
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
    names = unique_names(args.images)
    for name, t in zip(names, prepared):  # say what was converted (mode, crop, resize) before the long part
        if t.notes and not args.quiet and jax.process_index() == 0:
            print(f"{name}: {', '.join(t.notes)}")
    direction = strengths = None
    if args.edit:  # paper 001: project, then move the projected latent along a direction (e.g. age)
        from latentjax.directions import load_direction
        from latentjax.figures import edit_strip, edited_ws

        direction, strengths = load_direction(args.edit), floats(args.strengths)
        if direction.space == "z":
            raise ValueError("a projection has no z: use a w / w+ direction with --edit")
        validate.direction_for(direction, G.config.z_dim, G.config.w_dim, G.config.num_ws, args.edit)
    out.mkdir(parents=True, exist_ok=True)  # after every input is checked: a refused run leaves no folder
    keys_all = image_keys(jax.random.key(args.seed), len(targets))  # image i: fold_in(seed key, i), any --batch
    # Several processes: each projects a block of whole batches (image i keeps its key) and writes its files.
    b0, b1 = process_block(-(-len(targets) // args.batch))
    for start in range(b0 * args.batch, min(b1 * args.batch, len(targets)), args.batch):
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
    from latentjax.distributed import barrier

    barrier("finishing the projections")
    if jax.process_index() == 0:
        print(f"projected {len(targets)} image(s) into {args.space} ({args.steps} steps): {out}")
    return 0


def register(sub) -> None:
    pj = sub.add_parser("project", help="project images into W / W+ (NVIDIA's projector, batched)")
    model_args(pj)
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
    distributed_args(pj)
    pj.set_defaults(func=cmd_project)
