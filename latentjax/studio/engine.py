"""The studio's engine: the state behind the page (directions, stored latents, background jobs)
and the only module of `latentjax.studio` that calls the rest of latentjax.

    Studio(G, name, directions_dir)
      .render(RenderSettings) -> uint8 [H, W, C]    what `latentjax edit` writes for the same settings
      .make_direction(name, positive, negative)    L1-logistic direction in W from a few examples
      .start_inversion(image bytes) -> job id      align (if available), `invert.invert` into W+, new latent ID

A render is the library's own pipeline, step by step: seed -> z exactly as `latentjax generate`
(`seeds.z_from_seeds`), z-space directions shifted in (`edit.shift`), `G.mapping` with the
truncation, optional style mix with a second seed (`latent.style_mix`, rows >= crossover), each
W direction added with its strength on its layers (`figures.edited_ws`, the function behind
`latentjax edit`), `G.synthesis(noise_mode="const")` at batch 1, `media.to_uint8`. With one
direction this is the same sequence of float operations as `latentjax edit --seeds S
--strengths=L --trunc P`, so the pixels are identical (tests compare them).

Concurrency: every device call goes through one `DeviceGate` (renders one at a time, before
any waiting projection step); the registries of directions and latents sit behind a lock.
"""

from __future__ import annotations

import io
import itertools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from latentjax.studio.gate import DeviceGate
from latentjax.studio.jobs import Job, JobQueue
from latentjax.studio.params import MAX_SEED, RenderSettings, RequestError, check_name, parse_seed

# Paper 000 fits its L1 logistic regression with C = 0.1 on thousands of labels. sklearn's objective
# is |beta|_1 + C * sum_i loss_i, so the penalty's weight against the *mean* loss is 1 / (C N): we keep
# C N = 200 (C = 0.1 at 2000 labels, 10 at 20 clicks) so a handful of clicks is not regularised to zero.
FEWSHOT_C_TIMES_N = 200.0
MIN_EXAMPLES, MAX_EXAMPLES = 5, 1000
MAX_UPLOAD_BYTES = 20 * 2**20  # 20 MB per uploaded file
FALLBACK_MAX_PIXELS = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS, used if someone set it to None
MAX_WORK_SIDE = 4096  # larger 8-bit photos are box-reduced first: the target is <= 1024^2 anyway
MAX_UPLOAD_LATENTS = 64
DEFAULT_INVERT_STEPS = 100  # NVIDIA's projector runs 1000; a tenth gets the face, not the last details
SPREAD_SAMPLES = 1000  # w samples that set each slider's scale (std of w . d)
MAP_CHUNK = 64  # mapping batch for examples and samples: one compiled program
CACHE_SIZE = 256  # rendered PNGs kept (same settings -> same bytes; directions and latents never change)


@dataclass(frozen=True)
class DirectionEntry:
    """A loaded or fitted direction, where it came from, and its slider scale."""

    name: str
    direction: object  # latentjax.directions.Direction
    source: str  # "file:<path>" or "studio" (fitted here; saved to `path` if a directory was given)
    std: float  # std of the projection of sampled latents on the vector: one slider unit

    def to_json(self, num_ws: int) -> dict:
        d = self.direction
        return {
            "name": self.name,
            "space": d.space,
            "layers": None if d.layers is None else list(d.layers),
            "layer_label": layer_label(d.space, d.layers, num_ws),
            "attribute": d.attribute,
            "method": d.method,
            "source": self.source,
            "std": self.std,
            "hyperparameters": d.hyperparameters,
            "metrics": d.metrics,
        }


def layer_label(space: str, layers, num_ws: int) -> str:
    """'z (all rows)', 'rows 0-9 (all)', 'rows 0-3 (coarse)', 'rows 1, 5'."""
    from latentjax.latent import BANDS, layer_set

    if space == "z":
        return "z (all rows)"
    rows = list(range(num_ws)) if layers is None else sorted(layers)
    if not rows:
        return "no rows"
    named = [b for b in BANDS if list(layer_set(b, num_ws)) == rows]
    contiguous = rows == list(range(rows[0], rows[-1] + 1))
    span = f"rows {rows[0]}-{rows[-1]}" if contiguous and len(rows) > 1 else "rows " + ", ".join(map(str, rows))
    if len(rows) == num_ws:
        return f"{span} (all)"
    return f"{span} ({named[0]})" if named else span


def encode_png(pixels: np.ndarray) -> bytes:
    """uint8 [H, W, C] -> PNG bytes, the same image `media.save_png` writes (C = 1 -> grayscale)."""
    buf = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(buf, format="PNG")
    return buf.getvalue()


def open_upload_image(data: bytes) -> Image.Image:
    """Uploaded bytes -> a loaded Pillow image, or RequestError: 400 not an image, 413 too large / bomb.

    The pixel count is checked from the header, before anything is decompressed (Pillow's
    MAX_IMAGE_PIXELS: over it Pillow only warns, over twice it raises; we refuse both).
    """
    if not data:
        raise RequestError("the upload is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise RequestError(f"the upload is {len(data) / 2**20:.1f} MB, over the 20 MB limit", status=413)
    limit = Image.MAX_IMAGE_PIXELS or FALLBACK_MAX_PIXELS
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        if w * h > limit:
            raise RequestError(
                f"image is {w}x{h} = {w * h:,} pixels, over the decompression-bomb limit ({limit:,}): refused", 413
            )
        img.load()
    except RequestError:
        raise
    except Image.DecompressionBombError as e:
        raise RequestError(f"decompression bomb refused: {e}", status=413) from None
    except Exception as e:  # any decoder failure on untrusted bytes is the upload's fault
        raise RequestError(f"the upload is not an image Pillow can read ({type(e).__name__}: {e})") from None
    if img.width == 0 or img.height == 0:
        raise RequestError("the image is empty (0 pixels)")
    img = ImageOps.exif_transpose(img)
    side = max(img.size)
    if side > MAX_WORK_SIDE and img.mode in ("RGB", "RGBA", "L", "LA"):
        img = img.reduce(math.ceil(side / MAX_WORK_SIDE))
    return img


def faces_available() -> bool:
    """True when `latentjax.align` and its [faces] extra (dlib + the landmark model) are installed."""
    try:
        from latentjax.align import faces_available as available
    except ImportError:
        return False
    return available()


def align_if_available(img: Image.Image, size: int) -> tuple[Image.Image, str]:
    """FFHQ alignment (`latentjax.align.align_face`, dlib's best-scored face) to size x size when the
    [faces] extra is installed. Returns the image to project and a note for the page; without the
    extra, or when no face is found, the photo is used as it is (centre-cropped, as `latentjax project`).
    """
    if not faces_available():
        return img, 'not aligned: the faces extra is not installed (pip install -e ".[faces]"); centre crop'
    from latentjax.align import align_face
    from latentjax.targets import image_to_float

    a = np.rint(image_to_float(img) * 255.0).astype(np.uint8)  # 8-bit RGB / grey, as align.load_photo
    try:
        face = align_face(a[..., 0] if a.shape[-1] == 1 else a, size=size)
    except ImportError as e:  # MissingExtraError: the extra is half installed
        return img, f"not aligned ({e}); centre crop"
    except ValueError as e:  # InputError: no face found; a face too small to align
        return img, f"not aligned ({e}); centre crop"
    score = "" if face.score is None else f", dlib score {face.score:.2f}"
    return Image.fromarray(face.image), f"aligned (FFHQ{score})"


def image_target(img: Image.Image, resolution: int, channels: int) -> np.ndarray:
    """Pillow image -> projection target [1, R, R, channels] float32 in [-1, 1], as `targets.load_target`."""
    from latentjax.targets import image_to_float, to_target

    return to_target(image_to_float(img), resolution, channels).pixels


class Studio:
    """The editor's state around one loaded generator `G` (see the module docstring).

    directions_dir: where directions are read from at start (every *.npz in it that is a
    direction for this generator) and where fitted ones are saved; None keeps them in memory.
    invert_steps / project_config: the projection schedule of `start_inversion` (W+).
    """

    def __init__(
        self,
        G,
        name: str,
        directions_dir: str | Path | None = None,
        invert_steps: int = DEFAULT_INVERT_STEPS,
        project_config=None,
        log: Callable[[str], None] | None = None,
    ):
        from latentjax.projector import ProjectConfig

        if invert_steps < 1:
            raise ValueError(f"invert_steps must be >= 1, got {invert_steps}")
        self.G, self.name = G, name
        self.directions_dir = None if directions_dir is None else Path(directions_dir)
        self.invert_steps = int(invert_steps)
        # W+ with a pixel term: the projection report's best setting for faces the generator never made.
        self.project_config = project_config or ProjectConfig(mse_weight=1.0)
        self._log = log or (lambda msg: None)
        self.gate = DeviceGate()
        self.jobs = JobQueue(log=self._log)
        self._lock = threading.Lock()  # directions, latents, cache
        self._directions: dict[str, DirectionEntry] = {}
        self._latents: dict[str, np.ndarray] = {}  # id -> ws [num_ws, w_dim] float32
        self._latent_ids = itertools.count(1)
        self._cache: OrderedDict[RenderSettings, bytes] = OrderedDict()
        self._z_sample, self._w_sample = self._spread_samples()
        if self.directions_dir is not None and self.directions_dir.is_dir():
            self.load_directions(self.directions_dir)

    @classmethod
    def open(cls, model: str, network: str | None = None, **kw) -> Studio:
        """Load `model` (pickle, converted directory or shipped name) and build a Studio on it."""
        from latentjax.load import load_generator

        G = load_generator(model, network)
        return cls(G, G.config.name or Path(model).stem, **kw)

    # ---- directions -------------------------------------------------------------------------------

    def _spread_samples(self) -> tuple[np.ndarray, np.ndarray]:
        """SPREAD_SAMPLES z (RandomState(0)) and their w = mapping(z)[:, 0] (psi 1)."""
        z = np.random.RandomState(0).randn(SPREAD_SAMPLES, self.G.config.z_dim).astype(np.float32)
        with self.gate.render():
            return z, self._map_w(z)

    def _map_w(self, z: np.ndarray) -> np.ndarray:
        """z [n, z_dim] -> w [n, w_dim] without truncation, in padded chunks (one compiled program)."""
        from latentjax.sharding import map_batches

        return map_batches(lambda chunk: self.G.mapping(chunk)[:, 0], z, MAP_CHUNK)

    def spread(self, vector, space: str = "w") -> float:
        """Std of sampled latents projected on a direction's vector: the strength that moves one std
        (the slider's unit). vector: [z_dim] for space "z", [w_dim] or [L, w_dim] otherwise."""
        v = np.asarray(vector, np.float64)
        if space == "z":
            x = self._z_sample @ v
        else:  # mapped w is the same on every row, so a per-layer vector acts through its row sum
            x = self._w_sample @ (v if v.ndim == 1 else v.sum(axis=0))
        s = float(np.std(x))
        return s if s > 0 else 1.0

    def _check_fits(self, d) -> None:
        cfg = self.G.config
        v = d.vector
        if d.space == "z":
            want = (cfg.z_dim,)
        elif v.ndim == 1:
            want = (cfg.w_dim,)
        else:
            want = (cfg.num_ws if d.layers is None else len(d.layers), cfg.w_dim)
        if v.shape != want:
            raise ValueError(f"its {d.space} vector has shape {v.shape}, this generator needs {want}")
        if d.layers is not None and any(r >= cfg.num_ws for r in d.layers):
            raise ValueError(f"its layers {list(d.layers)} exceed this generator's {cfg.num_ws} W+ rows")

    def load_directions(self, directory: Path) -> list[str]:
        """Register every direction file in `directory` that fits this generator; returns their names.

        Files that are not directions, do not fit (another model's width) or whose stem is not a
        usable name are skipped with a log line, never fatal: a directory may hold other .npz files.
        """
        from latentjax.directions import load_direction

        added = []
        for path in sorted(Path(directory).glob("*.npz")):
            try:
                name = check_name(path.stem)
                d = load_direction(path)
                self._check_fits(d)
            except (ValueError, OSError) as e:
                self._log(f"skipped {path.name}: {e}")
                continue
            with self._lock:
                if name in self._directions:
                    continue
                self._directions[name] = DirectionEntry(name, d, f"file:{path}", self.spread(d.vector, d.space))
            added.append(name)
        return added

    @property
    def direction_names(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._directions)

    def direction(self, name: str) -> DirectionEntry:
        with self._lock:
            if name not in self._directions:
                raise RequestError(f"unknown direction {name!r}", status=404)
            return self._directions[name]

    def _examples(self, values, what: str) -> list:
        """JSON list of seeds (ints) / latent IDs (strings) -> validated list."""
        if not isinstance(values, list):
            raise RequestError(f"{what} must be a list of seeds (integers) or latent IDs (strings)")
        if not MIN_EXAMPLES <= len(values) <= MAX_EXAMPLES:
            raise RequestError(f"{what} needs {MIN_EXAMPLES} to {MAX_EXAMPLES} examples, got {len(values)}")
        out = []
        for v in values:
            if isinstance(v, str):
                with self._lock:
                    if v not in self._latents:
                        raise RequestError(f"{what}: unknown latent ID {v!r}", status=404)
                out.append(v)
            else:
                out.append(parse_seed(f"{what} seed", v))
        if len(set(out)) != len(out):
            raise RequestError(f"{what} lists the same example twice")
        return out

    def _example_w(self, examples: list) -> np.ndarray:
        """[n, w_dim]: a seed's w = mapping(z)[:, 0] (no truncation, as `latentjax sample` stores it);
        a latent's w = the mean of its W+ rows."""
        from latentjax.seeds import z_from_seeds

        seeds = [e for e in examples if not isinstance(e, str)]
        with self.gate.render():
            w_seeds = self._map_w(z_from_seeds(seeds, self.G.config.z_dim)) if seeds else None
        it = iter(w_seeds if w_seeds is not None else [])
        with self._lock:
            return np.stack([self._latents[e].mean(axis=0) if isinstance(e, str) else next(it) for e in examples])

    def make_direction(self, name, positive, negative) -> dict:
        """Fit an L1-logistic direction in W on positive vs negative examples (>= 5 each), save it as
        `directions_dir/<name>.npz` (the `latentjax directions fit` format), register it. Returns its
        JSON entry. RequestError: bad name / examples (400), name taken (409), unknown latent (404)."""
        from latentjax.directions import Direction, logistic_direction, save_direction

        name = check_name(name)
        pos, neg = self._examples(positive, "positive"), self._examples(negative, "negative")
        both = set(pos) & set(neg)
        if both:
            raise RequestError(f"examples cannot be both positive and negative: {sorted(map(str, both))}")
        path = None if self.directions_dir is None else self.directions_dir / f"{name}.npz"
        self._check_free(name, path)
        w = self._example_w(pos + neg)
        labels = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
        C = FEWSHOT_C_TIMES_N / len(labels)
        try:
            r = logistic_direction(w, labels, C=C, penalty="l1")
        except ValueError as e:
            raise RequestError(f"cannot fit a direction on these examples: {e}") from None
        d = Direction(
            r.direction,
            "w",
            None,
            "logistic",
            name,
            {"C": C, "penalty": "l1", "positive": pos, "negative": neg},
            {
                "train_accuracy": r.train_accuracy,
                "nonzero": r.nonzero,
                "num_positive": len(pos),
                "num_negative": len(neg),
            },
        )
        entry = DirectionEntry(name, d, "studio" if path is None else f"file:{path}", self.spread(d.vector, d.space))
        with self._lock:
            self._check_free(name, path, locked=True)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_direction(path, d)
            self._directions[name] = entry
        return entry.to_json(self.G.config.num_ws)

    def _check_free(self, name: str, path: Path | None, locked: bool = False) -> None:
        if not locked:
            with self._lock:
                return self._check_free(name, path, locked=True)
        if name in self._directions:
            raise RequestError(f"a direction named {name!r} exists already: choose another name", status=409)
        if path is not None and path.exists():
            raise RequestError(f"{path} exists already: choose another name", status=409)

    # ---- latents ------------------------------------------------------------------------------

    def add_latent(self, ws: np.ndarray, kind: str = "latent") -> str:
        """Register one W+ latent [num_ws, w_dim]; returns its new ID (e.g. 'photo1')."""
        cfg = self.G.config
        ws = np.asarray(ws, np.float32)
        if ws.shape != (cfg.num_ws, cfg.w_dim) or not np.isfinite(ws).all():
            raise RequestError(f"a latent must be finite [{cfg.num_ws}, {cfg.w_dim}], got {ws.shape}")
        with self._lock:
            latent_id = f"{kind}{next(self._latent_ids)}"
            self._latents[latent_id] = ws
        return latent_id

    def add_latents_npz(self, data: bytes) -> list[str]:
        """An uploaded .npz with 'ws' [N, num_ws, w_dim] or 'w' [N, w_dim] (what `latentjax project` and
        `generate` write) -> new latent IDs. Read with allow_pickle=False: nothing in it can run."""
        cfg = self.G.config
        if len(data) > MAX_UPLOAD_BYTES:
            raise RequestError("the upload is over the 20 MB limit", status=413)
        # A zip bomb would inflate far past the upload: the member's declared size is checked first.
        most = MAX_UPLOAD_LATENTS * cfg.num_ws * cfg.w_dim * 8 + 4096  # float64 ws plus the .npy header
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as f:
                key = "ws" if "ws" in f else "w" if "w" in f else None
                if key is None:
                    raise RequestError("the .npz needs an array 'ws' [N, num_ws, w_dim] or 'w' [N, w_dim]")
                size = f.zip.getinfo(f"{key}.npy").file_size
                if size > most:
                    raise RequestError(f"'{key}' unpacks to {size:,} bytes: over {MAX_UPLOAD_LATENTS} latents", 413)
                ws = np.asarray(f[key])
                if key == "w":
                    ws = np.repeat(ws[:, None], cfg.num_ws, axis=1) if ws.ndim == 2 else ws
        except RequestError:
            raise
        except Exception as e:
            raise RequestError(f"not a readable .npz of latents ({type(e).__name__}: {e})") from None
        if ws.ndim == 2:
            ws = ws[None]
        if ws.dtype.kind != "f" or ws.ndim != 3 or ws.shape[1:] != (cfg.num_ws, cfg.w_dim):
            raise RequestError(f"ws must be float [N, {cfg.num_ws}, {cfg.w_dim}], got {ws.dtype} {ws.shape}")
        if not 1 <= len(ws) <= MAX_UPLOAD_LATENTS:
            raise RequestError(f"upload 1 to {MAX_UPLOAD_LATENTS} latents at a time, got {len(ws)}")
        return [self.add_latent(x, "upload") for x in ws]

    def latent_npz(self, latent_id: str) -> bytes:
        """A stored latent as .npz ('ws' [1, num_ws, w_dim]): `latentjax edit --ws` / `generate --ws` read it."""
        buf = io.BytesIO()
        np.savez(buf, ws=self._latent(latent_id)[None])
        return buf.getvalue()

    def _latent(self, latent_id: str) -> np.ndarray:
        with self._lock:
            if latent_id not in self._latents:
                raise RequestError(f"unknown latent {latent_id!r} (IDs come from /api/invert or /api/latents)", 404)
            return self._latents[latent_id]

    # ---- rendering ----------------------------------------------------------------------------

    def ws_for(self, s: RenderSettings) -> np.ndarray:
        """The edited W+ latent [1, num_ws, w_dim] of a request (see the module docstring)."""
        import jax.numpy as jnp

        from latentjax.edit import shift
        from latentjax.figures import edited_ws
        from latentjax.latent import resolve_layers, style_mix, truncate
        from latentjax.seeds import z_from_seeds

        G, cfg = self.G, self.G.config
        dirs = [(self.direction(n).direction, lam) for n, lam in s.strengths]
        rows = None
        if s.layers is not None:
            try:
                rows = resolve_layers(s.layers, cfg.num_ws)
            except ValueError as e:
                raise RequestError(f"layers: {e}") from None
        if s.seed is not None:
            z = z_from_seeds([s.seed], cfg.z_dim)
            for d, lam in dirs:
                if d.space == "z":  # as edited_ws: shift z by lambda (float32) times the direction
                    z = np.asarray(shift(jnp.asarray(z, jnp.float32), d.vector, np.float32(lam)))
            ws = np.asarray(G.mapping(z, s.psi, s.cutoff))
        else:
            if any(d.space == "z" for d, _ in dirs):
                raise RequestError("a z-space direction needs seed= (a stored latent has no z)")
            ws = self._latent(s.latent)[None]
            if s.psi != 1.0 or s.cutoff is not None:
                ws = np.asarray(truncate(jnp.asarray(ws), G.w_avg, s.psi, s.cutoff))
        if s.mix_seed is not None:
            other = np.asarray(G.mapping(z_from_seeds([s.mix_seed], cfg.z_dim), s.psi, s.cutoff))
            ws = np.asarray(style_mix(jnp.asarray(ws), jnp.asarray(other), s.mix_layer))
        for d, lam in dirs:
            if d.space == "z":
                continue
            if rows is not None and d.vector.ndim == 2:
                raise RequestError("layers= cannot override the rows of a per-layer (W+) direction")
            ws = edited_ws(G, d, [lam], ws=ws, layers=rows)[0]
        return ws

    def render(self, s: RenderSettings) -> np.ndarray:
        """uint8 [H, W, C]: `ws_for(s)` through synthesis with the stored noise, one image per call."""
        from latentjax.media import to_uint8

        with self.gate.render():
            ws = self.ws_for(s)
            return to_uint8(np.asarray(self.G.synthesis(ws, noise_mode="const")))[0]

    def render_png(self, s: RenderSettings) -> bytes:
        """PNG bytes of `render(s)`, from a small cache when the same settings were rendered before."""
        with self._lock:
            png = self._cache.get(s)
            if png is not None:
                self._cache.move_to_end(s)
                return png
        png = encode_png(self.render(s))
        with self._lock:
            self._cache[s] = png
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return png

    def warm_up(self) -> float:
        """Compile everything a slider touches (mapping, synthesis at batch 1, edit ops); seconds taken."""
        t = time.perf_counter()
        self.render(RenderSettings(seed=0))
        names = [n for n in self.direction_names if self.direction(n).direction.space != "z"]
        if names:
            self.render(RenderSettings(seed=0, strengths=((names[0], 1.0),), mix_seed=1, mix_layer=1))
        return time.perf_counter() - t

    # ---- photo inversion ----------------------------------------------------------------------

    def start_inversion(self, data: bytes) -> str:
        """Check the upload now (4xx at once), then queue align + W+ projection; returns the job ID.

        The job's snapshot (GET /api/jobs/<id>) has step / steps / loss while it runs and, when
        done, the new `latent` ID, the final LPIPS and how the photo was aligned.
        """
        img = open_upload_image(data)
        return self.jobs.submit("invert", self.invert_steps, lambda job: self._invert(job, img))

    def _invert(self, job: Job, img: Image.Image) -> dict:
        from latentjax.invert import invert
        from latentjax.targets import image_to_float

        cfg = self.G.config
        job.update(message="aligning the face")
        img, alignment = align_if_available(img, cfg.resolution)
        holding = False

        # The library's workflow (`latentjax invert`: checked target, W+ projection, measured against
        # the stored-noise render). The first step (with the compile) runs beside renders; from the
        # first step on, each step holds the gate and waits for queued renders first (see DeviceGate);
        # the final measurement runs beside renders again.
        def progress(ev) -> None:
            nonlocal holding
            if ev.stage == "compiling":
                job.update(message="compiling the projector (the first inversion only; can take a minute)")
            elif ev.stage == "step":
                if holding:
                    self.gate.release_step()
                    holding = False
                job.update(step=ev.step, loss=ev.loss, message="projecting into W+")
                self.gate.acquire_step()
                holding = True
            elif ev.stage == "measuring" and holding:
                self.gate.release_step()
                holding = False

        try:
            (res,) = invert(
                [image_to_float(img)],
                self.G,
                space="w+",
                steps=self.invert_steps,
                align=False,  # done above: without a face the studio falls back to the centre crop
                config=self.project_config,
                batch=1,
                names=["upload"],
                progress=progress,
            )
        finally:
            if holding:
                self.gate.release_step()
        if res.error:
            raise ValueError(res.error)
        latent = self.add_latent(res.ws, "photo")
        return {
            "latent": latent,
            "lpips": res.lpips,  # of the latent as the page renders it (the stored noise)
            "psnr": res.psnr,
            "alignment": alignment,
            "notes": list(res.notes),
        }

    # ---- description --------------------------------------------------------------------------

    def info(self) -> dict:
        from latentjax.latent import BANDS, layer_set, ws_resolutions
        from latentjax.studio.params import MAX_ABS_STRENGTH, PSI_RANGE

        cfg = self.G.config
        with self._lock:
            entries = [e.to_json(cfg.num_ws) for e in self._directions.values()]
            latents = list(self._latents)
        return {
            "model": self.name,
            "arch": cfg.arch,
            "resolution": cfg.resolution,
            "num_ws": cfg.num_ws,
            "w_dim": cfg.w_dim,
            "z_dim": cfg.z_dim,
            "ws_resolutions": list(ws_resolutions(cfg.num_ws)),
            "layer_sets": {b: list(layer_set(b, cfg.num_ws)) for b in BANDS},
            "directions": entries,
            "latents": latents,
            "directions_dir": None if self.directions_dir is None else str(self.directions_dir),
            "limits": {
                "psi": list(PSI_RANGE),
                "strength": MAX_ABS_STRENGTH,
                "seed": [0, MAX_SEED],
                "examples_per_side": [MIN_EXAMPLES, MAX_EXAMPLES],
                "upload_bytes": MAX_UPLOAD_BYTES,
            },
            "invert": {"space": "w+", "steps": self.invert_steps, "align": faces_available()},
        }
