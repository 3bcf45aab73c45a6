"""A real package: the wheel carries the shipped models, so `pip install .` (not only -e) works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_models_and_generates(tmp_path):
    # Build from a copy of the project's own files, so the checkout gets no build/ or egg-info debris.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("latentjax", "weights"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", str(src), "--no-deps", "-w", str(dist)], check=True, cwd=tmp_path)
    (wheel,) = dist.glob("latentjax-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "weights").iterdir() if (p / "config.json").is_file())
    for model in shipped:
        assert f"latentjax/_weights/{model}/config.json" in names, model
    assert "latentjax/studio/static/index.html" in names

    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    run = tmp_path / "elsewhere"  # not the checkout: nothing may resolve through the source tree
    run.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import latentjax.load as L; print(L.__file__); print(L.WEIGHTS_DIR)"],
        env=env,
        cwd=run,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(site)) and where[1].startswith(str(site)), where
    out = run / "out"
    cmd = [sys.executable, "-m", "latentjax", "generate", "--model", "toyfaces-sg2", "--seeds", "0-1"]
    cmd += ["--outdir", str(out)]
    subprocess.run(cmd, env=env, cwd=run, check=True, capture_output=True, text=True)
    assert len(list(out.glob("*.png"))) >= 2
