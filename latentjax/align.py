"""FFHQ face alignment: NVIDIA's recipe (ffhq-dataset `download_ffhq.py::recreate_aligned_images`).

The FFHQ models expect faces cropped and rotated exactly as their training images were. The recipe
is a function of four key points taken from the 68 iBUG 300-W landmarks (dlib's order):

  eye centres   mean of points 36-41 (image-left eye) and 42-47 (image-right eye)
  mouth corners points 48 and 54
  eye_to_eye = eye_right - eye_left, eye_to_mouth = mouth_avg - eye_avg
  x = eye_to_eye - rot90(eye_to_mouth), scaled to max(2 |eye_to_eye|, 1.8 |eye_to_mouth|)
  y = rot90(x), centre c = eye_avg + 0.1 eye_to_mouth
  quad = (c - x - y, c - x + y, c + x + y, c + x - y): the output's top-left, bottom-left,
         bottom-right and top-right corners in the photo

then, on the pixels: shrink the photo when the quad is over twice the output size, crop around the
quad with a border of 10%, reflect-pad (and blur the padding towards its median) where the quad
leaves the photo, warp the quad to 4096² (bilinear) and resize to the output size (Lanczos). Every
constant is the official one; `face_quad` / `to_aligned` are pure numpy, `warp_face` the pixels.

Coordinates are (x, y) pixel indices as dlib gives them: (0, 0) is the centre of the top-left pixel
(the official adds 0.5 for Pillow, whose pixel centres lie at +0.5), of the photo as displayed
(EXIF orientation applied).

Landmarks come from dlib (`detect_faces`, the optional extra `pip install -e ".[faces]"`) or from
the user: `read_landmarks_json` reads, for any detector,

    {"photo.jpg": [[[x0, y0], [x1, y1], ... [x67, y67]], ...more faces],
     "other.png": [[x0, y0], ... [x67, y67]]}

file name (or the path as given on the command line) -> a face or a list of faces; a face is 68
points in dlib's order, or 4 points: image-left eye centre, image-right eye centre, image-left
mouth corner, image-right mouth corner (what RetinaFace / MTCNN-style detectors give, less the nose).
Faces listed first are preferred.

Which face: dlib's HOG detector also fires on face-like patterns at nearly the same box size as the
real face (the astronaut photo's mission patch: box 90 px vs the face's 91 px, score 0.12 vs 1.16),
so detections are ranked by the detector's score, never by box size, and those under `min_score`
(default 0.25; dlib's own threshold is 0) are dropped. The default face is the best-scored one;
`all_faces` keeps every face, best first (name_0.png, name_1.png, ...).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from latentjax.errors import InputError, MissingExtraError

FACES_EXTRA = 'pip install -e ".[faces]"  (dlib-bin + face-recognition-models)'
NUM_LANDMARKS = 68  # iBUG 300-W, dlib's shape_predictor_68_face_landmarks
EYE_LEFT, EYE_RIGHT = slice(36, 42), slice(42, 48)  # image-left / image-right eye contours
MOUTH_LEFT, MOUTH_RIGHT = 48, 54  # outer mouth corners (lm_mouth_outer[0] and [6] in the official)
TRANSFORM_SIZE = 4096  # the official warps to 4096² whatever the output size, then resizes (Lanczos)
MIN_SCORE = 0.25  # see the module docstring: real faces measured >= 0.4, false positives <= 0.12
DETECT_MAX_SIDE = 1024  # photos are detected at most this large (then upsampled once by dlib)
MIN_QUAD_PX = 2.0  # the reflect padding is rint(0.3 * quad size) wide: at least one pixel


# ---- the recipe: pure functions of the landmarks --------------------------------------------------


def key_points(landmarks) -> np.ndarray:
    """[68, 2] (dlib's order) or [4, 2] landmarks -> [4, 2] float64: image-left eye centre, image-right
    eye centre, image-left and image-right mouth corners. ValueError on any other shape or non-finite."""
    lm = np.asarray(landmarks, np.float64)
    if lm.ndim != 2 or lm.shape[1] != 2 or lm.shape[0] not in (NUM_LANDMARKS, 4):
        raise ValueError(f"landmarks must be [68, 2] or [4, 2] (x, y) points, got shape {list(lm.shape)}")
    if not np.isfinite(lm).all():
        raise ValueError("landmarks must be finite numbers")
    if lm.shape[0] == 4:
        return lm.copy()
    return np.stack([lm[EYE_LEFT].mean(0), lm[EYE_RIGHT].mean(0), lm[MOUTH_LEFT], lm[MOUTH_RIGHT]])


def _rot90(v: np.ndarray) -> np.ndarray:
    """(a, b) -> (-b, a): a quarter turn, from the image's x axis towards its y axis (down)."""
    return np.array([-v[1], v[0]])


@dataclass(frozen=True)
class FaceQuad:
    """The oriented square FFHQ crops. x: [2] half the top side (left -> right), y: [2] = rot90(x), half
    the left side (top -> bottom), center: [2]; all in photo pixels (float64)."""

    x: np.ndarray
    y: np.ndarray
    center: np.ndarray

    @property
    def quad(self) -> np.ndarray:
        """[4, 2] corners that go to the output's top-left, bottom-left, bottom-right, top-right (Pillow's QUAD)."""
        c, x, y = self.center, self.x, self.y
        return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])

    @property
    def size(self) -> float:
        """Side length in photo pixels (the official `qsize`)."""
        return float(2.0 * math.hypot(*self.x))


def face_quad(landmarks) -> FaceQuad:
    """Landmarks [68, 2] or [4, 2] -> the FFHQ crop square (official `rotate_level=True`)."""
    eye_l, eye_r, mouth_l, mouth_r = key_points(landmarks)
    eye_avg, mouth_avg = (eye_l + eye_r) * 0.5, (mouth_l + mouth_r) * 0.5
    eye_to_eye, eye_to_mouth = eye_r - eye_l, mouth_avg - eye_avg
    # The top side follows the eye line averaged with the normal of the eye -> mouth line (the
    # official `eye_to_eye - flipud(eye_to_mouth) * [-1, 1]`), so a tilted head comes out level.
    x = eye_to_eye - _rot90(eye_to_mouth)
    norm = math.hypot(*x)
    if not norm > 0:
        raise ValueError("degenerate landmarks: the eyes and mouth corners do not span a face")
    x = x / norm * max(math.hypot(*eye_to_eye) * 2.0, math.hypot(*eye_to_mouth) * 1.8)
    return FaceQuad(x=x, y=_rot90(x), center=eye_avg + eye_to_mouth * 0.1)


def to_aligned(points, fq: FaceQuad, size: int) -> np.ndarray:
    """Photo pixel coordinates [..., 2] -> pixel coordinates in the aligned [size, size] image.

    The warp sends the quad's corners to the output's corners (0, 0)..(size, size) in Pillow's
    continuous coordinates; pixel indices sit half a pixel in, hence the -0.5."""
    p = np.asarray(points, np.float64) - fq.center
    u = (p @ fq.x / (fq.x @ fq.x) + 1.0) * 0.5
    v = (p @ fq.y / (fq.y @ fq.y) + 1.0) * 0.5
    return np.stack([u, v], -1) * size - 0.5


def from_aligned(points, fq: FaceQuad, size: int) -> np.ndarray:
    """Inverse of `to_aligned`: aligned-image pixel coordinates [..., 2] -> photo pixel coordinates."""
    uv = (np.asarray(points, np.float64) + 0.5) / size * 2.0 - 1.0
    return fq.center + uv[..., :1] * fq.x + uv[..., 1:] * fq.y


# ---- the pixels ----------------------------------------------------------------------------------


def as_rgb_uint8(image) -> np.ndarray:
    """uint8 [H, W, 3], [H, W, 1] or [H, W] (greyscale, repeated) -> contiguous uint8 [H, W, 3]."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"image must be uint8 pixels, got {a.dtype} (use load_photo for files)")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"image must be [H, W, 3] or [H, W] (greyscale), got shape {list(a.shape)}")
    return np.ascontiguousarray(np.repeat(a, 3, -1) if a.shape[-1] == 1 else a)


def _bounds(quad: np.ndarray) -> tuple[int, int, int, int]:
    """Integer box (left, top, right, bottom) around the quad: floor of the minima, ceil of the maxima."""
    lo, hi = np.floor(quad.min(0)), np.ceil(quad.max(0))
    return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def _blur_padding(a: np.ndarray, pad: tuple[int, int, int, int], qsize: float) -> np.ndarray:
    """float32 [H, W, 3] already reflect-padded by pad = (left, top, right, bottom): blur the padding
    (sigma 2% of the quad) and fade it to the image's median colour, as the official; uint8 out."""
    from scipy.ndimage import gaussian_filter

    h, w = a.shape[:2]
    ys = np.arange(h, dtype=np.float32)[:, None, None]
    xs = np.arange(w, dtype=np.float32)[None, :, None]
    # 1 at the outer edge, 0 where the padding meets the photo, negative inside it.
    mask = np.maximum(
        1.0 - np.minimum(xs / pad[0], (w - 1 - xs) / pad[2]), 1.0 - np.minimum(ys / pad[1], (h - 1 - ys) / pad[3])
    )
    blur = qsize * 0.02
    a += (gaussian_filter(a, [blur, blur, 0]) - a) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
    a += (np.median(a, axis=(0, 1)) - a) * np.clip(mask, 0.0, 1.0)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def warp_face(
    image, fq: FaceQuad, size: int = 1024, transform_size: int = TRANSFORM_SIZE, enable_padding: bool = True
) -> np.ndarray:
    """Photo uint8 [H, W, 3] (or greyscale [H, W]) and its FaceQuad -> aligned uint8 [size, size, 3].

    Shrink, crop, pad + blur, warp, resize with the official constants. Raises ValueError when the
    quad is under MIN_QUAD_PX or lies wholly outside the photo."""
    if not (isinstance(size, int) and size >= 1):
        raise ValueError(f"size must be a positive integer, got {size!r}")
    img = Image.fromarray(as_rgb_uint8(image))
    quad, qsize = fq.quad.copy(), fq.size
    if not qsize >= MIN_QUAD_PX:
        raise ValueError(f"the face is too small to align: {qsize:.2f} px across (at least {MIN_QUAD_PX:g})")

    # Shrink: a quad over twice the output size is first brought near it (integer factor, Lanczos).
    shrink = int(np.floor(qsize / size * 0.5))
    if shrink > 1:
        rsize = (max(1, int(np.rint(img.width / shrink))), max(1, int(np.rint(img.height / shrink))))
        img = img.resize(rsize, Image.Resampling.LANCZOS)
        quad /= shrink
        qsize /= shrink

    # Crop to the quad's box plus a 10% border (at least 3 px), within the photo.
    border = max(int(np.rint(qsize * 0.1)), 3)
    left, top, right, bottom = _bounds(quad)
    crop = (max(left - border, 0), max(top - border, 0))
    crop += (min(right + border, img.width), min(bottom + border, img.height))
    if crop[2] <= crop[0] or crop[3] <= crop[1]:
        raise ValueError("the face quad lies outside the photo (landmarks in another image's coordinates?)")
    img = img.crop(crop)
    quad -= crop[:2]

    # Pad where the quad (plus border) leaves the photo: reflect, then blur towards the median colour.
    left, top, right, bottom = _bounds(quad)
    pad = (max(border - left, 0), max(border - top, 0), max(right - img.width + border, 0))
    pad += (max(bottom - img.height + border, 0),)
    if enable_padding and max(pad) > border - 4:
        pad = tuple(max(p, int(np.rint(qsize * 0.3))) for p in pad)
        a = np.pad(np.asarray(img, np.float32), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), "reflect")
        img = Image.fromarray(_blur_padding(a, pad, qsize))
        quad += pad[:2]

    # Warp the quad to transform_size² (bilinear; +0.5: Pillow's pixel centres), resize (Lanczos).
    transform_size = max(transform_size, size)
    img = img.transform(
        (transform_size, transform_size), Image.Transform.QUAD, (quad + 0.5).flatten(), Image.Resampling.BILINEAR
    )
    if size < transform_size:
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(img)


# ---- landmarks from dlib (optional extra) ---------------------------------------------------------


@dataclass(frozen=True)
class DetectedFace:
    """One face: landmarks [68, 2] float64 (photo pixels), the detector's score, box (left, top, right, bottom)."""

    landmarks: np.ndarray
    score: float
    box: tuple[int, int, int, int]


def predictor_path() -> Path:
    """The 68-point model shipped in `face-recognition-models`, found without importing that package
    (its __init__ imports pkg_resources, which setuptools >= 81 no longer provides)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(f"face detection needs the 68-point landmark model: {FACES_EXTRA}")
    for root in spec.submodule_search_locations:
        path = Path(root) / "models" / "shape_predictor_68_face_landmarks.dat"
        if path.is_file():
            return path
    raise MissingExtraError(f"face-recognition-models is installed without its 68-point model: {FACES_EXTRA}")


@functools.lru_cache(maxsize=1)
def _dlib_models():
    """(frontal face detector, 68-point shape predictor), loaded once per process (~2 s)."""
    try:
        import dlib
    except ImportError:
        raise MissingExtraError(f"face detection needs dlib: {FACES_EXTRA}, or give --landmarks") from None
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path()))


def faces_available() -> bool:
    """True when dlib and the landmark model are installed (the [faces] extra); loads neither."""
    try:
        import dlib  # noqa: F401

        predictor_path()
    except (ImportError, MissingExtraError):
        return False
    return True


def detect_faces(image, min_score: float = MIN_SCORE, upsample: int = 1) -> list[DetectedFace]:
    """uint8 [H, W, 3] (or greyscale) -> the faces dlib finds scoring >= min_score, best score first.

    Detection runs on a copy at most DETECT_MAX_SIDE px long, upsampled `upsample` times by dlib (its
    HOG window is 80 px, so faces down to ~40 px of that copy); landmarks are predicted on the full photo.
    Needs the [faces] extra (MissingExtraError naming it otherwise)."""
    import dlib

    detector, predictor = _dlib_models()
    a = as_rgb_uint8(image)
    h, w = a.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = a
    if scale < 1.0:
        dsize = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(a).resize(dsize, Image.Resampling.LANCZOS))
    rects, scores, _ = detector.run(small, upsample, min(float(min_score), 0.0))
    faces = []
    for r, s in zip(rects, scores):
        if s < min_score:
            continue
        box = tuple(int(round(v / scale)) for v in (r.left(), r.top(), r.right(), r.bottom()))
        shape = predictor(a, dlib.rectangle(*box))
        lm = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        faces.append(DetectedFace(landmarks=lm, score=float(s), box=box))
    return sorted(faces, key=lambda f: -f.score)


# ---- one image ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignedFace:
    """image: uint8 [size, size, 3]; quad: the FaceQuad in photo pixels (to_aligned / from_aligned map
    points between the two); landmarks: the [68, 2] or [4, 2] points used; score: dlib's (None if given)."""

    image: np.ndarray
    quad: FaceQuad
    landmarks: np.ndarray
    score: float | None = None


def align_face(
    image,
    landmarks=None,
    size: int = 1024,
    *,
    transform_size: int = TRANSFORM_SIZE,
    min_score: float = MIN_SCORE,
) -> AlignedFace:
    """A photo as uint8 [H, W, 3] (or greyscale [H, W]) -> its FFHQ-aligned face, uint8 [size, size, 3].

    landmarks: [68, 2] or [4, 2] in the photo's pixels; None detects with dlib and takes the
    best-scored face (InputError when there is none, MissingExtraError without the [faces] extra).
    """
    score = None
    if landmarks is None:
        faces = detect_faces(image, min_score)
        if not faces:
            raise InputError(f"no face found (dlib's frontal detector, score >= {min_score:g})")
        landmarks, score = faces[0].landmarks, faces[0].score
    fq = face_quad(landmarks)
    out = warp_face(image, fq, size, transform_size)
    return AlignedFace(image=out, quad=fq, landmarks=np.asarray(landmarks, np.float64), score=score)


# ---- files ----------------------------------------------------------------------------------------


def load_photo(path: str | os.PathLike) -> np.ndarray:
    """Image file -> uint8 [H, W, 3]: EXIF orientation applied; greyscale repeated; 16-bit and float
    rounded to 8 bits (FFHQ is 8-bit); alpha composited over black (as latentjax.targets).
    InputError naming the file otherwise."""
    from latentjax.targets import read_image

    a = read_image(path)  # [H, W, 1|3] float32 in [0, 1]
    return as_rgb_uint8(np.rint(a * 255.0).astype(np.uint8))


def _parse_face(value, where: str) -> np.ndarray:
    try:
        lm = np.asarray(value, np.float64)
        key_points(lm)
    except (ValueError, TypeError) as e:
        raise InputError(f"{where}: {e}") from None
    return lm


def read_landmarks_json(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """The landmarks file (schema in the module docstring) -> {name: [face [K, 2], ...]}.

    Only JSON is parsed (nothing executed). InputError naming the file and entry when malformed."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable JSON file ({e})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected an object {{photo name: faces}}, got {type(doc).__name__}")
    out = {}
    for name, value in doc.items():
        where = f"{path}: entry {name!r}"
        if not isinstance(value, list) or not value:
            raise InputError(f"{where}: expected a face ([68 or 4 [x, y] points]) or a list of faces")
        one_face = all(isinstance(p, list) and len(p) == 2 and not isinstance(p[0], list) for p in value)
        faces = [value] if one_face else value
        out[name] = [_parse_face(f, f"{where} face {i}") for i, f in enumerate(faces)]
    return out


def _faces_for(path: Path, given: str, table: Mapping[str, list[np.ndarray]]) -> list[np.ndarray] | None:
    """A photo's entry in a landmarks table: the path as given, then the file name."""
    for key in (given, str(path), path.name):
        if key in table:
            return table[key]
    return None


@dataclass(frozen=True)
class AlignResult:
    """One photo: the files written (best face first) with, per face, its FaceQuad, the landmarks used
    and dlib's score (None for given landmarks); `error` (and nothing written) on failure."""

    source: str
    outputs: tuple[Path, ...] = ()
    quads: tuple[FaceQuad, ...] = field(default=(), repr=False)
    landmarks: tuple[np.ndarray, ...] = field(default=(), repr=False)
    scores: tuple[float | None, ...] = ()
    error: str | None = None


def _output_stems(paths: Sequence[str]) -> list[str]:
    """File stems, made unique with the argument index where two photos share one."""
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else f"{s}_{i}" for i, s in enumerate(stems)]


def _write_png(path: Path, image: np.ndarray) -> None:
    from latentjax.io import atomic_write_file

    atomic_write_file(path, lambda f: Image.fromarray(image).save(f, format="PNG"))


def align_images(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    size: int = 1024,
    *,
    landmarks: str | os.PathLike | Mapping[str, list] | None = None,
    all_faces: bool = False,
    min_score: float = MIN_SCORE,
    transform_size: int = TRANSFORM_SIZE,
    progress: Callable[[int, int, AlignResult], None] | None = None,
) -> list[AlignResult]:
    """Align each photo into outdir/NAME.png (all_faces: NAME_0.png, NAME_1.png, ... best first).

    landmarks: a landmarks JSON file or its parsed table (see `read_landmarks_json`); every photo must
    have an entry. Without it faces are detected with dlib (MissingExtraError, before anything is
    written, when the [faces] extra is missing). A photo that fails (unreadable, no face, bad
    landmarks) gets an AlignResult with `error` and no file; the others go on. Files are written
    atomically. progress(i, n, result) is called after each photo.
    """
    if not (isinstance(size, int) and size >= 1):
        raise ValueError(f"size must be a positive integer, got {size!r}")
    if not paths:
        raise ValueError("no photos given")
    table = None
    if landmarks is not None:
        table = read_landmarks_json(landmarks) if isinstance(landmarks, (str, os.PathLike)) else landmarks
    else:
        _dlib_models()  # fail on a missing extra before touching any file
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    given = [str(p) for p in paths]
    results, written = [], set()
    for i, (src, stem) in enumerate(zip(given, _output_stems(given))):
        try:
            photo = load_photo(src)
            if table is None:
                found = detect_faces(photo, min_score)
                if not found:
                    raise InputError(f"{src}: no face found (dlib's frontal detector, score >= {min_score:g})")
                chosen = [(f.landmarks, f.score) for f in found]
            else:
                entry = _faces_for(Path(src), src, table)
                if entry is None:
                    raise InputError(f"{src}: no entry for it in the landmarks file")
                chosen = [(np.asarray(lm, np.float64), None) for lm in entry]
            chosen = chosen if all_faces else chosen[:1]
            names = [out / (f"{stem}_{k}.png" if all_faces else f"{stem}.png") for k in range(len(chosen))]
            clash = [n for n in names if n in written]
            if clash:
                raise InputError(f"{src}: output {clash[0]} was already written for another photo; rename one")
            if any(n.resolve() == Path(src).resolve() for n in names):
                raise InputError(f"{src}: its output would overwrite it; choose another output directory")
            images, quads = [], []
            for k, (lm, _) in enumerate(chosen):
                try:
                    quads.append(face_quad(lm))
                    images.append(warp_face(photo, quads[-1], size, transform_size))
                except ValueError as e:
                    raise InputError(f"{src}" + (f" face {k}" if all_faces else "") + f": {e}") from None
            for name, img in zip(names, images):  # every face aligned before the first file is written
                _write_png(name, img)
            written.update(names)
            res = AlignResult(
                source=src,
                outputs=tuple(names),
                quads=tuple(quads),
                landmarks=tuple(lm for lm, _ in chosen),
                scores=tuple(score for _, score in chosen),
            )
        except InputError as e:
            res = AlignResult(source=src, error=str(e))
        results.append(res)
        if progress is not None:
            progress(i, len(given), res)
    return results
