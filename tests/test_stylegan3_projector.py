"""The projector's StyleGAN3 options on a small freshly designed SG3-T (random weights, designed
filters, calibrated magnitudes): anchoring the input affine to w_avg, fitting the input transform
(rotation + translation) jointly with the latent, and their refusal on other architectures."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import small_sg3t

from latentjax import validate
from latentjax.generator import synthesis_fn
from latentjax.nets.stylegan3 import input_transform
from latentjax.projector import ProjectConfig, evaluate, project

MSE_ONLY = dict(perceptual="none", mse_weight=1.0, w_avg_samples=256, initial_learning_rate=0.05)
# (translate x, y in image widths, rotate degrees) per target, the gen_images.py options
TRUTH = np.array([[0.05, -0.03, 6.0], [-0.04, 0.02, -8.0]], np.float32)


@pytest.fixture(scope="module")
def small_sg3():
    """32^2 SG3-T with 4 layers + ToRGB, as `design_stylegan3` lays it out (the toy's recipe)."""
    return small_sg3t(32, seed=7, channel_base=256)


@pytest.fixture(scope="module")
def shifted_targets(small_sg3):
    """True ws [2, num_ws, w_dim] and their images rendered with the TRUTH transforms."""
    G = small_sg3
    ws = np.asarray(G.mapping(np.random.RandomState(3).randn(2, G.config.z_dim).astype(np.float32)))
    m = np.stack([input_transform(tuple(t[:2]), t[2]) for t in TRUTH])
    return ws, np.asarray(synthesis_fn(G.variables, jnp.asarray(ws), [], jnp.asarray(m), cfg=G.config))


@pytest.fixture(scope="module")
def fits(small_sg3, shifted_targets):
    """W+ pixel-loss projections of the shifted/turned targets from their true latents, with and
    without the transform fit: what is left to explain is the transform alone."""
    ws, targets = shifted_targets
    out = {}
    for fit in (False, True):
        cfg = ProjectConfig(**MSE_ONLY, fit_transform=fit, transform_lr_mul=1.0)
        out[fit] = project(small_sg3, targets, "w+", 60, cfg, init=ws)
    return out


@pytest.mark.slow  # two 60-step projections (about a minute on 2 cores; 10 min under load 17)
def test_fit_transform_recovers_rotation_and_shift(fits):
    fitted, plain = fits[True], fits[False]
    assert plain.transform is None and fitted.transform.shape == (2, 3)
    # StyleGAN3 has no noise inputs: the noise regulariser is skipped, not faked, and no maps come back
    assert plain.noise is None and fitted.noise is None and np.isfinite(plain.loss).all()
    assert fitted.loss[-1].mean() < 0.5 * fitted.loss[0].mean(), fitted.loss[[0, -1]]
    assert np.abs(fitted.transform[:, :2] - TRUTH[:, :2]).max() < 0.01, fitted.transform
    assert np.abs(fitted.transform[:, 2] - TRUTH[:, 2]).max() < 1.0, fitted.transform
    assert np.all(fitted.mse < 0.1 * plain.mse), (fitted.mse, plain.mse)


@pytest.mark.slow
def test_fitted_transform_renders_the_projection(small_sg3, fits, shifted_targets):
    """result.images == the saved latent rendered with the reported transform, both through
    evaluate(transform=) and G.with_transform (what `generate --translate --rotate` does)."""
    r, (_, targets) = fits[True], shifted_targets
    _, mse, imgs = evaluate(small_sg3, r.ws, targets, transform=r.transform)
    assert np.abs(imgs - r.images).max() < 1e-5 and np.allclose(mse, r.mse, rtol=1e-4, atol=1e-9)
    for j, t in enumerate(r.transform):
        img = small_sg3.with_transform((float(t[0]), float(t[1])), float(t[2])).synthesis(r.ws[j : j + 1])
        assert np.abs(np.asarray(img)[0] - r.images[j]).max() < 1e-4


@pytest.mark.slow  # ~44 s on 2 quiet cores, setup included (2026-12-02)
def test_anchor_input_holds_the_fourier_affine_at_w_avg(small_sg3, shifted_targets):
    G, (_, targets) = small_sg3, shifted_targets
    r = project(G, targets, "w", 5, ProjectConfig(**MSE_ONLY, anchor_input=True))
    assert np.array_equal(r.ws[:, 0], np.broadcast_to(np.asarray(G.w_avg), r.ws[:, 0].shape))
    assert np.array_equal(r.ws[:, 1:], np.broadcast_to(r.w[:, None], r.ws[:, 1:].shape))
    assert np.abs(np.asarray(G.synthesis(r.ws)) - r.images).max() < 1e-5


def test_sg3_options_are_refused_on_other_architectures(tiny_sg2):
    t = np.zeros((1, 16, 16, 3), np.float32)
    for opt in ("anchor_input", "fit_transform"):
        with pytest.raises(validate.InputError, match=f"{opt}.*StyleGAN3.*stylegan2"):
            project(tiny_sg2, t, "w", 1, ProjectConfig(**MSE_ONLY, **{opt: True}))


def test_cli_refuses_sg3_options_on_stylegan2_before_writing(tiny_sg2, tmp_path, capsys):
    """`latentjax project --fit-transform` on a StyleGAN2 model: one error line, exit 2, no folder."""
    from PIL import Image

    from latentjax.checkpoint import save_generator
    from latentjax.cli import main

    save_generator(tmp_path / "sg2", tiny_sg2.config, tiny_sg2.variables)
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(tmp_path / "t.png")
    out = tmp_path / "out"
    for flag in ("--fit-transform", "--anchor-input"):
        code = main(["project", str(tmp_path / "t.png"), "--model", str(tmp_path / "sg2"), flag, "--outdir", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "StyleGAN3" in err and "stylegan2" in err, err
        assert not out.exists()
