"""Photo -> editable latent in one call (`latentjax invert`): align, project, write, measure.

    invert(["me.jpg", "you.png"], G, outdir="inv/")   # inv/me.npz, me.png, me_compare.png, me.json, ...

Per image: read it (any mode Pillow reads; `latentjax.targets` says what it converted and refuses
what cannot work), align the face to the generator's resolution (`latentjax.align`, NVIDIA's FFHQ
recipe: dlib's landmarks when the [faces] extra is installed, or given ones), then project the
targets `batch` at a time (`latentjax.projector.project`, one jit-compiled step for the batch) and
measure and write the result:

  NAME.npz          ws [1, num_ws, w_dim] (what `generate --ws` and `edit --ws` read; + w in space "w"),
                    the optimised noise maps noiseKK [1, H, W], space, steps, lpips, psnr, loss [steps]
  NAME.png          the reconstruction: ws rendered with the model's stored noise, as `generate --ws` does
  NAME_compare.png  target (aligned, as projected) | reconstruction, side by side
  NAME.json         source, notes (conversions, alignment), PSNR and LPIPS of the reconstruction (and
                    with the optimised noise), seconds (alignment + this image's share of its batch)

Images of a batch are optimised together but independently (see `projector`), and image i's random
draws come from fold_in(key(seed), i), so the result of an image does not depend on `batch`.
A photo that cannot be used (unreadable, too small, no face found) gets an `InvertResult` with
`error` and no files; the others go on. Progress is reported through a callback, never printed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentjax.errors import InputError, MissingExtraError
from latentjax.generator import Generator
from latentjax.latent_types import check_space
from latentjax.projector import SPACES, ProjectConfig

# W+ with a pixel term: reports/projection.md's best setting for faces the generator never made
# (the studio's too). NVIDIA's own projector is ProjectConfig() in "w".
DEFAULT_CONFIG = ProjectConfig(mse_weight=1.0)
DEFAULT_STEPS = 1000  # NVIDIA's projector
NOT_ALIGNED = "not aligned: the faces extra is not installed ({extra}); centre crop"


@dataclass(frozen=True)
class InvertResult:
    """One source image. On success: ws [num_ws, w_dim]; w [w_dim] (space "w") or None; noise
    [[H, W] per layer] (optimised maps) or None; target / reconstruction uint8 [R, R, C] (the
    reconstruction rendered with the stored noise, what the saved latent gives back); psnr (dB, [-1, 1]
    images, peak-to-peak 2) and lpips of the reconstruction, and of the optimised-noise image; seconds
    (alignment + 1/n of its batch's projection); notes (what was converted, how it was aligned);
    outputs (files written). On failure: `error` (one line naming the file), nothing else."""

    name: str
    source: str
    notes: tuple[str, ...] = ()
    ws: np.ndarray | None = field(default=None, repr=False)
    w: np.ndarray | None = field(default=None, repr=False)
    noise: list[np.ndarray] | None = field(default=None, repr=False)
    target: np.ndarray | None = field(default=None, repr=False)
    reconstruction: np.ndarray | None = field(default=None, repr=False)
    psnr: float | None = None
    lpips: float | None = None
    psnr_optimised_noise: float | None = None
    lpips_optimised_noise: float | None = None
    loss: np.ndarray | None = field(default=None, repr=False)
    seconds: float | None = None
    outputs: tuple[Path, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class InvertProgress:
    """A progress report: stage "prepared" (one image read and aligned; `result` has its notes, or its
    error), "compiling" (a batch's first step, which compiles, is about to run), "step" (a batch finished
    optimisation step `step` of `steps`, mean loss `loss`), "measuring" (rendering and scoring the batch's
    reconstructions), "done" (one image finished: `result`)."""

    stage: str
    names: tuple[str, ...] = ()
    step: int = 0
    steps: int = 0
    loss: float | None = None
    result: InvertResult | None = None


def psnr(images: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """[N] PSNR in dB of images vs targets, both [N, H, W, C] on the [-1, 1] scale (peak-to-peak 2;
    images clipped first, as saved). Identical images give inf."""
    mse = np.mean(np.square(np.clip(images, -1.0, 1.0) - targets, dtype=np.float64), axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(4.0 / mse)


def output_names(sources: Sequence, names: Sequence[str] | None = None) -> list[str]:
    """File stems for the sources: given names, file stems (made unique with the index), or imageK."""
    if names is not None:
        if len(names) != len(sources) or len(set(names)) != len(names):
            raise ValueError(f"names must be {len(sources)} distinct strings, got {list(names)}")
        bad = [n for n in names if not n or os.sep in n or n in (".", "..")]
        if bad:
            raise ValueError(f"names must be plain file stems, got {bad}")
        return list(names)
    stems = [Path(s).stem if isinstance(s, (str, os.PathLike)) else f"image{i}" for i, s in enumerate(sources)]
    return [s if stems.count(s) == 1 else f"{s}_{i}" for i, s in enumerate(stems)]


def _resolve_align(align: bool | None, landmarks) -> tuple[bool, str | None]:
    """(align or not, a note for every image when alignment was wanted but cannot run)."""
    from latentjax.align import FACES_EXTRA, faces_available

    if align is False:
        return False, None
    if landmarks is not None or faces_available():
        return True, None
    if align is True:
        raise MissingExtraError(f"aligning faces needs dlib: {FACES_EXTRA}, or give landmarks, or align=False")
    return False, NOT_ALIGNED.format(extra=FACES_EXTRA)


def _read_source(src) -> tuple[np.ndarray, tuple[str, ...]]:
    """A path or an array -> ([H, W, 1|3] float32 in [0, 1], notes). Arrays: uint8, or float in [0, 1]."""
    from latentjax.targets import read_image_with_notes

    if isinstance(src, (str, os.PathLike)):
        return read_image_with_notes(src)
    a = np.asarray(src)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3):
        raise InputError(f"image must be [H, W], [H, W, 1] or [H, W, 3], got shape {list(a.shape)}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0, ()
    if not np.issubdtype(a.dtype, np.floating) or not (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1):
        raise InputError(f"image must be uint8 or float in [0, 1], got {a.dtype}")
    return a.astype(np.float32), ()


def _faces_for(src, name: str, landmarks) -> np.ndarray | None:
    """The given landmarks of a source (first face of its entry), or None to detect with dlib."""
    if landmarks is None:
        return None
    from latentjax.align import read_landmarks_json

    table = read_landmarks_json(landmarks) if isinstance(landmarks, (str, os.PathLike)) else landmarks
    keys = [name] if not isinstance(src, (str, os.PathLike)) else [str(src), Path(src).name, name]
    for k in keys:
        if k in table:
            entry = table[k]
            return np.asarray(entry[0] if np.asarray(entry[0]).ndim == 2 else entry, np.float64)
    raise InputError(f"no entry for it in the landmarks (keys tried: {keys})")


def prepare(src, name: str, G: Generator, *, align: bool, landmarks=None, note: str | None = None):
    """One source -> (target [1, R, R, C] in [-1, 1], notes). Aligns (FFHQ recipe at the generator's
    resolution) when `align`; InputError naming the source when it cannot be used."""
    from latentjax.targets import to_target

    cfg = G.config
    channels = 3 if cfg.img_channels == 3 else 1
    where = str(src) if isinstance(src, (str, os.PathLike)) else name
    try:
        a, notes = _read_source(src)
        notes = list(notes)
        if align:
            from latentjax.align import align_face

            photo = np.rint(a * 255.0).astype(np.uint8)  # 8 bits, as align.load_photo (FFHQ is 8-bit)
            lm = _faces_for(src, name, landmarks)
            try:
                face = align_face(photo[..., 0] if photo.shape[-1] == 1 else photo, lm, size=cfg.resolution)
            except InputError as e:
                raise InputError(f"{e}; --no-align (align=False) projects the photo as it is") from None
            h, w = a.shape[:2]
            how = "given landmarks" if face.score is None else f"dlib score {face.score:.2f}"
            notes.append(f"aligned (FFHQ, {how}): {w}x{h} -> {cfg.resolution}x{cfg.resolution}")
            a = face.image.astype(np.float32) / 255.0
            if channels == 3 and photo.shape[-1] == 1:
                notes.append("greyscale -> RGB")
        elif note:
            notes.append(note)
        target = to_target(a, cfg.resolution, channels, notes)
    except InputError as e:
        msg = str(e)
        raise InputError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    except ValueError as e:  # bad landmarks, too small, ...
        raise InputError(f"{where}: {e}") from None
    return target.pixels, target.notes


def _write_outputs(res: InvertResult, outdir: Path, meta: Mapping, space: str, steps: int) -> tuple[Path, ...]:
    """NAME.npz / NAME.png / NAME_compare.png / NAME.json, each written atomically."""
    from PIL import Image

    from latentjax.io import atomic_write_file, write_json
    from latentjax.media import make_grid

    def png(path: Path, pixels: np.ndarray) -> Path:
        img = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        return atomic_write_file(path, lambda f: img.save(f, format="PNG"))

    arrays = {"ws": res.ws[None]}
    if res.w is not None:
        arrays["w"] = res.w[None]
    if res.noise is not None:
        arrays.update({f"noise{k:02d}": m[None] for k, m in enumerate(res.noise)})
    arrays.update(
        space=np.array(space),
        steps=np.array(steps),
        lpips=np.float32(res.lpips),
        psnr=np.float32(res.psnr),
        lpips_optimised_noise=np.float32(res.lpips_optimised_noise),
        loss=res.loss,
    )
    outdir.mkdir(parents=True, exist_ok=True)  # only once there is something to write
    base = outdir / res.name
    files = [
        atomic_write_file(base.with_name(f"{res.name}.npz"), lambda f: np.savez(f, **arrays)),
        png(base.with_name(f"{res.name}.png"), res.reconstruction),
        png(base.with_name(f"{res.name}_compare.png"), make_grid(np.stack([res.target, res.reconstruction]), cols=2)),
    ]
    report = {
        "source": res.source,
        **dict(meta),
        "space": space,
        "steps": steps,
        "notes": list(res.notes),
        "psnr": _finite(res.psnr),
        "lpips": res.lpips,
        "psnr_optimised_noise": _finite(res.psnr_optimised_noise),
        "lpips_optimised_noise": res.lpips_optimised_noise,
        "seconds": res.seconds,
        "loss_first": float(res.loss[0]),
        "loss_last": float(res.loss[-1]),
        "files": [p.name for p in files] + [f"{res.name}.json"],
        "measured": "psnr / lpips: the reconstruction (ws with the model's stored noise, as NAME.png and "
        "`generate --ws`) vs the target as projected; *_optimised_noise: with the optimised noise maps",
    }
    files.append(write_json(base.with_name(f"{res.name}.json"), report))
    return tuple(files)


def _finite(x: float) -> float | str:
    return x if math.isfinite(x) else "inf"  # JSON has no infinity; identical images only


def invert(
    sources: Sequence,
    G: Generator,
    *,
    space: str = "w+",
    steps: int = DEFAULT_STEPS,
    align: bool | None = None,
    landmarks: str | os.PathLike | Mapping | None = None,
    config: ProjectConfig = DEFAULT_CONFIG,
    batch: int = 4,
    seed: int = 303,
    outdir: str | os.PathLike | None = None,
    names: Sequence[str] | None = None,
    meta: Mapping | None = None,
    progress: Callable[[InvertProgress], None] | None = None,
    lpips_params: dict | None = None,
) -> list[InvertResult]:
    """Invert photos (paths, or uint8 / [0, 1] float arrays [H, W, C]) into G's `space` ("w" or "w+").

    align: True (FFHQ alignment; MissingExtraError before any work without dlib or `landmarks`), False
    (centre crop, as `latentjax project`), None (align when the [faces] extra or landmarks are there,
    else centre crop with a note on every image). landmarks: a landmarks JSON file or its table (see
    `latentjax.align.read_landmarks_json`; the first face of each entry). outdir: write each image's
    files there (module docstring) as soon as its batch is done; None writes nothing. meta: extra JSON
    fields (e.g. the model). progress(InvertProgress) is called as images are prepared, every step and
    when each image is done. Returns one InvertResult per source, in order.
    """
    import jax

    from latentjax.media import to_uint8
    from latentjax.perceptual import load_lpips_params
    from latentjax.projector import evaluate, image_keys, project

    check_space(space, SPACES)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not (isinstance(batch, int) and batch >= 1):
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if len(sources) == 0:
        raise ValueError("no images given")
    stems = output_names(sources, names)
    aligning, note = _resolve_align(align, landmarks)
    if landmarks is not None and isinstance(landmarks, (str, os.PathLike)):
        from latentjax.align import read_landmarks_json

        landmarks = read_landmarks_json(landmarks)  # once, and bad files fail before any work
    out = None
    if outdir is not None:
        out = Path(outdir)
        own = {Path(s).resolve() for s in sources if isinstance(s, (str, os.PathLike))}
        clash = [s for s in stems for suf in (".png", ".npz", ".json") if (out / f"{s}{suf}").resolve() in own]
        if clash:
            raise InputError(f"{out / (clash[0] + '.png')}: would overwrite a source image; choose another outdir")
    report = progress or (lambda _: None)
    meta = dict(meta or {})

    results: list[InvertResult | None] = [None] * len(sources)
    ready = []  # (index, target [1, R, R, C], notes, seconds spent preparing)
    for i, (src, name) in enumerate(zip(sources, stems)):
        t0 = time.perf_counter()
        label = str(src) if isinstance(src, (str, os.PathLike)) else name
        try:
            target, notes = prepare(src, name, G, align=aligning, landmarks=landmarks, note=note)
        except InputError as e:
            results[i] = InvertResult(name=name, source=label, error=str(e))
            report(InvertProgress("prepared", (name,), result=results[i]))
            continue
        ready.append((i, target, notes, time.perf_counter() - t0))
        report(InvertProgress("prepared", (name,), result=InvertResult(name=name, source=label, notes=notes)))

    lp = load_lpips_params() if lpips_params is None else lpips_params
    keys_all = image_keys(jax.random.key(seed), len(sources))  # image i: fold_in(key, i)
    for start in range(0, len(ready), batch):
        part = ready[start : start + batch]
        idx = [i for i, *_ in part]
        tgt = np.concatenate([t for _, t, _, _ in part])
        names_b = tuple(stems[i] for i in idx)
        t0 = time.perf_counter()
        report(InvertProgress("compiling", names_b, 0, steps))

        def on_step(step: int, loss: np.ndarray, names_b=names_b) -> None:
            report(InvertProgress("step", names_b, step + 1, steps, float(np.mean(loss))))

        try:
            res = project(
                G, tgt, space, steps, config, key=keys_all[np.asarray(idx)], progress=on_step, lpips_params=lp
            )
        except FloatingPointError as e:
            raise ValueError(str(e)) from None
        report(InvertProgress("measuring", names_b, steps, steps))
        # The saved latent renders with the model's stored noise (generate --ws): measure that image.
        lp_const, _, imgs = evaluate(G, res.ws, tgt, loss_resolution=config.loss_resolution, lpips_params=lp)
        share = (time.perf_counter() - t0) / len(part)
        p_const, p_opt = psnr(imgs, tgt), psnr(res.images, tgt)

        for j, (i, _, notes, prep_s) in enumerate(part):
            src = sources[i]
            r = InvertResult(
                name=stems[i],
                source=str(src) if isinstance(src, (str, os.PathLike)) else stems[i],
                notes=notes,
                ws=res.ws[j],
                w=None if res.w is None else res.w[j],
                noise=None if res.noise is None else [m[j] for m in res.noise],
                target=to_uint8(tgt[j : j + 1])[0],
                reconstruction=to_uint8(imgs[j : j + 1])[0],
                psnr=float(p_const[j]),
                lpips=float(lp_const[j]),
                psnr_optimised_noise=float(p_opt[j]),
                lpips_optimised_noise=float(res.lpips[j]),
                loss=res.loss[:, j],
                seconds=prep_s + share,
            )
            if out is not None:
                files = _write_outputs(r, out, meta, space, steps)
                r = dataclasses.replace(r, outputs=files)
            results[i] = r
            report(InvertProgress("done", (r.name,), steps, steps, result=r))
    return results
