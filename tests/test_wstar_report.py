"""Smoke test of scripts/wstar_report.py (paper 002 Table 1 + W* editing on the toy world): tiny settings."""

from __future__ import annotations

import json
import math

import pytest
from conftest import load_script


def _numbers(x):
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return
    if isinstance(x, int | float):
        yield float(x)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v)
    elif isinstance(x, list):
        for v in x:
            yield from _numbers(v)


@pytest.mark.slow
def test_wstar_report_smoke(tmp_path):
    out = tmp_path / "wstar.md"
    args = ["--n", "400", "--steps", "5", "--dev", "lambda_lm=0,steps=3", "--hidden", "16", "--couplings", "2"]
    args += ["--n-edit", "16", "--dci-n", "120", "--batch", "64", "--out", str(out)]
    script = load_script("wstar_report")
    assert script.main(args) == 0

    md = out.read_text()
    for heading in ("## Table 1", "## Editing", "## Verdict", "## What this shows / does not"):
        assert heading in md
    assert "| W | " in md and "| W* (paper defaults) |" in md and "W* (deviation: lambda_lm 0, steps 3)" in md
    assert "| W+ (paper) | 0.635 |" in md  # the paper's reference rows

    rep = json.loads(out.with_suffix(".json").read_text())
    assert set(rep["table1"]) == {"W", "W* (paper defaults)", "W* (deviation: lambda_lm 0, steps 3)"}
    for row in rep["table1"].values():
        assert 0.0 <= row["min_acc"] <= row["mean_acc"] <= row["max_acc"] <= 1.0
        assert all(0.0 <= row[k] <= 1.0 for k in ("D", "C", "I"))
    for mode in ("fixed", "std"):
        for space in rep["table1"]:
            assert set(rep["edits"][mode][space]["rows"]) == set(rep["attributes"])
    nums = list(_numbers(rep))
    assert nums and all(math.isfinite(v) for v in nums)

    # --render rewrites the markdown from the json alone, with the same numbers
    md2 = tmp_path / "again.md"
    assert script.main(["--render", str(out.with_suffix(".json")), "--out", str(md2)]) == 0
    again = md2.read_text()
    assert "re-rendered from the saved json" in again
    assert again.split("## Set-up")[1] == md.split("## Set-up")[1]
