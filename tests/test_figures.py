"""Style-mixing grids, interpolation strips and noise figures, and their CLI commands."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, load_cached
from PIL import Image

from latentjax.cli import main
from latentjax.figures import interpolation_frames, noise_figure, seeds_to_ws, style_mixing_grid
from latentjax.latent import resolve_layers, style_mix
from latentjax.media import to_uint8

PKL = DATA / "stylegan2/sg2_r32_z64_m8.pkl"  # 32x32, num_ws 8: coarse rows 0-3, middle 4-7


@pytest.fixture(scope="module")
def G():
    return load_cached(PKL)


def test_resolve_layers():
    assert resolve_layers("coarse", 8) == [0, 1, 2, 3]
    assert resolve_layers("coarse,middle", 8) == list(range(8))
    assert resolve_layers("0-2,6", 8) == [0, 1, 2, 6]
    assert resolve_layers([5, 1, 1], 8) == [1, 5]
    with pytest.raises(ValueError, match=r"rows \[8, 9\] do not exist"):
        resolve_layers("7-9", 8)
    with pytest.raises(ValueError, match="bad layer spec"):
        resolve_layers("0-x", 8)


def test_style_mixing_grid_cells_are_mixed_latents(G):
    grid = style_mixing_grid(G, [1, 2], [3, 4, 5], "middle")
    assert grid.shape == (3 * 32, 4 * 32, 3) and grid.dtype == np.uint8
    assert not grid[:32, :32].any()  # blank corner
    rows, cols = seeds_to_ws(G, [1, 2]), seeds_to_ws(G, [3, 4, 5])
    expect = to_uint8(G.synthesis(style_mix(rows[1:2], cols[2:3], [4, 5, 6, 7])))[0]  # row seed 2, col seed 5
    # batch-size-dependent matmul rounding can move a pixel across a uint8 step
    assert np.abs(grid[64:96, 96:128].astype(int) - expect).max() <= 1
    assert np.abs(grid[:32, 32:64].astype(int) - to_uint8(G.synthesis(cols[:1]))[0]).max() <= 1  # header: seed 3


@pytest.mark.parametrize("space", ["z", "w"])
@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_interpolation_passes_through_the_seeds(G, space):
    frames = interpolation_frames(G, [7, 8, 9], steps=3, space=space)
    assert frames.shape == (7, 32, 32, 3)
    keys = to_uint8(G.synthesis(seeds_to_ws(G, [7, 8, 9])))
    for f, k in zip(frames[::3], keys):
        assert np.abs(f.astype(int) - k).max() <= 1  # slerp keeps |z| at the keyframes: same image
    assert np.abs(frames[1].astype(int) - frames[0]).max() > 0


@pytest.mark.slow  # ~12 s of CPU (2026-12-02)
def test_noise_figure_panels(G):
    fig = noise_figure(G, [0, 1], k=3)
    assert fig.shape == (2 * 32, 5 * 32, 3)
    none = to_uint8(G.synthesis(seeds_to_ws(G, [0, 1]), noise_mode="none"))
    assert np.abs(fig[:32, 32:64].astype(int) - none[0]).max() <= 1  # column 2: no noise
    std = fig[:, 128:, 0]
    assert std.max() == 255 and std.min() >= 0  # normalised per row; noise changes some pixels


@pytest.mark.slow  # ~15 s of CPU (2026-12-02)
def test_cli_mix_interpolate_noise_write_images(tmp_path, capsys):
    m = ["--model", str(PKL)]
    assert main(["mix", *m, "--rows", "0-1", "--cols", "2-4", "--layers", "0-3", "--out", str(tmp_path / "m.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "m.png")).shape == (96, 128, 3)
    assert main(["interpolate", *m, "--seeds", "0,1", "--steps", "4", "--out", str(tmp_path / "i.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "i.png")).shape == (2 * 32, 4 * 32, 3)
    gif = ["--seeds", "0,1", "--steps", "3", "--space", "z", "--out", str(tmp_path / "i.gif")]
    assert main(["interpolate", *m, *gif]) == 0
    assert Image.open(tmp_path / "i.gif").n_frames == 4 + 2  # forth and back
    assert main(["noise", *m, "--seeds", "0", "--k", "2", "--out", str(tmp_path / "n.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "n.png")).shape == (32, 160, 3)
    assert main(["mix", *m, "--layers", "fine,bogus"]) == 2
    assert "unknown layer group" in capsys.readouterr().err


def test_pca_extremes_rows_walk_the_components(G):
    from latentjax.directions import pca
    from latentjax.figures import pca_extremes

    w = np.asarray(G.mapping(np.random.RandomState(0).randn(200, 64).astype(np.float32)))[:, 0]
    fig = pca_extremes(G, pca(w, 2), sigmas=(-2, 0, 2))
    assert fig.shape == (2 * 32, 3 * 32, 3)
    assert np.abs(fig[:32, 32:64].astype(int) - fig[32:, 32:64]).max() <= 1  # sigma 0: the mean w in every row
    assert np.abs(fig[:32, :32].astype(int) - fig[:32, 64:]).max() > 10  # -2 vs +2 std along PC 1 differ
