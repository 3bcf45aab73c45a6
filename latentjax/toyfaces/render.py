"""Cartoon-face renderer: factors -> 64x64 RGB images, pure JAX (jit / vmap / grad friendly).

Every shape is a signed distance function (SDF, in image units: the canvas spans [-1, 1], one
pixel is 2/64) turned into soft coverage by a logistic of width ~1 pixel, and layers are
composited back to front:

background (hue: background_hue) -> long hair behind the head (hair_length, hair colour) ->
neck and shirt -> ears -> face ellipse (face_width, skin_tone, shaded by lighting) -> beard
(beard) -> nose, eyes (eye_size) with pupils, brows -> mouth (smile = curvature, mouth_open) ->
fringe -> eyeglasses (eyeglasses).

head_yaw moves the inner features on a virtual sphere (x = r sin(theta + yaw angle)), which
shifts them toward the turn, foreshortens the far side, slides the ears the other way and
slightly squeezes the face: a nonlinear warp of the coarse structure. Colour factors (skin,
hair colour, grey, background, lighting) only change colours; shape factors only change shapes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from latentjax.toyfaces.factors import FACTORS, NUM_FACTORS

RESOLUTION = 64
"""Output images are [RESOLUTION, RESOLUTION, 3]."""

_PX = 2.0 / RESOLUTION  # one pixel in canvas units
_AA = 0.35 * _PX  # logistic scale: 10%-90% coverage over ~1.5 px
_F = {name: i for i, name in enumerate(FACTORS)}


def _grid():
    c = (jnp.arange(RESOLUTION, dtype=jnp.float32) + 0.5) * _PX - 1.0
    return jnp.meshgrid(c, c, indexing="xy")  # x: columns (left -> right), y: rows (top -> bottom)


def _cov(sdf):
    """Soft coverage in [0, 1] of the region sdf < 0 (anti-aliased over ~1 pixel)."""
    return jax.nn.sigmoid(-sdf / _AA)


def _mix(rgb, color, alpha):
    """Composite `color` ([3] or [H, W, 3]) over rgb [H, W, 3] with coverage alpha [H, W]."""
    return rgb + alpha[..., None] * (color - rgb)


def _sd_ellipse(px, py, rx, ry):
    """Approximate signed distance to an axis-aligned ellipse centred at the origin."""
    k0 = jnp.sqrt((px / rx) ** 2 + (py / ry) ** 2 + 1e-12)
    k1 = jnp.sqrt((px / (rx * rx)) ** 2 + (py / (ry * ry)) ** 2 + 1e-12)
    far = k0 * (k0 - 1.0) / k1
    near = (k0 - 1.0) * jnp.minimum(rx, ry)  # inside, near the centre the gradient form is ill-conditioned
    return jnp.where(k0 < 0.5, near, far)


def _sd_box(px, py, hx, hy, r):
    """Signed distance to a box of half sizes (hx, hy) with corner radius r, centred at the origin."""
    qx = jnp.abs(px) - hx + r
    qy = jnp.abs(py) - hy + r
    outside = jnp.sqrt(jnp.maximum(qx, 0.0) ** 2 + jnp.maximum(qy, 0.0) ** 2 + 1e-12)
    return outside + jnp.minimum(jnp.maximum(qx, qy), 0.0) - r


def _sd_segment(px, py, ax, ay, bx, by, r):
    """Signed distance to a capsule of radius r around the segment a-b."""
    dx, dy = bx - ax, by - ay
    t = jnp.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy + 1e-12), 0.0, 1.0)
    return jnp.sqrt((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2 + 1e-12) - r


def _lerp3(t, c0, c1, c2):
    """Piecewise-linear colour ramp through c0 (t=0), c1 (t=0.5), c2 (t=1)."""
    c0, c1, c2 = (jnp.asarray(c, jnp.float32) for c in (c0, c1, c2))
    t = jnp.clip(t, 0.0, 1.0)
    lo = c0 + (2.0 * t) * (c1 - c0)
    hi = c1 + (2.0 * t - 1.0) * (c2 - c1)
    return jnp.where(t < 0.5, lo, hi)


def _hsv(h, s, v):
    """HSV -> RGB [3] (h cyclic in [0, 1))."""
    n = jnp.asarray([5.0, 3.0, 1.0], jnp.float32)
    k = jnp.mod(n + 6.0 * h, 6.0)
    return v - v * s * jnp.clip(jnp.minimum(k, 4.0 - k), 0.0, 1.0)


def _stack(*vals) -> jax.Array:
    """Scalars (Python or traced) -> [K, 1, 1] float32, for evaluating K shapes over the grid at once."""
    return jnp.stack([jnp.asarray(v, jnp.float32) for v in vals])[:, None, None]


def _render_one(f: jax.Array) -> jax.Array:
    """factors [NUM_FACTORS] -> image [RESOLUTION, RESOLUTION, 3] in [-1, 1]."""
    g = {name: f[i] for name, i in _F.items()}
    smile = jnp.clip(g["smile"], -1.0, 1.0)
    glasses = jnp.clip(g["eyeglasses"], 0.0, 1.0)
    beard = jnp.clip(g["beard"], 0.0, 1.0)
    hair_len = jnp.clip(g["hair_length"], 0.0, 1.0)
    grey = jnp.clip(g["grey"], 0.0, 1.0)
    width = jnp.clip(g["face_width"], 0.0, 1.0)
    eye_size = jnp.clip(g["eye_size"], 0.0, 1.0)
    yaw = jnp.clip(g["head_yaw"], -1.0, 1.0)
    light = jnp.clip(g["lighting"], -1.0, 1.0)
    mouth_open = jnp.clip(g["mouth_open"], 0.0, 1.0)

    x, y = _grid()

    # --- colours -------------------------------------------------------------------------------------
    skin = _lerp3(g["skin_tone"], (1.0, 0.86, 0.74), (0.80, 0.58, 0.42), (0.36, 0.22, 0.14))
    pigment = _lerp3(g["hair_color"], (0.09, 0.06, 0.05), (0.46, 0.26, 0.11), (0.98, 0.84, 0.38))
    silver = jnp.asarray([0.86, 0.87, 0.90], jnp.float32)
    hair = pigment + (0.9 * grey) * (silver - pigment)
    bg_top = _hsv(g["background_hue"], 0.55, 0.95)
    bg_bottom = _hsv(g["background_hue"], 0.65, 0.70)
    shirt = jnp.asarray([0.22, 0.27, 0.38], jnp.float32)
    eye_white = jnp.asarray([0.98, 0.98, 0.98], jnp.float32)
    pupil_col = jnp.asarray([0.07, 0.05, 0.10], jnp.float32)
    lips = jnp.asarray([0.55, 0.08, 0.12], jnp.float32)
    frame_col = jnp.asarray([0.06, 0.06, 0.08], jnp.float32)

    # --- geometry ------------------------------------------------------------------------------------
    cx, cy = 0.02 * yaw, -0.06  # head centre (the skull shifts slightly toward the turn)
    rx = (0.42 + 0.2 * width) * (1.0 - 0.08 * jnp.abs(yaw))
    ry = 0.58
    ang = 0.5 * yaw  # yaw angle on the virtual head sphere

    def on_sphere(theta, depth=1.0):
        """Horizontal position and foreshortening of a feature at angle theta on the head."""
        return cx + depth * rx * jnp.sin(theta + ang), jnp.cos(theta + ang)

    ear_x = [cx + side * rx * 0.97 - 0.14 * rx * yaw for side in (-1.0, 1.0)]  # ears slide against the turn
    mx, mfs = on_sphere(0.0, 0.95)  # mouth
    my, mw = cy + 0.3, 0.18 * mfs
    nx, _ = on_sphere(0.0, 1.12)  # the nose protrudes: moves further than the face surface
    (lx, lfs), (rex, rfs) = on_sphere(-0.47), on_sphere(0.47)  # eyes
    er, ey = 0.06 + 0.075 * eye_size, cy - 0.02
    pr = 0.55 * er
    gaze = 0.35 * er * yaw
    gr = 0.16  # glasses ring radius

    # Every ellipse of the face, evaluated in one batched call: name -> (centre x, centre y, radius x, radius y).
    ellipses = {
        "cap": (cx, cy - 0.07, rx + 0.07 + 0.03 * hair_len, ry + 0.03 + 0.03 * hair_len),
        "shoulders": (0.0, 1.32, 0.9, 0.5),
        "ear_l": (ear_x[0], cy + 0.02, 0.075, 0.12),
        "ear_r": (ear_x[1], cy + 0.02, 0.075, 0.12),
        "face": (cx, cy, rx, ry),
        "beard_face": (cx, cy, rx + 0.025, ry + 0.03),
        "mouth_gap": (mx, my + 0.01, mw + 0.06, 0.09 + 0.06 * mouth_open),
        "nose": (nx, cy + 0.14, 0.04, 0.065),
        "white_l": (lx, ey, er * lfs, 0.85 * er),
        "white_r": (rex, ey, er * rfs, 0.85 * er),
        "pupil_l": (lx + gaze * lfs, ey, pr * lfs, pr),
        "pupil_r": (rex + gaze * rfs, ey, pr * rfs, pr),
        "ring_l": (lx, ey, gr * lfs, 0.8 * gr),
        "ring_r": (rex, ey, gr * rfs, 0.8 * gr),
        "fringe_face": (cx, cy, rx + 0.02, ry + 0.02),
    }
    ecx, ecy, erx, ery = (_stack(*col) for col in zip(*ellipses.values()))
    ell = dict(zip(ellipses, _sd_ellipse(x - ecx, y - ecy, erx, ery)))

    # Capsules: name -> (ax, ay, bx, by, radius).
    brow_y = ey - 0.85 * er - 0.07
    segments = {
        "brow_l": (lx - 0.11 * lfs, brow_y, lx + 0.11 * lfs, brow_y, 0.02),
        "brow_r": (rex - 0.11 * rfs, brow_y, rex + 0.11 * rfs, brow_y, 0.02),
        "arm_l": (lx - gr * lfs, ey - 0.03, ear_x[0], ey - 0.04, 0.014),
        "arm_r": (rex + gr * rfs, ey - 0.03, ear_x[1], ey - 0.04, 0.014),
        "bridge": (lx + gr * lfs, ey - 0.02, rex - gr * rfs, ey - 0.02, 0.018),
    }
    sax, say, sbx, sby, srad = (_stack(*col) for col in zip(*segments.values()))
    seg = dict(zip(segments, _sd_segment(x, y, sax, say, sbx, sby, srad)))

    # Rounded boxes: hair curtain down the sides (to y_end) and the neck.
    y_top, y_end = cy - 0.3, cy - 0.14 + 1.04 * hair_len  # 0.5: just below the mouth; 1: shoulders
    bcx, bcy, bhx, bhy, brad = (
        _stack(*col)
        for col in zip(
            (cx, 0.5 * (y_top + y_end), rx + 0.09 + 0.05 * hair_len, 0.5 * (y_end - y_top), 0.12),
            (0.5 * cx, 0.62, 0.15, 0.3, 0.05),
        )
    )
    curtain, neck = _sd_box(x - bcx, y - bcy, bhx, bhy, brad)

    # Lighting: brightness ramp across the head, from the dark side (-) to the lit side (+).
    shade = (1.0 + 0.32 * light * jnp.clip((x - cx) / rx, -1.2, 1.2))[..., None]

    # --- composite, back to front ----------------------------------------------------------------------
    rgb = bg_top + ((y + 1.0) * 0.5)[..., None] * (bg_bottom - bg_top)
    rgb = rgb * (1.0 + 0.08 * light * x)[..., None]
    rgb = _mix(rgb, hair * shade, _cov(jnp.minimum(ell["cap"], curtain)))  # hair behind the head
    rgb = _mix(rgb, skin * 0.8 * shade, _cov(neck))
    rgb = _mix(rgb, shirt * shade, _cov(ell["shoulders"]))
    rgb = _mix(rgb, skin * 0.92 * shade, _cov(jnp.minimum(ell["ear_l"], ell["ear_r"])))
    rgb = _mix(rgb, skin * shade, _cov(ell["face"]))

    # Beard: jaw and chin below a line rising to the sideburns, leaving a gap around the mouth.
    beard_line = cy + 0.2 - 0.28 * ((x - mx) / rx) ** 2
    beard_sdf = jnp.maximum(jnp.maximum(ell["beard_face"], beard_line - y), -ell["mouth_gap"])
    rgb = _mix(rgb, 0.75 * hair * shade, beard * _cov(beard_sdf))

    rgb = _mix(rgb, skin * 0.72 * shade, _cov(ell["nose"]))
    whites = jnp.minimum(ell["white_l"], ell["white_r"])
    rgb = _mix(rgb, eye_white, _cov(whites))
    pupils = jnp.minimum(jnp.maximum(ell["pupil_l"], ell["white_l"]), jnp.maximum(ell["pupil_r"], ell["white_r"]))
    rgb = _mix(rgb, pupil_col, _cov(pupils))
    rgb = _mix(rgb, 0.75 * hair * shade, _cov(jnp.minimum(seg["brow_l"], seg["brow_r"])))

    # Mouth: a curve of curvature `smile`, thickened into a lens when open.
    dx = x - mx
    tt = dx / mw
    amp = 0.06
    mid = my + smile * amp * (1.0 - 2.0 * tt * tt)  # smile > 0: centre down, corners up (y grows downward)
    slope = -4.0 * smile * amp * dx / (mw * mw)
    half = 0.022 + 0.085 * mouth_open * jnp.clip(1.0 - tt * tt, 0.0, 1.0)
    mouth = jnp.maximum(jnp.abs(y - mid) * jax.lax.rsqrt(1.0 + slope * slope) - half, jnp.abs(dx) - mw)
    rgb = _mix(rgb, lips, _cov(mouth))

    # Fringe over the forehead.
    hairline = cy - 0.33 + 0.22 * ((x - cx) / rx) ** 2 + 0.05 * yaw * (x - cx) / rx
    rgb = _mix(rgb, hair * shade, _cov(jnp.maximum(ell["fringe_face"], y - hairline)))

    # Eyeglasses: two rings, bridge, arms toward the ears.
    rings = jnp.abs(jnp.minimum(ell["ring_l"], ell["ring_r"])) - 0.018
    frame = jnp.minimum(rings, jnp.minimum(jnp.minimum(seg["arm_l"], seg["arm_r"]), seg["bridge"]))
    rgb = _mix(rgb, frame_col, glasses * _cov(frame))

    return jnp.clip(rgb * 2.0 - 1.0, -1.0, 1.0).astype(jnp.float32)


_CHUNK = 32  # faces rendered per vectorised step: keeps the per-pixel intermediates cache-sized (2x faster)


@jax.jit
def _render_batch(f: jax.Array) -> jax.Array:
    if f.shape[0] <= _CHUNK:  # one step: skip the (empty) loop, which would be compiled all the same
        return jax.vmap(_render_one)(f)
    return jax.lax.map(_render_one, f, batch_size=_CHUNK)


_render_single = jax.jit(_render_one)


def render(factors) -> jax.Array:
    """factors [N, NUM_FACTORS] (columns as `FACTORS`) -> images [N, 64, 64, 3] float32 in [-1, 1], NHWC.

    A single face [NUM_FACTORS] gives [64, 64, 3], so `jax.vmap(render)(f)` equals `render(f)` (up to
    last-bit rounding: XLA fuses the two programs differently; repeated calls are bitwise identical).
    Values outside a factor's range are clipped to it; the background hue wraps.
    """
    f = jnp.asarray(factors)
    if f.ndim not in (1, 2) or f.shape[-1] != NUM_FACTORS:
        raise ValueError(
            f"render: expected factors of shape [N, {NUM_FACTORS}] (or [{NUM_FACTORS}]) with columns {FACTORS}, "
            f"got shape {tuple(f.shape)}"
        )
    if not (jnp.issubdtype(f.dtype, jnp.floating) or jnp.issubdtype(f.dtype, jnp.integer)):
        raise ValueError(f"render: expected real-valued factors, got dtype {f.dtype}")
    f = f.astype(jnp.float32)
    return _render_single(f) if f.ndim == 1 else _render_batch(f)
