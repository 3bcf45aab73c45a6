"""Image files -> projected latents and pictures in a folder (`latentjax project`).

Per image NAME (the file stem, made unique), written as soon as its batch is done:
  NAME.npz          ws [1, num_ws, w_dim] (+ w [1, w_dim] in space "w"), the optimised noise maps
                    noiseKK [1, H, W], space, steps, lpips, lpips_const_noise, loss [steps]; StyleGAN3
                    with fit_transform: transform [1, 3] (translate x, y, rotate degrees), with which
                    every picture below is rendered (`generate --ws --translate x,y --rotate deg`)
  NAME_proj.png     ws rendered with the model's stored noise, as `generate --ws` and NVIDIA's projector
  NAME_compare.png  target | projection
  NAME_proj.mp4/.gif  with `video_frames`: target | the projection every steps/video_frames steps
  NAME_edit.png/.npz  with `edit`: the projection moved along a direction (paper 001: project, then edit)
Unlike `latentjax.invert` (photos: FFHQ alignment, PSNR, JSON reports) this is NVIDIA's projector on
centre-cropped images. Progress goes through a callback, never printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentjax.generator import Generator
from latentjax.latent_types import MAPPED, Z, check_space
from latentjax.projector import ProjectConfig


@dataclass(frozen=True)
class ProjectedImage:
    """One image's outcome: lpips with the optimised noise, lpips_const_noise with the stored noise (as
    saved; None when the noise was not optimised), and the animation / edit strip paths when written."""

    name: str
    lpips: float
    lpips_const_noise: float | None
    video: Path | None = None
    edit: Path | None = None
    transform: tuple[float, float, float] | None = None  # StyleGAN3 fit_transform: (x, y, degrees)


@dataclass(frozen=True)
class ProjectionProgress:
    """stage "prepared" (an image read: `name`, `notes` of what was converted), "step" (a batch finished
    optimisation step `step` of `steps` with mean `loss`; `names` are its images), "done" (`image`)."""

    stage: str
    names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    step: int = 0
    steps: int = 0
    loss: float | None = None
    image: ProjectedImage | None = field(default=None, repr=False)


def project_images(
    G: Generator,
    images: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    space: str = "w",
    steps: int = 1000,
    config: ProjectConfig | None = None,
    batch: int = 4,
    seed: int = 303,
    video_frames: int = 0,
    edit=None,
    strengths: Sequence[float] = (-3, -1.5, 0, 1.5, 3),
    progress: Callable[[ProjectionProgress], None] | None = None,
) -> list[ProjectedImage]:
    """Project image files into `space` ("w" or "w+"), `batch` images per jit-compiled step, and write
    the files of the module docstring to `outdir` (made only once every input is checked).

    Image i's random draws come from fold_in(key(seed), i), so its result does not depend on `batch`.
    config: the optimiser (default NVIDIA's `ProjectConfig()`). video_frames > 0: an animation of about
    that many frames. edit: a W / W+ `Direction` (or its .npz file) applied at `strengths` to each
    projection. Several processes: each projects a block of whole batches and writes its images' files;
    the call returns when all are done. Returns this process's images, in order.
    """
    import dataclasses

    import jax

    from latentjax import validate
    from latentjax.distributed import barrier
    from latentjax.invert import output_names
    from latentjax.projector import check_sg3_options, image_keys
    from latentjax.sharding import process_block
    from latentjax.targets import prepare_targets

    check_space(space, MAPPED)
    check_sg3_options(config or ProjectConfig(), G.config)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError("--steps must be >= 1")
    report = progress or (lambda _: None)
    prepared = prepare_targets(images, G.config.resolution, 3 if G.config.img_channels == 3 else 1)
    targets = np.concatenate([t.pixels for t in prepared])
    names = output_names(images)
    for name, t in zip(names, prepared):  # what was converted (mode, crop, resize), before the long part
        report(ProjectionProgress("prepared", (name,), tuple(t.notes)))
    every = max(1, steps // max(1, video_frames)) if video_frames else 0
    config = dataclasses.replace(config or ProjectConfig(), record_every=every)  # NVIDIA's by default
    if isinstance(edit, (str, os.PathLike)):
        from latentjax.directions import load_direction

        edit, edit_name = load_direction(edit), str(edit)
    else:
        edit_name = "direction"
    if edit is not None:  # paper 001: project, then move the projected latent along a direction (e.g. age)
        if edit.space == Z:
            raise ValueError("a projection has no z: use a w / w+ direction with --edit")
        validate.direction_for(edit, G.config.z_dim, G.config.w_dim, G.config.num_ws, edit_name)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)  # after every input is checked: a refused run leaves no folder
    keys_all = image_keys(jax.random.key(seed), len(targets))  # image i: fold_in(seed key, i), any batch
    done = []
    b0, b1 = process_block(-(-len(targets) // batch))
    for start in range(b0 * batch, min(b1 * batch, len(targets)), batch):
        part = names[start : start + batch]
        done += _project_batch(
            G,
            targets[start : start + len(part)],
            part,
            keys_all[start : start + len(part)],
            out,
            space,
            steps,
            config,
            edit,
            strengths,
            report,
        )
    barrier("finishing the projections")
    return done


def _project_batch(G, tgt, names, keys, out, space, steps, config, edit, strengths, report) -> list[ProjectedImage]:
    from latentjax.figures import edit_strip, edited_ws
    from latentjax.media import make_grid, save_animation, save_png, to_uint8
    from latentjax.projector import evaluate, project
    from latentjax.render import iter_batches

    names = tuple(names)

    def on_step(step, loss):
        report(ProjectionProgress("step", names, step=step + 1, steps=steps, loss=float(np.mean(loss))))

    try:
        res = project(G, tgt, space, steps, config, key=keys, progress=on_step)
    except FloatingPointError as e:
        raise ValueError(str(e)) from None
    # Saved images render ws with the model's stored noise, as `generate --ws` (and NVIDIA's projector) do.
    lp_const, _, imgs = evaluate(G, res.ws, tgt, transform=res.transform)
    results = []
    for j, name in enumerate(names):
        extra = {} if res.w is None else {"w": res.w[j : j + 1]}
        Gj, tj = G, None  # a fitted StyleGAN3 input transform renders this image's video and edits too
        if res.transform is not None:
            tj = tuple(float(v) for v in res.transform[j])
            extra["transform"] = res.transform[j : j + 1]
            Gj = G.with_transform(tj[:2], tj[2])
        noise = {} if res.noise is None else {f"noise{k:02d}": m[j : j + 1] for k, m in enumerate(res.noise)}
        np.savez(
            out / f"{name}.npz",
            ws=res.ws[j : j + 1],
            **extra,
            **noise,
            space=np.array(space),
            steps=np.array(steps),
            lpips=np.float32(res.lpips[j]),
            lpips_const_noise=np.float32(lp_const[j]),
            loss=res.loss[:, j],
        )
        proj, target = to_uint8(imgs[j : j + 1])[0], to_uint8(tgt[j : j + 1])[0]
        save_png(out / f"{name}_proj.png", proj)
        save_png(out / f"{name}_compare.png", make_grid(np.stack([target, proj]), cols=2))
        video = edit_png = None
        if config.record_every:
            frames = np.concatenate(list(iter_batches(Gj, res.ws_history[:, j], 8)))
            strip = np.concatenate([np.broadcast_to(target, (len(frames), *target.shape)), to_uint8(frames)], 2)
            video = save_animation(out / f"{name}_proj", strip)
        if edit is not None:
            edits = edited_ws(G, edit, strengths, ws=res.ws[j : j + 1])  # [S, 1, num_ws, w_dim]
            edit_png = out / f"{name}_edit.png"
            save_png(edit_png, edit_strip(Gj, edits))
            np.savez(out / f"{name}_edit.npz", ws=edits[:, 0], strengths=np.asarray(strengths, np.float32))
        const = None if res.noise is None else float(lp_const[j])
        r = ProjectedImage(name, float(res.lpips[j]), const, video, edit_png, tj)
        results.append(r)
        report(ProjectionProgress("done", (name,), image=r))
    return results
