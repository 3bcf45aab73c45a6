"""`latentjax serve`: the command's own behaviour (the app itself: test_studio_api / _browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from latentjax.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_serve_without_the_studio_extra_names_the_extra(monkeypatch, capsys):
    import latentjax.studio.server as server

    real = server.importlib.util.find_spec
    monkeypatch.setattr(server.importlib.util, "find_spec", lambda m: None if m == "fastapi" else real(m))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'latentjax[studio]'" in err and "fastapi" in err


def test_serve_on_a_busy_port_fails_at_once_with_a_message(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        t = time.perf_counter()
        assert main(["serve", "--port", str(port)]) == 2
    assert time.perf_counter() - t < 5, "the port must be checked before the model is loaded"
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter imports jax and compiles the toy generator: ~15 s idle
def test_serve_prints_the_url_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "latentjax", "serve", "--port", "0", "--directions", str(tmp_path / "dirs")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines, url = [], None
        deadline = time.monotonic() + 240
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("latentjax studio: http://127.0.0.1:"):
                url = line.split()[2].rstrip("/")
        assert url, f"no URL printed: {lines} {proc.stderr.read() if proc.poll() is not None else ''}"
        assert any(line.startswith("compiling the generator") for line in lines)
        assert any(line.startswith("compiled in") for line in lines)
        info = httpx.get(url + "/api/info", timeout=30).json()
        assert info["model"] == "toyfaces-sg2" and info["directions"] == []
        assert httpx.get(url + "/render.png?seed=x", timeout=30).status_code == 400
        assert httpx.get(url + "/render.png?seed=1", timeout=30).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("stopped") and "Traceback" not in err and "KeyboardInterrupt" not in err
