"""`latentjax generate / convert / info` from the command line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, load_cached
from PIL import Image

from latentjax.cli import main
from latentjax.media import to_uint8

PKL = DATA / "stylegan2/sg2_r32_z64_m8.pkl"


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_generate_writes_pngs_grid_and_latents(tmp_path):
    out = tmp_path / "gen"
    rc = main(
        [
            "generate",
            "--model",
            str(PKL),
            "--seeds",
            "3-7,11",
            "--trunc",
            "0.7",
            "--trunc-cutoff",
            "4",
            "--batch",
            "4",
            "--outdir",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    seeds = [3, 4, 5, 6, 7, 11]
    assert sorted(p.name for p in out.glob("seed*.png")) == [f"seed{s:04d}.png" for s in seeds]
    grid = np.asarray(Image.open(out / "grid.png"))
    assert grid.shape == (2 * 32, 3 * 32, 3)
    lat = np.load(out / "latents.npz")
    G = load_cached(PKL)
    z = np.concatenate([np.random.RandomState(s).randn(1, 64) for s in seeds]).astype(np.float32)
    np.testing.assert_array_equal(lat["z"], z)  # seeds map to z exactly as NVIDIA's scripts
    np.testing.assert_allclose(lat["ws"], G.mapping(z, 0.7, 4), atol=1e-6)
    img = np.asarray(Image.open(out / "seed0011.png"))
    expect = to_uint8(G.synthesis(G.mapping(z[-1:], 0.7, 4)))[0]
    assert np.abs(img.astype(int) - expect).max() <= 1


@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_generate_from_saved_ws_reproduces_images(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--model", str(PKL), "--seeds", "0-2", "--outdir", str(a), "--quiet"]) == 0
    assert main(["generate", "--model", str(PKL), "--ws", str(a / "latents.npz"), "--outdir", str(b), "--quiet"]) == 0
    for i in range(3):
        np.testing.assert_array_equal(
            np.asarray(Image.open(a / f"seed{i:04d}.png")), np.asarray(Image.open(b / f"ws{i:04d}.png"))
        )


def test_info_prints_architecture(capsys):
    assert main(["info", str(DATA / "stylegan/r64_fused/network.pkl")]) == 0
    out = capsys.readouterr().out
    assert "stylegan" in out and "64x64" in out and "num_ws 10" in out and "315,923" in out


def test_errors_exit_nonzero_with_message(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.pkl")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "w.npz"
    np.savez(bad, ws=np.zeros((2, 3, 4), np.float32))
    assert main(["generate", "--model", str(PKL), "--ws", str(bad), "--outdir", str(tmp_path / "o")]) == 2
    assert "w.npz: ws: expected float array [N, " in capsys.readouterr().err
    assert main(["generate", "--model", str(PKL), "--seeds", "5-2", "--outdir", str(tmp_path / "o")]) == 2
    out = tmp_path / "conv"
    assert main(["convert", str(PKL), str(out)]) == 0
    assert main(["convert", str(PKL), str(out)]) == 2  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err
