"""`latentjax project`: project images into W / W+."""

from __future__ import annotations

from pathlib import Path

from latentjax.cli._common import distributed_args, floats, model_args, progress_bar, start_distributed
from latentjax.latent_types import MAPPED


def cmd_project(args) -> int:
    import jax

    from latentjax import load_generator
    from latentjax.projector import ProjectConfig
    from latentjax.workflows import project_images

    if args.steps < 1:
        raise ValueError("--steps must be >= 1")
    start_distributed(args)
    G = load_generator(args.model, args.network)
    config = ProjectConfig(
        initial_learning_rate=args.lr,
        regularize_noise_weight=args.noise_reg,
        optimize_noise=not args.fixed_noise,
        perceptual=args.perceptual,
        mse_weight=args.mse_weight,
        mse_steps=args.mse_steps,
        anchor_input=args.anchor_input,
        fit_transform=args.fit_transform,
        transform_lr_mul=args.transform_lr_mul,
    )
    first = jax.process_index() == 0
    bar = progress_bar(disabled=args.quiet, unit="step")

    def show(ev) -> None:
        if ev.stage == "prepared" and ev.notes and not args.quiet and first:
            print(f"{ev.names[0]}: {', '.join(ev.notes)}")
        elif ev.stage == "step":
            bar.desc = ", ".join(ev.names)[:40]
            bar(ev.step, ev.steps, loss=ev.loss)
            if ev.step == ev.steps:
                bar.close()
        elif ev.stage == "done":
            r = ev.image
            msg = f"{r.name}: lpips {r.lpips:.4f}"
            if r.lpips_const_noise is not None:
                msg += f" (optimised noise), {r.lpips_const_noise:.4f} (stored noise, as saved)"
            if r.transform is not None:
                x, y, deg = r.transform
                msg += f", input transform --translate {x:.4f},{y:.4f} --rotate {deg:.2f}"
            if r.video is not None:
                msg += f", video {r.video.name}"
            if r.edit is not None:
                msg += f", edit {r.edit}"
            print(msg)

    project_images(
        G,
        args.images,
        args.outdir,
        space=args.space,
        steps=args.steps,
        config=config,
        batch=args.batch,
        seed=args.seed,
        video_frames=args.video_frames if args.save_video else 0,
        edit=args.edit,
        strengths=floats(args.strengths),
        progress=show,
    )
    if first:
        print(f"projected {len(args.images)} image(s) into {args.space} ({args.steps} steps): {Path(args.outdir)}")
    return 0


def register(sub) -> None:
    pj = sub.add_parser("project", help="project images into W / W+ (NVIDIA's projector, batched)")
    model_args(pj)
    pj.add_argument("images", nargs="+", help="target image files (any mode Pillow reads; centre-cropped)")
    pj.add_argument("--space", choices=MAPPED, default="w", help="W (NVIDIA's) or W+ (default: %(default)s)")
    pj.add_argument("--steps", type=int, default=1000)
    pj.add_argument("--lr", type=float, default=0.1, help="initial learning rate (default: %(default)s)")
    pj.add_argument("--perceptual", choices=["lpips", "vgg", "none"], default="lpips", help="vgg: relu3_3 MSE")
    pj.add_argument("--mse-weight", type=float, default=0.0, help="pixel MSE weight (default: %(default)s)")
    pj.add_argument("--mse-steps", type=int, default=0, help="first steps with pixel MSE only (paper 001)")
    pj.add_argument("--noise-reg", type=float, default=1e5, help="noise regularisation weight (default: 1e5)")
    pj.add_argument("--fixed-noise", action="store_true", help="keep the stored noise maps instead of optimising")
    pj.add_argument(
        "--anchor-input", action="store_true", help="StyleGAN3: the Fourier input's affine reads w_avg (W+ row 0)"
    )
    pj.add_argument(
        "--fit-transform", action="store_true", help="StyleGAN3: fit rotation + translation of the input per image"
    )
    pj.add_argument("--transform-lr-mul", type=float, default=0.1, help="--fit-transform lr / latent lr (%(default)s)")
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
