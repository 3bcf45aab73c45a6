"""StyleGAN3 in the shell: generate --translate/--rotate (gen_images.py's options), info, and the
latent commands unchanged on an official-format SG3 pickle."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SHARED
from PIL import Image

from latentjax import load_generator
from latentjax.cli import main
from latentjax.nets import stylegan3 as sg3

PKL = SHARED / "stylegan3" / "sg3t_r64.pkl"
needs_pkl = pytest.mark.skipif(not PKL.exists(), reason=f"{PKL} not present")


@pytest.fixture(scope="module")
def G():
    return load_generator(PKL)


@needs_pkl
def test_translate_shifts_the_image(G):
    """SG3-T is translation equivariant: translate (0.125, 0) moves the 64^2 image 8 px along +x
    (the official convention), and (0, 0.125) 8 px along +y; an unshifted comparison is far off."""
    ws = np.asarray(G.mapping(np.random.RandomState(123).randn(4, G.config.z_dim).astype(np.float32)))
    a = np.asarray(G.synthesis(ws))
    bx = np.asarray(G.with_transform((0.125, 0.0)).synthesis(ws))
    by = np.asarray(G.with_transform((0.0, 0.125)).synthesis(ws))
    inner = (slice(None), slice(12, -12), slice(12, -12))
    shifted_x = np.abs(bx[inner] - a[:, 12:-12, 4:-20]).mean()
    shifted_y = np.abs(by[inner] - a[:, 4:-20, 12:-12]).mean()
    assert shifted_x < 1e-3 and shifted_y < 1e-3
    assert np.abs(bx[inner] - a[inner]).mean() > 20 * shifted_x
    assert np.abs(by[inner] - a[inner]).mean() > 20 * shifted_y


def test_rotate_turns_the_fourier_features():
    """A 90 degree user rotation maps the input's pixel grid onto itself: the features are the
    unrotated ones turned by 90 degrees (counter-clockwise in array coordinates, y down)."""
    rng = np.random.default_rng(0)
    c = 16
    p = {
        "weight": jnp.asarray(rng.standard_normal((c, c)), jnp.float32),
        "affine_weight": jnp.asarray(rng.standard_normal((8, 4)), jnp.float32),
        "affine_bias": jnp.asarray([1.0, 0.2, 0.1, -0.1], jnp.float32),
        "freqs": jnp.asarray(rng.uniform(-2, 2, (c, 2)), jnp.float32),
        "phases": jnp.asarray(rng.uniform(-0.5, 0.5, c), jnp.float32),
        "transform": jnp.eye(3, dtype=jnp.float32),
    }
    w = jnp.asarray(rng.standard_normal((2, 8)), jnp.float32)
    kw = dict(size=20, sampling_rate=16.0, bandwidth=2.0)
    a = np.asarray(sg3.fourier_features(p, w, **kw))
    b = np.asarray(sg3.fourier_features(p, w, **kw, transform=jnp.asarray(sg3.input_transform((0, 0), 90.0))))
    assert np.abs(a - b).max() > 0.1
    np.testing.assert_allclose(b, np.rot90(a, 1, axes=(1, 2)), atol=2e-5)


@needs_pkl
@pytest.mark.slow  # compile- or render-heavy (judged from the code, 2026-12-02)
def test_generate_translate_rotate_cli(G, tmp_path):
    """The CLI renders what G.with_transform renders (PNG = to_uint8 of it), and differs from the
    untransformed run."""
    from latentjax.media import to_uint8

    rc = main(
        ["generate", "-m", str(PKL), "--seeds", "0-3", "--batch", "4", "--outdir", str(tmp_path / "a"), "--quiet"]
    )
    assert rc == 0
    argv = ["generate", "-m", str(PKL), "--seeds", "0-3", "--batch", "4", "--outdir", str(tmp_path / "b"), "--quiet"]
    assert main([*argv, "--translate", "0.1,-0.05", "--rotate", "15"]) == 0
    ws = np.load(tmp_path / "b" / "latents.npz")["ws"]
    want = to_uint8(G.with_transform((0.1, -0.05), 15.0).synthesis(ws))
    got = np.stack([np.asarray(Image.open(tmp_path / "b" / f"seed{s:04d}.png")) for s in range(4)])
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    plain = np.stack([np.asarray(Image.open(tmp_path / "a" / f"seed{s:04d}.png")) for s in range(4)])
    plain_f = np.asarray(G.synthesis(ws))
    assert np.abs(plain.astype(int) - to_uint8(plain_f).astype(int)).max() <= 1
    # random weights: most seeds render faint images (std ~0.03), so compare relative to that
    assert np.abs(plain_f - np.asarray(G.with_transform((0.1, -0.05), 15.0).synthesis(ws))).mean() > 0.1 * plain_f.std()


def test_translate_on_other_arch_is_a_clear_error(capsys):
    assert main(["generate", "-m", "toyfaces-sg2", "--seeds", "0", "--rotate", "5", "--outdir", "/nonexistent"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "StyleGAN3" in err and "stylegan2" in err and len(err.splitlines()) == 1


def test_translate_needs_two_numbers(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--translate", "0.3"])
    assert "two numbers" in capsys.readouterr().err


@needs_pkl
@pytest.mark.slow  # compile- or render-heavy (judged from the code, 2026-12-02)
def test_info_and_latent_commands_work_unchanged(G, tmp_path, capsys):
    assert main(["info", str(PKL)]) == 0
    out = capsys.readouterr().out
    assert "stylegan3" in out and "L14_64_3" in out and "num_ws 16" in out
    for argv in (
        ["interpolate", "-m", str(PKL), "--seeds", "1,2", "--steps", "4", "--out", str(tmp_path / "i.gif")],
        ["mix", "-m", str(PKL), "--rows", "1,2", "--cols", "3,4", "--out", str(tmp_path / "m.png")],
        ["sample", "-m", str(PKL), "--n", "4", "--batch", "4", "--out", str(tmp_path / "s"), "--classifier", "none"]
        + ["--thumbnails", "0", "--save-ws", "--quiet"],
    ):
        assert main(argv) == 0, argv
