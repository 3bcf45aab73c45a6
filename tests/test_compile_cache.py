"""The command line's persistent XLA compilation cache: where it goes, how it is turned off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cpu_env

from latentjax.compile_cache import cache_dir, enable


@pytest.mark.parametrize("off", ["0", "off", "OFF", "no", "False", " false "])
def test_the_switch_turns_it_off(off):
    assert cache_dir({"HOME": "/home/u", "LATENTJAX_COMPILE_CACHE": off}) is None


def test_where_it_goes():
    home = {"HOME": "/home/u"}
    assert cache_dir(home) == Path("/home/u/.cache/latentjax/xla")
    assert cache_dir({**home, "XDG_CACHE_HOME": "/c"}) == Path("/c/latentjax/xla")
    assert cache_dir({**home, "XDG_CACHE_HOME": "/c", "LATENTJAX_COMPILE_CACHE": "/x"}) == Path("/x")
    assert cache_dir({"LATENTJAX_COMPILE_CACHE": "~/x"}) == Path("~/x").expanduser()
    # JAX's own variable wins: JAX reads it, latentjax leaves the configuration alone
    assert cache_dir({**home, "JAX_COMPILATION_CACHE_DIR": "/j", "LATENTJAX_COMPILE_CACHE": "/x"}) is None


def test_enable_leaves_jax_alone_where_the_directory_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert enable(blocker / "xla") is None  # a file in the way: no cache, no error


def test_a_command_fills_the_users_cache(tmp_path):
    """`latentjax generate` (a fresh interpreter, JAX's variable unset) writes its compiled
    synthesis program under $XDG_CACHE_HOME/latentjax/xla; with the switch off it writes nothing."""
    env = cpu_env(1)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    cmd = [sys.executable, "-m", "latentjax", "generate", "--seeds", "0", "--batch", "1", "--quiet"]
    on, off = tmp_path / "on", tmp_path / "off"
    subprocess.run([*cmd, "--outdir", str(tmp_path / "a")], env={**env, "XDG_CACHE_HOME": str(on)}, check=True)
    entries = [p.name for p in (on / "latentjax" / "xla").iterdir()]
    assert any("synthesis" in name for name in entries), entries
    subprocess.run(
        [*cmd, "--outdir", str(tmp_path / "b")],
        env={**env, "XDG_CACHE_HOME": str(off), "LATENTJAX_COMPILE_CACHE": "off"},
        check=True,
    )
    assert not (off / "latentjax").exists()
