"""scripts/fewshot_report.py end to end on a small budget (the full run writes reports/studio_fewshot.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import load_script


@pytest.mark.slow  # ~12 s of CPU (2026-12-02)
def test_fewshot_report_smoke(tmp_path):
    report = load_script("fewshot_report")
    args = ["--attributes", "smiling", "--draws", "1", "--eval", "12", "--full", "200", "--pool", "120"]
    assert report.main([*args, "--out", str(tmp_path)]) == 0
    md = (tmp_path / "studio_fewshot.md").read_text()
    rep = json.loads((tmp_path / "studio_fewshot.json").read_text())
    assert "## smiling: the classifier's mean p(smiling) along the slider" in md
    assert "| **smiling** |" in md and "| smiling |" in md
    row = rep["results"]["smiling"]
    (fs,) = row["fewshot"]
    pos, neg = fs["clicks"]
    assert len(pos) == len(neg) == 10 and not set(pos) & set(neg)
    a = rep["attributes"].index("smiling")
    # even 10 + 10 clicks push the smile up along the slider, and more than the mean other attribute
    assert fs["target_curve"][-1] - fs["target_curve"][0] > 0.2
    assert fs["abs_change"][a] > 2 * np.mean(np.delete(fs["abs_change"], a))
    assert -1 <= fs["cos_full"] <= 1 and rep["C_fewshot"] == 10.0
