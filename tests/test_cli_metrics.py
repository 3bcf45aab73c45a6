"""`latentjax metrics ...` and `latentjax flow train` / `edit --space w*` on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA, load_cached

from latentjax.cli import main
from latentjax.dataset import row_latents
from latentjax.metrics.separability import linear_separability
from latentjax.seeds import z_from_seeds
from latentjax.toyfaces import ATTRIBUTES, labels_of

PKL = DATA / "stylegan2/sg2_r32_z64_m8.pkl"  # 32x32, z_dim 64: the classifier sees resized images


def run(args, capsys) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "data"
    assert main(["sample", "--model", str(PKL), "--n", "300", "--batch", "100", "--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.slow  # ~7 s of CPU (2026-12-02)
def test_separability_exact_labels_both_engines(tmp_path, capsys):
    scores = {}
    for engine in ("sklearn", "jax"):
        out = tmp_path / f"{engine}.json"
        args = ["metrics", "separability", "--labels", "exact", "--n", 600, "--space", "z", "--engine", engine]
        code, text = run([*args, "--out", out, "--quiet"], capsys)
        assert code == 0, text
        r = json.loads(out.read_text())
        assert r["attributes"] == list(ATTRIBUTES) and len(r["result"]["per_attribute"]) == len(ATTRIBUTES)
        scores[engine] = r["result"]["score"]
        assert f"linear separability (z, {engine}): {scores[engine]:.4f}" in text
    assert scores["jax"] == pytest.approx(scores["sklearn"], rel=0.02)
    # the CLI's rows are latentjax sample's rows: z of (seed 0, i), labelled by the toy world
    z = np.asarray(row_latents(0, np.arange(600), 64))
    exact = np.stack([np.asarray(v) for v in labels_of(z).values()], axis=1)
    assert scores["sklearn"] == pytest.approx(linear_separability(z, exact, engine="sklearn").score, rel=1e-6)


def test_exact_labels_refused_off_the_toy_world(capsys):
    code, text = run(["metrics", "separability", "--labels", "exact", "--trunc", 0.7, "--n", 50], capsys)
    assert code == 2 and "exact labels exist only for the toyfaces generators at truncation psi = 1" in text


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_scores_and_dci_on_a_sampled_dataset(dataset, tmp_path, capsys):
    code, text = run(["metrics", "scores", "--data", dataset, "--folds", 3, "--out", tmp_path / "s.json"], capsys)
    assert code == 0, text
    s = json.loads((tmp_path / "s.json").read_text())
    auc = np.array(s["cv"]["auc"])
    assert s["n"] == 300 and auc.shape == (len(ATTRIBUTES),) and ((auc >= 0) & (auc <= 1)).all()
    assert s["svm"]["min"] <= s["svm"]["mean"] <= s["svm"]["max"]
    ratio = np.array(s["pca_explained_variance_ratio"])
    assert np.all(np.diff(ratio) <= 1e-6) and ratio.sum() == pytest.approx(1.0, abs=1e-4)
    code, text = run(["metrics", "dci", "--data", dataset, "--space", "z", "--out", tmp_path / "d.json"], capsys)
    assert code == 0, text
    d = json.loads((tmp_path / "d.json").read_text())["result"]
    assert 0 <= d["disentanglement"] <= 1 and 0 <= d["completeness"] <= 1 and 0 <= d["informativeness"] <= 1
    assert np.array(d["importance"]).shape == (64, len(ATTRIBUTES))


def test_separability_of_user_probabilities(tmp_path, capsys):
    z = np.asarray(row_latents(0, np.arange(400), 64))
    probs = np.stack([z[:, 0] > 0, np.random.RandomState(0).rand(400) > 0.5], axis=1).astype(np.float32)
    np.save(tmp_path / "p.npy", probs)
    args = ["metrics", "separability", "--probs", tmp_path / "p.npy", "--attributes", "z0_positive,coin"]
    code, text = run([*args, "--n", 400, "--space", "z", "--engine", "sklearn", "--out", tmp_path / "r.json"], capsys)
    assert code == 0, text
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["attributes"] == ["z0_positive", "coin"]
    per = r["result"]["per_attribute"]
    assert per[0] == pytest.approx(1.0, abs=1e-9) and per[1] > 1.2  # a coordinate sign is linear, a coin is not
    np.save(tmp_path / "bad.npy", probs[:10])
    code, text = run([*args[:3], tmp_path / "bad.npy", "--n", 400, "--space", "z"], capsys)
    assert code == 2 and "one row per sampled latent" in text


@pytest.mark.slow  # ~19 s of CPU (2026-12-02)
def test_flow_train_then_edit_in_wstar(tmp_path, capsys):
    out = tmp_path / "flow"
    args = ["flow", "train", "--model", PKL, "--n", 200, "--steps", 6, "--hidden", 16, "--couplings", 2]
    code, text = run([*args, "--out", out, "--quiet"], capsys)
    assert code == 0, text
    assert (out / "flow").is_dir() and "trained T on 200 w latents (6 steps)" in text
    edit = ["edit", "--model", PKL, "--space", "w*", "--flow", out / "flow", "--attribute", "smiling"]
    code, text = run([*edit, "--seeds", "0-1", "--strengths=-2,0,2", "--outdir", tmp_path / "e"], capsys)
    assert code == 0, text
    ws = np.load(tmp_path / "e" / "edited.npz")["ws"].reshape(3, 2, -1)
    G = load_cached(PKL)
    original = np.asarray(G.mapping(z_from_seeds([0, 1], G.config.z_dim))).reshape(2, -1)
    np.testing.assert_allclose(ws[1], original, atol=1e-4)  # strength 0: T^-1(T(w)) = w
    assert np.abs(ws[0] - ws[1]).max() > 1e-3 and np.abs(ws[2] - ws[1]).max() > 1e-3
    code, text = run(["edit", "--model", PKL, "--space", "w*", "--attribute", "smiling"], capsys)
    assert code == 2 and "--space w* needs --flow" in text
    code, text = run([*edit[:-2], "--attribute", "nope", "--seeds", "0"], capsys)
    assert code == 2 and "unknown attribute 'nope'" in text


@pytest.mark.slow  # ~10 s of CPU (2026-12-02)
def test_ppl_command_matches_the_library(tmp_path, capsys):
    from latentjax.metrics.ppl import perceptual_path_length

    args = ["metrics", "ppl", "--model", PKL, "--n", 6, "--batch", 4, "--space", "z", "--sampling", "full"]
    code, text = run([*args, "--out", tmp_path / "p.json", "--quiet"], capsys)
    assert code == 0, text
    r = json.loads((tmp_path / "p.json").read_text())["result"]
    ref = perceptual_path_length(load_cached(PKL), 6, space="z", sampling="full", batch=4)
    assert r["num_samples"] == 6 and r["mean"] == pytest.approx(ref.mean, rel=1e-5)
    assert f"PPL z-full: {ref.mean:.4g}" in text
