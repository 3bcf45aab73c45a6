"""The report scripts run end to end on tiny settings (their committed outputs come from full runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import load_script, small_sg3t


@pytest.mark.slow
def test_metrics_report_smoke(tmp_path):
    out = tmp_path / "metrics.md"
    args = ["--n-sep", "300", "--n-ppl", "8", "--n-scores", "300", "--out", str(out)]
    assert load_script("metrics_report").main(args) == 0
    r = json.loads(out.with_suffix(".json").read_text())
    sep = r["separability"]
    for key in ("classifier/z", "classifier/w", "exact/z", "exact/w"):
        assert sep[f"{key}/jax"]["score"] == pytest.approx(sep[f"{key}/sklearn"]["score"], rel=0.02)
    assert all(np.isfinite(v["mean"]) and v["mean"] >= 0 for v in r["ppl"].values())
    text = out.read_text()
    assert "## Perceptual path length" in text and "DCI disentanglement" in text and "## What this shows" in text


@pytest.mark.slow
def test_projection_report_smoke(tmp_path):
    mod = load_script("projection_report")
    out = tmp_path / "projection.md"
    assert mod.main(["--n", "1", "--n-faces", "2", "--steps", "2", "--out", str(out)]) == 0
    r = json.loads(out.with_suffix(".json").read_text())
    assert set(r["in_w"]) == {"w", "w+", "w then w+"}
    assert set(r["rendered"]) == {"w", "w+", "w then w+", "w then w+, +MSE x1", "targets"}
    assert all(np.isfinite(v["psnr"]) and v["lpips"] >= 0 for v in r["in_w"].values())
    assert 0 <= r["rendered"]["w+"]["agreement"] <= 1
    assert "attribute agreement" in out.read_text()


def test_psnr_and_latent_error():
    mod = load_script("projection_report")
    x = np.zeros((2, 4, 4, 3), np.float32)
    y = x.copy()
    y[1] += 0.2  # mse 0.04 on a peak-to-peak range of 2: 10 log10(4 / 0.04) = 20 dB
    floor = 10 * np.log10(4 / 1e-12)  # identical images: mse clamped at 1e-12, not infinity
    np.testing.assert_allclose(mod.psnr(y, x), [floor, 20.0], rtol=1e-5)
    true, avg = np.ones((1, 2, 3)), np.zeros((1, 2, 3))
    assert mod.latent_error(true, true, avg)[0] == 0 and mod.latent_error(avg, true, avg)[0] == pytest.approx(1.0)


@pytest.mark.slow
def test_sg3_projection_report_smoke(tmp_path):
    """scripts/sg3_projection_report.py end to end on a small fresh SG3-T at the toy's 64^2 (designed
    filters, calibrated magnitudes; 4 layers, not the toy's 10, so the four projection programs
    compile in a fraction of the time): every section written, fitted transforms reported."""
    from latentjax.checkpoint import save_generator

    G = small_sg3t(64, seed=0, channel_base=512)
    save_generator(tmp_path / "sg3", G.config, G.variables)
    out = tmp_path / "sg3_projection.md"
    args = ["--model", str(tmp_path / "sg3"), "--n", "1", "--n-faces", "1", "--steps", "2", "--out", str(out)]
    assert load_script("sg3_projection_report").main(args) == 0
    r = json.loads(out.with_suffix(".json").read_text())
    assert set(r["moved"]) >= {"w+", "w+ fit transform"} and len(r["moved"]["fitted_transforms"]) == 1
    assert np.isfinite(r["known"]["psnr"]) and 0 <= r["rendered"]["w then w+"]["agreement"] <= 1
    assert "with `fit_transform`" in out.read_text()
