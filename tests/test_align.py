"""FFHQ alignment (latentjax.align, `latentjax align`): the recipe's geometry as properties of pure
functions, the pixels on synthetic blobs, and the real astronaut photo through dlib (skipped, with
the reason, only when the [faces] extra is missing)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import numpy as np
import pytest
from conftest import DATA
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from latentjax import align
from latentjax.align import (
    align_face,
    align_images,
    face_quad,
    from_aligned,
    key_points,
    read_landmarks_json,
    to_aligned,
    warp_face,
)
from latentjax.cli import main
from latentjax.errors import InputError, MissingExtraError

ASTRONAUT = DATA / "photos/astronaut.png"
HAVE_FACES = align.faces_available()
needs_dlib = pytest.mark.skipif(not HAVE_FACES, reason='dlib / its landmark model missing: pip install -e ".[faces]"')

coords = st.floats(-400, 400, allow_nan=False)
# random 68-point "faces": uniform points in a random box (the recipe only needs them non-degenerate)
faces68 = st.builds(
    lambda seed, spread: np.random.default_rng(seed).uniform(-spread, spread, (68, 2)),
    st.integers(0, 2**32 - 1),
    st.floats(1, 400),
)
angles = st.floats(-math.pi, math.pi)


def rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def symmetric_face(half_eye: float, mouth_drop: float, mouth_half: float, theta: float, center) -> np.ndarray:
    """4 key points of a mirror-symmetric face: eyes at (+-half_eye, 0), mouth corners at
    (+-mouth_half, mouth_drop) below them, turned by theta about the eye midpoint placed at center."""
    pts = np.array([[-half_eye, 0], [half_eye, 0], [-mouth_half, mouth_drop], [mouth_half, mouth_drop]], float)
    return pts @ rotation(theta).T + np.asarray(center, float)


def canonical(half_eye: float, mouth_drop: float, mouth_half: float, size: int) -> np.ndarray:
    """Where FFHQ puts a symmetric face's key points, worked out by hand from the recipe: the crop's
    half side is s = max(2 * eye distance, 1.8 * eye-to-mouth) = max(4 half_eye, 1.8 mouth_drop), its
    centre 0.1 mouth_drop below the eyes; a point at (a, b) from that centre lands at ((a/s + 1) / 2,
    (b/s + 1) / 2) of the output, pixel index = that * size - 0.5."""
    s = max(4.0 * half_eye, 1.8 * mouth_drop)
    c = 0.1 * mouth_drop
    pts = np.array([[-half_eye, -c], [half_eye, -c], [-mouth_half, mouth_drop - c], [mouth_half, mouth_drop - c]])
    return (pts / s + 1.0) / 2.0 * size - 0.5


# ---- the recipe: pure geometry ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(faces68, coords, coords, angles, st.floats(0.05, 20))
def test_quad_moves_with_the_landmarks(lm, tx, ty, theta, scale):
    """Translating, rotating or uniformly scaling the landmarks moves the quad the same way."""
    fq = face_quad(lm)
    assume(fq.size > 1.0)
    tol = dict(rtol=1e-9, atol=1e-7 * (1 + np.abs(lm).max()) * max(scale, 1))
    t, r = np.array([tx, ty]), rotation(theta)
    np.testing.assert_allclose(face_quad(lm + t).quad, fq.quad + t, **tol)
    np.testing.assert_allclose(face_quad(lm @ r.T).quad, fq.quad @ r.T, **tol)
    np.testing.assert_allclose(face_quad(lm * scale).quad, fq.quad * scale, **tol)
    # and it is a square: equal, perpendicular sides, y a quarter turn from x (towards +y, down)
    q = fq.quad
    np.testing.assert_allclose(np.linalg.norm(q - np.roll(q, 1, 0), axis=1), fq.size, rtol=1e-9)
    np.testing.assert_allclose(fq.y, [-fq.x[1], fq.x[0]])
    # the 68 points and their 4 key points give the same quad
    np.testing.assert_allclose(face_quad(key_points(lm)).quad, q)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 2), elements=coords))
def test_mirrored_face_gives_the_mirrored_quad(kp):
    """Mirror the photo (x -> -x): image-left and image-right swap, and so do the quad's left and right corners."""
    assume(np.ptp(kp, 0).max() > 1.0)
    try:
        fq = face_quad(kp)
    except ValueError:  # degenerate: x = 0
        assume(False)
    assume(fq.size > 1.0)
    flip = np.array([-1.0, 1.0])
    mirrored = kp[[1, 0, 3, 2]] * flip
    np.testing.assert_allclose(face_quad(mirrored).quad, (fq.quad * flip)[[3, 2, 1, 0]], atol=1e-7 * np.abs(kp).max())


@settings(max_examples=60, deadline=None)
@given(
    st.floats(5, 300),
    st.floats(0.5, 3.0),
    st.floats(0.3, 1.5),
    angles,
    coords,
    coords,
    st.sampled_from([64, 256, 1024]),
)
def test_symmetric_face_lands_level_at_the_ffhq_positions(half_eye, drop, mouth_half, theta, cx, cy, size):
    """Any similarity transform of a symmetric face: after alignment the eyes are level and every key
    point sits where the hand-derived FFHQ layout says (eyes at 0.375 / 0.625 of the width when the
    eye distance sets the scale)."""
    kp = symmetric_face(half_eye, drop * half_eye * 2, mouth_half * half_eye, theta, (cx, cy))
    fq = face_quad(kp)
    out = to_aligned(kp, fq, size)
    expect = canonical(half_eye, drop * half_eye * 2, mouth_half * half_eye, size)
    np.testing.assert_allclose(out, expect, atol=1e-6 * size)
    assert abs(out[0, 1] - out[1, 1]) < 1e-6 * size  # level eyes
    if 4 * half_eye >= 1.8 * drop * half_eye * 2:
        np.testing.assert_allclose(out[:2, 0], [0.375 * size - 0.5, 0.625 * size - 0.5], atol=1e-6 * size)
    np.testing.assert_allclose(from_aligned(out, fq, size), kp, atol=1e-6 * (1 + np.abs(kp).max()))


def test_quad_corners_are_the_output_corners():
    fq = face_quad(symmetric_face(20, 45, 15, 0.3, (100, 80)))
    np.testing.assert_allclose(to_aligned(fq.quad, fq, 8), [[-0.5, -0.5], [-0.5, 7.5], [7.5, 7.5], [7.5, -0.5]])


def test_key_points_and_quad_refuse_bad_landmarks():
    with pytest.raises(ValueError, match=r"\[68, 2\] or \[4, 2\]"):
        key_points(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="finite"):
        key_points(np.full((68, 2), np.nan))
    with pytest.raises(ValueError, match="degenerate"):
        face_quad(np.zeros((4, 2)))


# ---- the pixels ---------------------------------------------------------------------------------------


def blob_image(points: np.ndarray, sigma: float, shape=(160, 160)) -> np.ndarray:
    """uint8 [H, W, 3]: a Gaussian blob (peak 255) at each (x, y) point on black."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    a = sum(np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) for x, y in points)
    return np.repeat(np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)[..., None], 3, -1)


def centroid(img: np.ndarray, at: np.ndarray, radius: float) -> np.ndarray:
    """Intensity-weighted centre (x, y) of the pixels within radius of `at`."""
    g = img[..., 0].astype(np.float64)
    yy, xx = np.mgrid[: g.shape[0], : g.shape[1]]
    w = g * (((xx - at[0]) ** 2 + (yy - at[1]) ** 2) <= radius**2)
    return np.array([(w * xx).sum(), (w * yy).sum()]) / w.sum()


@settings(max_examples=25, deadline=None)
@given(st.floats(4, 50), angles, st.floats(0.2, 0.8), st.floats(0.2, 0.8), st.sampled_from([48, 128]))
def test_warp_puts_the_key_points_where_the_quad_says(half_eye, theta, fx, fy, size):
    """A synthetic 'face' of four blobs, turned, scaled and placed anywhere (the quad often leaves the
    photo: padding; large faces shrink first): the blobs come out at to_aligned's positions, eyes level."""
    sigma = 0.25 * half_eye
    kp = symmetric_face(half_eye, 1.9 * half_eye, 0.8 * half_eye, theta, (0, 0))
    lo, hi = kp.min(0) - 4 * sigma, kp.max(0) + 4 * sigma  # blobs wholly inside the 160² photo
    assume((hi - lo < 160).all())
    kp = kp - lo + np.array([fx, fy]) * (160 - (hi - lo))
    fq = face_quad(kp)
    out = warp_face(blob_image(kp, sigma), fq, size, transform_size=4 * size)
    assert out.shape == (size, size, 3) and out.dtype == np.uint8
    want = to_aligned(kp, fq, size)
    sigma_out = sigma * size / fq.size
    got = np.array([centroid(out, p, 3 * sigma_out) for p in want])
    # The official shrink divides the quad by the integer factor but resizes the photo to rint(W / shrink)
    # px, without the half-pixel shift of Pillow's resize: faces move by up to ~half a shrunk pixel, which
    # is at most 0.5 output px (a shrunk quad spans >= 2 * size). We keep that, bit-exact with NVIDIA's.
    shrunk = math.floor(fq.size / size * 0.5) > 1
    np.testing.assert_allclose(got, want, atol=0.05 * sigma_out + 0.1 + (0.5 if shrunk else 0.0))
    np.testing.assert_allclose(want, canonical(half_eye, 1.9 * half_eye, 0.8 * half_eye, size), atol=1e-6 * size)


def test_warp_contracts_and_refusals():
    kp = symmetric_face(3, 7, 2.5, 0.1, (8, 7))  # a tiny 16x16 photo works (mostly padding)
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    fq = face_quad(kp)
    out = warp_face(grey, fq, 32, 64)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, warp_face(np.repeat(grey[..., None], 3, -1), fq, 32, 64))
    assert (out[..., 0] == out[..., 1]).all()  # greyscale stays grey
    assert warp_face(grey, fq, 96, 64).shape == (96, 96, 3)  # size above transform_size: warped at size
    strip = np.full((3, 300), 77, np.uint8)  # a huge face on a 3-px strip: shrunk to 1 px tall, then padded
    np.testing.assert_array_equal(warp_face(strip, face_quad(kp * 100), 16, 32), 77)
    with pytest.raises(ValueError, match="uint8"):
        warp_face(grey.astype(np.float32), fq, 32)
    with pytest.raises(ValueError, match="shape"):
        warp_face(np.zeros((16, 16, 4), np.uint8), fq, 32)
    with pytest.raises(ValueError, match="size"):
        warp_face(grey, fq, 0)
    with pytest.raises(ValueError, match="too small"):
        warp_face(grey, face_quad(symmetric_face(0.1, 0.2, 0.1, 0, (8, 8))), 32)
    with pytest.raises(ValueError, match="outside the photo"):
        warp_face(grey, face_quad(kp + 1000), 32)
    res = align_face(grey, kp, 32, transform_size=64)  # given landmarks: no detector involved
    np.testing.assert_array_equal(res.image, out)
    assert res.score is None and res.quad.size == fq.size


# ---- landmarks files and the workflow without dlib ------------------------------------------------


def write_photo(path, array, **save):
    Image.fromarray(array).save(path, **save)
    return path


def test_landmarks_json_schema(tmp_path):
    f68 = np.arange(136, dtype=float).reshape(68, 2)
    doc = {
        "a.png": f68.tolist(),
        "b.png": [f68.tolist(), (f68 + 1).tolist()],
        "c.png": [[1, 2], [3, 2], [1, 5], [3, 5]],
    }
    (tmp_path / "lm.json").write_text(json.dumps(doc))
    table = read_landmarks_json(tmp_path / "lm.json")
    assert [len(table[k]) for k in "a.png b.png c.png".split()] == [1, 2, 1]
    np.testing.assert_array_equal(table["b.png"][1], f68 + 1)
    assert table["c.png"][0].shape == (4, 2)
    bad = {
        "nope.json": "{not json",
        "list.json": "[1, 2]",
        "short.json": json.dumps({"a.png": [[1, 2], [3, 4], [5, 6]]}),
        "ragged.json": json.dumps({"a.png": [f68.tolist(), [[1, 2]]]}),
        "text.json": json.dumps({"a.png": "eyes"}),
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError, match=name.replace(".", r"\.")):
            read_landmarks_json(tmp_path / name)
    with pytest.raises(InputError, match="no such file"):
        read_landmarks_json(tmp_path / "missing.json")


def no_dlib():
    raise MissingExtraError(f"face detection needs dlib: {align.FACES_EXTRA}, or give --landmarks")


def test_align_images_with_given_landmarks_needs_no_detector(tmp_path, monkeypatch):
    monkeypatch.setattr(align, "_dlib_models", no_dlib)
    kp = symmetric_face(12, 28, 10, 0.2, (40, 40))
    rng = np.random.default_rng(1)
    photo = write_photo(tmp_path / "p.png", rng.integers(0, 256, (80, 90, 3), dtype=np.uint8))
    two = write_photo(tmp_path / "two.png", np.zeros((80, 90), np.uint8))
    absent = write_photo(tmp_path / "absent.png", np.zeros((80, 90), np.uint8))  # a photo the file omits
    lm = {"p.png": kp.tolist(), str(two): [kp.tolist(), (kp + 5).tolist()], "x.png": kp.tolist()}
    (tmp_path / "lm.json").write_text(json.dumps(lm))
    seen = []
    res = align_images(
        [photo, two, tmp_path / "x.png", absent],
        tmp_path / "out",
        32,
        landmarks=tmp_path / "lm.json",
        all_faces=True,
        transform_size=64,
        progress=lambda i, n, r: seen.append((i, n, r.error is None)),
    )
    assert seen == [(0, 4, True), (1, 4, True), (2, 4, False), (3, 4, False)]
    assert [p.name for p in res[0].outputs] == ["p_0.png"] and [p.name for p in res[1].outputs] == [
        "two_0.png",
        "two_1.png",
    ]
    np.testing.assert_array_equal(
        np.asarray(Image.open(res[0].outputs[0])), warp_face(load(photo), face_quad(kp), 32, 64)
    )
    assert "x.png: no such file" in res[2].error and "no entry for it" in res[3].error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p_0.png", "two_0.png", "two_1.png"]
    np.testing.assert_allclose(res[1].quads[1].quad, face_quad(kp).quad + 5)
    assert res[1].scores == (None, None) and res[2].outputs == () and res[2].quads == ()
    before = photo.read_bytes()  # aligning a photo into its own folder never overwrites it
    (res,) = align_images([photo], tmp_path, 32, landmarks=tmp_path / "lm.json", transform_size=64)
    assert "would overwrite it" in res.error and photo.read_bytes() == before


def test_matches_nvidias_script_bit_for_bit():
    """Golden outputs of NVIDIA's recreate_aligned_images (tests/data/README.md) for the astronaut
    cropped so that the quad leaves the photo (reflect padding + blur) and enlarged 4x (the shrink step),
    aligned to 128² through the official 4096² warp, from the dlib landmarks stored beside them."""
    photo = align.load_photo(ASTRONAUT)
    sources = {
        "edge": photo[60:300, 150:300],
        "big": np.asarray(Image.fromarray(photo).resize((2048, 2048), Image.Resampling.LANCZOS)),
    }
    table = read_landmarks_json(DATA / "align/landmarks.json")
    for name, src in sources.items():
        fq = face_quad(table[f"{name}.png"][0])
        assert (name == "edge") == (fq.quad.min() < 0) and (name == "big") == (fq.size / 128 * 0.5 >= 2)
        ours = align_face(src, table[f"{name}.png"][0], 128).image
        official = load(DATA / f"align/official_{name}_128.png")
        diff = np.abs(ours.astype(int) - official)
        assert diff.max() <= 1 and diff.mean() < 0.01, (name, diff.max(), diff.mean())  # made identical (0)


def load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_missing_extra_is_named_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` fails as if not installed
    with pytest.raises(MissingExtraError, match=r'pip install -e "\.\[faces\]"'):
        align._dlib_models.__wrapped__()
    monkeypatch.setattr(align, "_dlib_models", align._dlib_models.__wrapped__)
    assert not align.faces_available()
    photo = write_photo(tmp_path / "p.png", np.zeros((8, 8, 3), np.uint8))
    assert main(["align", str(photo), "--outdir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and '".[faces]"' in err and "--landmarks" in err
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(align.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingExtraError, match="68-point landmark model"):
        align.predictor_path()


@pytest.mark.skipif(
    importlib.util.find_spec("face_recognition_models") is None,
    reason='face-recognition-models missing: pip install -e ".[faces]"',
)
def test_predictor_found_without_pkg_resources(monkeypatch):
    """face_recognition_models' __init__ imports pkg_resources (gone in setuptools >= 81); we never import it."""
    monkeypatch.setitem(sys.modules, "pkg_resources", None)
    monkeypatch.delitem(sys.modules, "face_recognition_models", raising=False)
    path = align.predictor_path()
    assert path.name == "shape_predictor_68_face_landmarks.dat" and path.stat().st_size > 50e6


def test_cli_align_bad_files_one_line_each(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(align, "_dlib_models", no_dlib)
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "lm.json").write_text(json.dumps({"notes.png": symmetric_face(5, 10, 4, 0, (9, 9)).tolist()}))
    code = main(
        [
            "align",
            str(tmp_path / "notes.png"),
            "--landmarks",
            str(tmp_path / "lm.json"),
            "--outdir",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "notes.png: cannot read as an image" in err
    assert not list((tmp_path / "o").iterdir())


# ---- real photos through dlib -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut():
    """(photo uint8 [512, 512, 3], its FFHQ alignment at 1024 with the official settings, dlib's faces)."""
    photo = align.load_photo(ASTRONAUT)
    return photo, align_face(photo), align.detect_faces(photo, min_score=0.0)


def eye_centres(landmarks):
    return key_points(landmarks)[:2]


@needs_dlib
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_astronaut_aligns_to_ffhq_layout(astronaut):
    """Re-detected in the aligned crop, the eyes are level (<= 1 deg) and at the FFHQ positions
    (within 2% of the size): x = 0.375 / 0.625 of the width (the eye distance sets the scale), y from
    the face's own eye-to-mouth ratio (see `canonical`); and the crop is a fixed point of the recipe."""
    _, res, _ = astronaut
    size = 1024
    assert res.image.shape == (size, size, 3) and res.image.dtype == np.uint8 and res.score > 1.0
    again = align.detect_faces(res.image)
    assert len(again) == 1
    el, er, ml, mr = key_points(again[0].landmarks)
    assert abs(math.degrees(math.atan2(er[1] - el[1], er[0] - el[0]))) <= 1.0
    half_eye = np.linalg.norm(er - el) / 2
    drop = np.linalg.norm((ml + mr) / 2 - (el + er) / 2)
    assert 4 * half_eye >= 1.8 * drop  # the eye distance sets the scale, as in most FFHQ faces
    want = canonical(half_eye, drop, np.linalg.norm(mr - ml) / 2, size)[:2]
    np.testing.assert_allclose(np.stack([el, er]), want, atol=0.02 * size)
    np.testing.assert_allclose(want[:, 0], [383.5, 639.5])
    corners = np.array([[-0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5], [size - 0.5, -0.5]])
    np.testing.assert_allclose(face_quad(again[0].landmarks).quad, corners, atol=0.02 * size)


@needs_dlib
def test_detections_ranked_by_score_and_thresholded(astronaut):
    """dlib also fires on the mission patch (box as large as the face, score ~0.1): the face ranks first
    and the default min_score drops the patch."""
    photo, res, all_dets = astronaut
    assert len(all_dets) >= 2 and [f.score for f in all_dets] == sorted((f.score for f in all_dets), reverse=True)
    left, top, right, bottom = all_dets[0].box
    assert left < 220 < right and top < 120 < bottom  # the face, not the patch at (170, 380)
    patch = all_dets[1]
    assert patch.score < align.MIN_SCORE and abs((patch.box[2] - patch.box[0]) - (right - left)) <= 5
    assert len(align.detect_faces(photo)) == 1
    np.testing.assert_allclose(res.landmarks, all_dets[0].landmarks)
    # a photo over DETECT_MAX_SIDE is detected on a smaller copy; landmarks still come in full-size pixels
    big = np.asarray(Image.fromarray(photo).resize((1536, 1536), Image.Resampling.LANCZOS))
    (face,) = align.detect_faces(big)
    assert face.box[0] < 3 * 220 < face.box[2] and face.box[1] < 3 * 120 < face.box[3]
    err = np.linalg.norm(key_points(face.landmarks) / 3 - key_points(all_dets[0].landmarks), axis=1)
    assert err.max() < 2.0, err  # key points within 2 px of the 512² photo's


@needs_dlib
def test_photo_modes_and_exif_orientation(tmp_path, astronaut):
    """EXIF-rotated, RGBA, greyscale and 16-bit copies align like the original (or its grey version)."""
    photo = astronaut[0]
    size, tsize = 256, 512
    paths = {
        # stored turned a quarter, with the EXIF tag (6: rotate 90 CW to display) that turns it back
        "exif": write_photo(tmp_path / "exif.png", np.ascontiguousarray(np.rot90(photo, 1)), exif=exif_orientation(6)),
        "rgba": write_photo(tmp_path / "rgba.png", np.concatenate([photo, np.full_like(photo[..., :1], 255)], -1)),
        "grey": write_photo(tmp_path / "grey.png", np.asarray(Image.fromarray(photo).convert("L"))),
    }
    grey16 = np.asarray(Image.open(paths["grey"])).astype(np.uint16) * 257
    paths["grey16"] = write_photo(tmp_path / "grey16.png", grey16)
    assert Image.open(paths["grey16"]).mode.startswith("I")
    paths["plain"] = write_photo(tmp_path / "plain.png", photo)
    res = align_images(list(paths.values()), tmp_path / "out", size, transform_size=tsize)
    assert all(r.error is None for r in res), [r.error for r in res]
    out = {k: load(r.outputs[0]) for k, r in zip(paths, res)}
    np.testing.assert_array_equal(out["exif"], out["plain"])
    np.testing.assert_array_equal(out["rgba"], out["plain"])
    np.testing.assert_array_equal(out["grey16"], out["grey"])
    assert (out["grey"][..., 0] == out["grey"][..., 2]).all()


def exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@needs_dlib
def test_cli_no_face_several_faces_all_faces(tmp_path, astronaut, capsys):
    photo = astronaut[0]
    head = photo[20:240, 110:330]  # the face without the patch
    small = np.asarray(Image.fromarray(head).resize((150, 150), Image.Resampling.LANCZOS))
    pair = np.zeros((240, 420, 3), np.uint8)
    pair[10:230, 0:220], pair[40:190, 250:400] = head, small
    two = write_photo(tmp_path / "two.png", pair)
    flat = write_photo(tmp_path / "flat.png", np.full((64, 64, 3), 128, np.uint8))
    tiny = write_photo(tmp_path / "tiny.png", photo[::64, ::64])
    out = tmp_path / "out"
    assert main(["align", str(two), str(flat), str(tiny), "--size", "64", "--outdir", str(out)]) == 1
    cap = capsys.readouterr()
    assert "flat.png: no face found" in cap.err and "tiny.png: no face found" in cap.err
    assert cap.err.count("\n") == 2 and "aligned 1 face(s) from 1 of 3 photo(s)" in cap.out
    assert sorted(p.name for p in out.iterdir()) == ["two.png"]
    faces = align.detect_faces(pair)
    assert len(faces) == 2 and faces[0].score > faces[1].score

    assert main(["align", str(two), "--size", "64", "--outdir", str(out), "--all-faces"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["two.png", "two_0.png", "two_1.png"]
    second = align_face(pair, faces[1].landmarks, 64).image
    np.testing.assert_array_equal(load(out / "two_1.png"), second)  # the lower-scored face
    np.testing.assert_array_equal(load(out / "two_0.png"), load(out / "two.png"))  # default = best
    assert not np.array_equal(load(out / "two_0.png"), second)  # (the same person: alike, not identical)
    assert "two_1.png" in capsys.readouterr().out
