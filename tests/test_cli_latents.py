"""`latentjax sample` -> `directions fit` -> `edit`: the latent-toolkit workflow on the command line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA, load_cached
from PIL import Image

from latentjax.cli import main
from latentjax.dataset import load_dataset
from latentjax.directions import load_direction
from latentjax.toyfaces import ATTRIBUTES

PKL = DATA / "stylegan2/sg2_r32_z64_m8.pkl"  # z_dim 64 = the toy world's, so labels_of(z) applies


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "data"
    args = ["sample", "--model", str(PKL), "--n", "400", "--shard-size", "150", "--batch", "64", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    return out


@pytest.mark.slow  # ~7 s of CPU (2026-12-02)
def test_sample_writes_a_complete_dataset(dataset, capsys):
    d = load_dataset(dataset, fields=("z", "w", "probs"))
    assert d["z"].shape == (400, 64) and d["w"].shape[0] == 400 and d["probs"].shape == (400, len(ATTRIBUTES))
    np.testing.assert_array_equal(d["index"], np.arange(400))
    G = load_cached(PKL)
    np.testing.assert_allclose(d["w"][:5], np.asarray(G.mapping(d["z"][:5]))[:, 0], atol=1e-5)
    # rerunning is a no-op resume: nothing rewritten
    assert main(["sample", "--model", str(PKL), "--n", "400", "--shard-size", "150", "--out", str(dataset)]) == 0
    assert "0 written now, 3 already done" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["logistic", "batched"])
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_directions_fit_then_edit(dataset, tmp_path, method):
    dirs = tmp_path / "dirs"
    fit = ["directions", "fit", "--data", str(dataset), "--labels", "toyfaces", "--space", "z"]
    assert main([*fit, "--method", method, "--C", "1", "--attributes", "smiling,long_hair", "--out", str(dirs)]) == 0
    d = load_direction(dirs / "smiling.npz")
    assert d.space == "z" and d.attribute == "smiling" and abs(np.linalg.norm(d.vector) - 1) < 1e-5
    assert d.metrics["train_accuracy"] > 0.6 and d.hyperparameters["C"] == 1.0
    out = tmp_path / "edit"
    assert (
        main(
            [
                "edit",
                "--model",
                str(PKL),
                "--direction",
                str(dirs / "smiling.npz"),
                "--seeds",
                "0-1",
                "--outdir",
                str(out),
            ]
        )
        == 0
    )
    assert np.asarray(Image.open(out / "edit.png")).shape == (2 * 32, 5 * 32, 3)
    e = np.load(out / "edited.npz")
    assert e["ws"].shape == (5 * 2, 8, 64)


def test_edit_w_direction_on_layers_only(dataset, tmp_path):
    dirs = tmp_path / "dirs"
    args = ["directions", "fit", "--data", str(dataset), "--labels", "toyfaces", "--attributes", "long_hair"]
    assert main([*args, "--space", "w", "--out", str(dirs)]) == 0
    out = tmp_path / "edit"
    edit = ["edit", "--model", str(PKL), "--direction", str(dirs / "long_hair.npz"), "--layers", "coarse"]
    assert main([*edit, "--strengths", "0,2", "--seeds", "3", "--outdir", str(out)]) == 0
    ws = np.load(out / "edited.npz")["ws"]  # [2 strengths * 1 latent, 8, 64]
    np.testing.assert_array_equal(ws[0, 4:], ws[1, 4:])  # middle rows untouched
    assert np.abs(ws[1, :4] - ws[0, :4]).max() > 0.1


def test_directions_fit_errors(dataset, capsys):
    assert main(["directions", "fit", "--data", str(dataset), "--attributes", "nope", "--out", "x"]) == 2
    assert "unknown attributes" in capsys.readouterr().err
