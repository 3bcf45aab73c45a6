"""The toy-face world's ground truth: latent z -> semantic factors -> binary attributes.

`factors_of` is a FIXED, deterministic, pure-JAX map from z ~ N(0, I) of size `Z_DIM` to the
factors of `FACTORS` (table `FACTOR_SPECS`). It is built to be entangled the way real face data
is, so that latent-space editing tools have something realistic to untangle:

* z is first mixed by a fixed random rotation `u = z @ ROTATION` (built from a fixed numpy seed at
  import), so no single z coordinate is one factor; only `u[:, :NUM_USED]` drive factors and the
  remaining directions of Z are pure nuisance (the image does not depend on them at all).
* Every factor passes through a nonlinear warp (tanh / sigmoid of quadratic, product or sine
  terms), so attribute boundaries are curved surfaces in Z, not hyperplanes.
* Hidden causes correlate factors: a latent "age" greys the hair, shortens it, makes eyeglasses
  likelier and eyes smaller; a latent "maleness" makes beards possible, hair shorter and faces
  wider; darker skin comes with darker hair; the mouth opens more when smiling; light tends to
  come from the side the head turns to.
* One combination is missing from the data, as "long-haired males" in the StyleGAN papers:
  a beard is grown only when the hair is short, ``beard = switch * (hair_length < 0.5)``, so the
  attributes ``beard`` and ``long_hair`` never occur together.

Switch factors (`eyeglasses`, `beard`) are exactly 0.0 or 1.0. Attributes (`ATTRIBUTES`, table
`ATTRIBUTE_SPECS`) are each one factor compared against a threshold, with a frequency between
about 15% and 85% under z ~ N(0, I) (see `attribute_frequencies`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Z_DIM = 64
"""Latent size of the toy generators."""

NUM_USED = 20
"""Rotated latent directions u[:, :NUM_USED] drive the factors; the other Z_DIM - NUM_USED are nuisance."""

_SEED = 20240611


class FactorSpec(NamedTuple):
    """One row of the factor table: name, value range [lo, hi], kind and meaning."""

    name: str
    lo: float
    hi: float
    kind: str  # "continuous", "signed", "switch" (exactly 0.0 or 1.0) or "cyclic" (wraps at 1.0)
    doc: str


FACTOR_SPECS: tuple[FactorSpec, ...] = (
    FactorSpec("smile", -1.0, 1.0, "signed", "mouth curvature: > 0 corners up (smile), < 0 corners down (frown)"),
    FactorSpec("eyeglasses", 0.0, 1.0, "switch", "1 = wears glasses (two dark rings, bridge, arms); likelier with age"),
    FactorSpec(
        "beard", 0.0, 1.0, "switch", "1 = beard over jaw and chin; only ever with short hair (hair_length < 0.5)"
    ),
    FactorSpec("hair_length", 0.0, 1.0, "continuous", "0 = cropped (cap only), 0.5 = down to the mouth, 1 = shoulders"),
    FactorSpec("hair_color", 0.0, 1.0, "continuous", "hair pigment: 0 = black-brown, 0.5 = brown, 1 = blond"),
    FactorSpec("grey", 0.0, 1.0, "continuous", "age cue: blends hair, brows and beard toward silver-grey"),
    FactorSpec("skin_tone", 0.0, 1.0, "continuous", "0 = pale, 1 = dark brown; darker skin comes with darker hair"),
    FactorSpec("face_width", 0.0, 1.0, "continuous", "horizontal radius of the face ellipse (0 = narrow, 1 = wide)"),
    FactorSpec("eye_size", 0.0, 1.0, "continuous", "radius of the eyes (whites and pupils)"),
    FactorSpec("head_yaw", -1.0, 1.0, "signed", "head turn: > 0 features shift to the image right, far side squeezes"),
    FactorSpec("background_hue", 0.0, 1.0, "cyclic", "hue of the backdrop (0 = red, 1/3 = green, 2/3 = blue)"),
    FactorSpec("lighting", -1.0, 1.0, "signed", "key light direction: > 0 lit from the image right, < 0 from the left"),
    FactorSpec(
        "mouth_open", 0.0, 1.0, "continuous", "opening of the mouth (0 = closed line); more likely when smiling"
    ),
)
"""The factor table, in the column order of `factors_of`."""

FACTORS: tuple[str, ...] = tuple(s.name for s in FACTOR_SPECS)
"""Factor names, in column order of `factors_of(z)`."""

NUM_FACTORS = len(FACTORS)
_F = {name: i for i, name in enumerate(FACTORS)}


class AttributeSpec(NamedTuple):
    """A binary attribute: `factor > threshold` (a switch factor uses threshold 0.5)."""

    name: str
    factor: str
    threshold: float
    doc: str


ATTRIBUTE_SPECS: tuple[AttributeSpec, ...] = (
    AttributeSpec("smiling", "smile", 0.0, "mouth corners curve up"),
    AttributeSpec("eyeglasses", "eyeglasses", 0.5, "wears glasses"),
    AttributeSpec("beard", "beard", 0.5, "has a beard (never together with long_hair)"),
    AttributeSpec("long_hair", "hair_length", 0.5, "hair reaches below the mouth"),
    AttributeSpec("grey_hair", "grey", 0.5, "hair at least half grey"),
    AttributeSpec("blond_hair", "hair_color", 0.5, "hair pigment lighter than mid brown"),
    AttributeSpec("dark_skin", "skin_tone", 0.5, "darker than mid skin tone"),
    AttributeSpec("wide_face", "face_width", 0.5, "face wider than average"),
    AttributeSpec("big_eyes", "eye_size", 0.5, "eyes larger than average"),
    AttributeSpec("looking_right", "head_yaw", 0.0, "head turned toward the image right"),
    AttributeSpec("lit_from_right", "lighting", 0.0, "key light on the image-right side of the face"),
    AttributeSpec("mouth_open", "mouth_open", 0.5, "mouth visibly open"),
)
"""The attribute table: each attribute is exactly `factors[:, attribute_factor(name)] > threshold`."""

ATTRIBUTES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTE_SPECS)
"""Binary attribute names, in the order of `ATTRIBUTE_SPECS`."""

_A = {a.name: a for a in ATTRIBUTE_SPECS}


def _rotation(seed: int, n: int) -> np.ndarray:
    """A fixed Haar-random orthogonal [n, n] matrix (QR of a Gaussian with the sign fix)."""
    a = np.random.default_rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(a)
    return (q * np.sign(np.diag(r))[None, :]).astype(np.float32)


ROTATION: np.ndarray = _rotation(_SEED, Z_DIM)
"""The fixed mixing rotation: u = z @ ROTATION (u is again N(0, I) when z is)."""
ROTATION.setflags(write=False)


def attribute_factor(attr: str) -> int:
    """Column index in `FACTORS` of the factor that attribute `attr` thresholds.

    >>> FACTORS[attribute_factor("long_hair")]
    'hair_length'
    """
    if attr not in _A:
        raise KeyError(f"unknown attribute {attr!r}; known: {', '.join(ATTRIBUTES)}")
    return _F[_A[attr].factor]


def attribute_threshold(attr: str) -> float:
    """The threshold: attribute `attr` is `factors[:, attribute_factor(attr)] > attribute_threshold(attr)`."""
    if attr not in _A:
        raise KeyError(f"unknown attribute {attr!r}; known: {', '.join(ATTRIBUTES)}")
    return _A[attr].threshold


def _check_last_dim(x, size: int, what: str, fn: str) -> jax.Array:
    x = jnp.asarray(x)
    if x.ndim not in (1, 2) or x.shape[-1] != size:
        raise ValueError(f"{fn}: expected {what} of shape [N, {size}] (or [{size}]), got shape {tuple(x.shape)}")
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)):
        raise ValueError(f"{fn}: expected a real-valued {what}, got dtype {x.dtype}")
    return x.astype(jnp.float32)


def sample_z(key_or_seed, n: int) -> jax.Array:
    """n latents z ~ N(0, I): [n, Z_DIM] float32, from a jax PRNG key or an int seed."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"sample_z: n must be a non-negative int, got {n!r}")
    key = jax.random.key(int(key_or_seed)) if isinstance(key_or_seed, int | np.integer) else key_or_seed
    return jax.random.normal(key, (int(n), Z_DIM), jnp.float32)


def _switch(cond: jax.Array) -> jax.Array:
    return jnp.where(cond, jnp.float32(1.0), jnp.float32(0.0))


def _factors(z: jax.Array) -> jax.Array:
    """[..., Z_DIM] float32 -> [..., NUM_FACTORS] float32 (the map documented in the module docstring)."""
    # u = z @ ROTATION[:, :NUM_USED] as a running sum over z's coordinates (a scan), not a GEMM, whose
    # blocking (and so rounding) depends on the batch size: a row's factors then depend on its batch at most
    # in the last bit (XLA may still vectorise a batch's tail elements differently). Memory stays [..., NUM_USED].
    rot = jnp.asarray(ROTATION[:, :NUM_USED])

    def step(acc, zi_ri):
        zi, ri = zi_ri
        return acc + zi[..., None] * ri, None

    acc0 = jnp.zeros((*z.shape[:-1], NUM_USED), jnp.float32)
    acc, _ = jax.lax.scan(step, acc0, (jnp.moveaxis(z, -1, 0), rot))
    u = [acc[..., j] for j in range(NUM_USED)]
    sig = jax.nn.sigmoid

    # Hidden causes (not factors themselves): age and maleness.
    age = u[5] + 0.35 * (u[6] ** 2 - 1.0)
    male = u[7] + 0.35 * age + 0.3 * u[8] * u[3]

    smile = jnp.tanh(0.9 * (u[0] + 0.5 * (u[1] ** 2 - 1.0) + 0.3 * jnp.sin(2.0 * u[4])))
    eyeglasses = _switch(u[9] + 0.45 * age + 0.3 * (u[10] ** 2 - 1.0) > 0.8)
    grey = sig(2.2 * (age - 0.8))
    hair_length = sig(1.6 * (u[2] + 0.35 * jnp.sin(1.7 * u[3]) - 0.55 * male - 0.35 * age + 0.1))
    # The missing combination: only short-haired faces ever grow a beard.
    beard = _switch(male > 0.1) * _switch(hair_length < 0.5)
    skin_tone = sig(1.5 * (u[12] + 0.25 * jnp.tanh(2.0 * u[11] * u[13]) - 0.15))
    hair_color = sig(1.5 * (0.8 * u[11] - 0.6 * u[12] + 0.25 * u[4] ** 2 - 0.45))
    face_width = sig(1.4 * (u[13] + 0.4 * male + 0.2 * jnp.sin(3.0 * u[14])))
    eye_size = sig(1.5 * (u[14] - 0.3 * age + 0.25 * jnp.tanh(u[0])))
    head_yaw = jnp.tanh(0.7 * u[15] + 0.1 * u[15] ** 3)
    background_hue = jnp.mod(jnp.arctan2(u[17], u[16]) / (2.0 * np.pi) + 0.5, 1.0)
    lighting = jnp.tanh(0.8 * u[18] + 0.35 * u[15])
    mouth_open = sig(2.0 * (u[19] + 0.6 * smile - 0.25 * age - 0.4))

    cols = {
        "smile": smile,
        "eyeglasses": eyeglasses,
        "beard": beard,
        "hair_length": hair_length,
        "hair_color": hair_color,
        "grey": grey,
        "skin_tone": skin_tone,
        "face_width": face_width,
        "eye_size": eye_size,
        "head_yaw": head_yaw,
        "background_hue": background_hue,
        "lighting": lighting,
        "mouth_open": mouth_open,
    }
    return jnp.stack([cols[name] for name in FACTORS], axis=-1).astype(jnp.float32)


_factors_jit = jax.jit(_factors)


def factors_of(z) -> jax.Array:
    """z: [N, Z_DIM] (or one [Z_DIM]) -> factors [N, NUM_FACTORS] float32, columns as `FACTORS`.

    Pure and deterministic; jit-, vmap- and grad-friendly (switch factors have zero gradient).
    """
    return _factors_jit(_check_last_dim(z, Z_DIM, "latents z", "factors_of"))


def labels_from_factors(f) -> dict[str, jax.Array]:
    """factors [N, NUM_FACTORS] (or one [NUM_FACTORS]) -> {attribute: bool [N]} for every name in `ATTRIBUTES`."""
    f = _check_last_dim(f, NUM_FACTORS, "factors", "labels_from_factors")
    return {a.name: f[..., _F[a.factor]] > a.threshold for a in ATTRIBUTE_SPECS}


def labels_of(z) -> dict[str, jax.Array]:
    """z [N, Z_DIM] -> {attribute: bool [N]}; exactly `labels_from_factors(factors_of(z))`."""
    return labels_from_factors(factors_of(z))


def attribute_frequencies(n: int = 100_000, seed: int = 0) -> dict[str, float]:
    """Fraction of z ~ N(0, I) with each attribute (a Monte-Carlo estimate from n samples)."""
    labels = labels_of(sample_z(seed, n))
    return {name: float(jnp.mean(v.astype(jnp.float32))) for name, v in labels.items()}


MODEL_TAG = "toyfaces"  # generators trained on this world are named "toyfaces-<arch>" in their config


def is_toy_model(cfg) -> bool:
    """A generator config that says it renders this world (its `name` tag is "toyfaces" or "toyfaces-*"):
    only such models have exact labels (`labels_of` of their z). The tag travels with the config
    (shipped weights, `latentjax convert` directories); shapes are never used to guess it."""
    name = getattr(cfg, "name", "") or ""
    return name == MODEL_TAG or name.startswith(MODEL_TAG + "-")
