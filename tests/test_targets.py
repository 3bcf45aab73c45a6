"""latentjax.targets: what projection / inversion accept, what they say they converted, what they refuse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from latentjax.errors import InputError
from latentjax.targets import (
    MAX_UPSCALE,
    MIN_SIDE,
    crop_resize_notes,
    load_target,
    min_side,
    prepare_target,
    read_image,
    to_target,
)

sides = st.integers(1, 4096)
resolutions = st.sampled_from([4, 8, 16, 32, 64, 128, 256, 512, 1024])


@given(sides, sides, resolutions)
def test_crop_resize_notes_describe_the_crop_and_the_resize(h, w, r):
    notes = crop_resize_notes(h, w, r)
    s = min(h, w)
    crop = [n for n in notes if n.startswith("centre-cropped")]
    scale = [n for n in notes if "scaled" in n]
    assert crop == ([] if h == w else [f"centre-cropped {w}x{h} -> {s}x{s}"])
    if s == r:
        assert scale == []
    else:  # the side named is the cropped square's, the target the resolution
        assert scale == [f"{'up' if s < r else 'down'}scaled {s} -> {r}"]


@given(resolutions)
def test_min_side_is_the_floor_or_the_upscale_limit_never_above_the_resolution(r):
    m = min_side(r)
    assert m <= r
    assert m * MAX_UPSCALE >= r or m == r  # never more than 8x upscaling unless the generator is that small
    assert m >= min(r, MIN_SIDE)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([8, 16, 32]))
def test_to_target_accepts_exactly_from_min_side(h, w, r):
    a = np.full((h, w, 3), 0.5, np.float32)
    if min(h, w) < min_side(r):
        with pytest.raises(ValueError, match=f"{w}x{h} is too small for a {r}x{r} generator"):
            to_target(a, r)
    else:
        t = to_target(a, r)
        assert t.pixels.shape == (1, r, r, 3)
        np.testing.assert_allclose(t.pixels, 0.0, atol=1e-5)  # grey 0.5 -> 0 on [-1, 1], any resampling


def _save(path, array, mode=None, **kw):
    Image.fromarray(array, mode).save(path, **kw) if mode else Image.fromarray(array).save(path, **kw)
    return path


def test_greyscale_repeated_to_rgb_or_kept_for_one_channel(tmp_path):
    g = np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) % 251
    p = _save(tmp_path / "g.png", g.astype(np.uint8))
    t = prepare_target(p, 64)
    assert t.notes == ("greyscale -> RGB",)
    np.testing.assert_allclose(t.pixels[0], np.repeat(g[..., None] / 127.5 - 1, 3, -1), atol=1e-6)
    one = prepare_target(p, 64, channels=1)
    assert one.notes == () and one.pixels.shape == (1, 64, 64, 1)


def test_rgb_to_one_channel_generator_says_luma(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 1] = 255
    t = prepare_target(_save(tmp_path / "c.png", rgb), 32, channels=1)
    assert t.notes == ("RGB -> greyscale (ITU-R 601 luma)",)
    np.testing.assert_allclose(t.pixels, 0.587 * 2 - 1, atol=1e-6)


def test_rgba_composited_over_black_and_said(tmp_path):
    rgba = np.zeros((120, 200, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 102  # red at 40% opacity -> 40% red over black
    t = prepare_target(_save(tmp_path / "a.png", rgba, "RGBA"), 120)
    assert t.notes == ("RGBA -> RGB on black", "centre-cropped 200x120 -> 120x120")
    np.testing.assert_allclose(t.pixels[0, ..., 0], 0.4 * 2 - 1, atol=1e-6)
    np.testing.assert_allclose(t.pixels[0, ..., 1:], -1.0, atol=1e-6)
    rgba[..., 3] = 255  # opaque: nothing is composited, and the note says so
    assert (
        prepare_target(_save(tmp_path / "o.png", rgba, "RGBA"), 120).notes[0] == "RGBA -> RGB (alpha opaque everywhere)"
    )


def test_fully_transparent_refused_with_the_file_named(tmp_path):
    rgba = np.full((64, 64, 4), 200, np.uint8)
    rgba[..., 3] = 0
    with pytest.raises(InputError, match=r"clear\.png: fully transparent"):
        prepare_target(_save(tmp_path / "clear.png", rgba, "RGBA"), 64)


def test_palette_with_transparency(tmp_path):
    p = Image.new("P", (32, 32), 0)
    p.putpalette([255, 255, 255, 10, 20, 30] + [0] * 762)
    p.paste(1, (0, 0, 32, 16))  # top half colour 1 (opaque), bottom half colour 0 (transparent white)
    p.info["transparency"] = 0
    p.save(tmp_path / "p.png", transparency=0)
    t = prepare_target(tmp_path / "p.png", 32)
    assert t.notes == ("P -> RGB on black",)
    np.testing.assert_allclose(
        t.pixels[0, :16], np.broadcast_to(np.array([10, 20, 30]) / 127.5 - 1, (16, 32, 3)), atol=1e-6
    )
    np.testing.assert_allclose(t.pixels[0, 16:], -1.0, atol=1e-6)  # transparent white -> black


def test_16_bit_keeps_its_precision(tmp_path):
    deep = np.full((40, 40), 49151, np.uint16)  # 75% of the range; 8 bits would round to 191.25 -> 191
    p = _save(tmp_path / "deep.png", deep)
    t = prepare_target(p, 40)
    assert t.notes[0].startswith("16-bit greyscale") and "greyscale -> RGB" in t.notes
    np.testing.assert_allclose(t.pixels, 49151 / 65535 * 2 - 1, atol=1e-6)
    assert abs(49151 / 65535 * 2 - 1 - (191 / 127.5 - 1)) > 1e-3  # the 8-bit value is measurably different


def test_non_square_centre_crop_keeps_the_middle(tmp_path):
    a = np.zeros((50, 90, 3), np.uint8)
    a[:, 20:70] = 255  # the centre 50x50 square is white, the bands either side black
    t = prepare_target(_save(tmp_path / "wide.png", a), 50)
    assert t.notes == ("centre-cropped 90x50 -> 50x50",)
    np.testing.assert_allclose(t.pixels, 1.0, atol=1e-6)
    tall = prepare_target(_save(tmp_path / "tall.png", np.ascontiguousarray(a.transpose(1, 0, 2))), 25)
    assert tall.notes == ("centre-cropped 50x90 -> 50x50", "downscaled 50 -> 25")


def test_tiny_upscaled_within_limits_refused_below(tmp_path):
    p = _save(tmp_path / "tiny.png", np.full((16, 16, 3), 128, np.uint8))
    assert prepare_target(p, 64).notes == ("upscaled 16 -> 64",)
    with pytest.raises(InputError, match=r"tiny\.png: 16x16 is too small for a 256x256 generator: need at least 32 px"):
        prepare_target(p, 256)
    q = _save(tmp_path / "sliver.png", np.full((10, 300, 3), 128, np.uint8))  # crop leaves 10x10
    with pytest.raises(InputError, match=r"sliver\.png: 300x10 is too small"):
        load_target(q, 64)


def test_exif_orientation_applied_and_said(tmp_path):
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = 255  # stored: left half white
    img = Image.fromarray(a)
    exif = img.getexif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise: the white half ends up on top
    img.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "phone.jpg")
    assert shown.shape == (40, 20, 3)
    assert shown[:15].mean() > 0.9 and shown[25:].mean() < 0.1
    t = prepare_target(tmp_path / "phone.jpg", 20)
    assert t.notes == ("EXIF orientation 6 applied (rotated 90 degrees clockwise)", "centre-cropped 20x40 -> 20x20")


def test_first_frame_of_an_animation_said(tmp_path):
    frames = [Image.fromarray(np.full((32, 32, 3), v, np.uint8)) for v in (30, 220)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    t = prepare_target(tmp_path / "anim.gif", 32)
    assert t.notes[0] == "first of 2 frames"
    assert t.pixels.mean() < 0  # the dark first frame, not the bright second


def test_unreadable_and_missing_named(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(InputError, match=r"notes\.png: cannot read as an image"):
        prepare_target(tmp_path / "notes.png", 16)
    with pytest.raises(InputError, match=r"gone\.png: no such file"):
        prepare_target(tmp_path / "gone.png", 16)
