"""The one writer behind the measured reports in reports/ (scripts/*_report.py).

Every report opens with the same provenance header, so a reader can tell whether its numbers still
describe the shipped models: the command that reproduces it, when and at which git commit it was
made, which weights it measured (each model's and the classifier's last commit and a digest of
their files: a retrained model changes both) and the machine and its load. A report is a markdown
file plus a json of its numbers (`write`), both written all-or-nothing.

    prov = provenance("metrics_report.py", argv, models=[args.model], classifier="toyfaces")
    ...                                                  # measure
    rep = {"provenance": finish(prov), ...}
    write(out, "\\n".join([*header("Disentanglement metrics", rep["provenance"]), *body]), rep)
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from latentjax.io import atomic_write_file

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    """`git -C REPO args...` stdout, or None outside a checkout (an installed wheel) or without git."""
    try:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def weights_version(name: str, path: str | os.PathLike) -> dict:
    """{name, commit, sha256} of a weights directory (or file): the last commit that touched it (None
    outside the repo), '+' appended when its files differ from that commit, and the first 12 hex digits
    of a sha256 over its files' relative paths and bytes (stable wherever the files are)."""
    p = Path(path).resolve()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode() + b"\0" + f.read_bytes())
    commit = None
    if p.is_relative_to(REPO):
        rel = str(p.relative_to(REPO))
        commit = _git("log", "-1", "--format=%h", "--", rel) or None
        if commit and _git("status", "--porcelain", "--", rel):
            commit += "+"
    return {"name": name, "commit": commit, "sha256": h.hexdigest()[:12]}


def _model_path(name: str) -> Path:
    from latentjax.load import WEIGHTS_DIR

    return WEIGHTS_DIR / name if (WEIGHTS_DIR / name).exists() else Path(name)


def provenance(script: str, argv: Sequence[str] | None, models: Iterable[str] = (), classifier: str | None = None):
    """Call when a report's run starts. argv: its arguments (None: sys.argv[1:]); models: generator names
    or paths; classifier: a shipped classifier name ('toyfaces') or directory, if the report uses one."""
    argv = sys.argv[1:] if argv is None else list(argv)
    weights = [weights_version(m, _model_path(m)) for m in models]
    if classifier is not None:
        weights.append(weights_version(f"classifier {classifier}", _model_path(f"{classifier}-classifier")))
    import jax

    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no", "--", "latentjax", "scripts", "weights"):
        commit += "+"  # uncommitted changes to the code or weights
    return {
        "command": shlex.join(["python3", f"scripts/{script}", *argv]),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "weights": weights,
        "machine": f"{os.cpu_count()} CPU cores, jax {jax.__version__} on {jax.device_count()} "
        f"{jax.default_backend()} device(s)",
        "load_start": round(os.getloadavg()[0], 1),
        "t0": time.time(),
    }


def finish(prov: dict) -> dict:
    """The provenance with the run's wall time and the load average (1 and 15 min) at its end."""
    load = os.getloadavg()
    done = {k: v for k, v in prov.items() if k != "t0"}
    return {**done, "seconds": round(time.time() - prov["t0"], 1), "load_end": [round(load[0], 1), round(load[2], 1)]}


def header(title: str, prov: dict) -> list[str]:
    """Markdown lines: '# title' and the provenance block (from `finish`'s dict, e.g. read back from json)."""
    w = ", ".join(f"`{v['name']}` (commit {v['commit'] or 'none'}, sha256 {v['sha256']})" for v in prov["weights"])
    load = prov.get("load_end", [None, None])
    return [
        f"# {title}",
        "",
        f"- Made by `{prov['command']}`, started {prov['started']}, at commit {prov['commit'] or 'unknown'}"
        + (f", wall {prov['seconds'] / 60:.1f} min." if "seconds" in prov else "."),
        f"- Weights: {w or 'none'}.",
        f"- Machine: {prov['machine']}; load average {prov['load_start']} at the start, "
        f"{load[0]} at the end (15-min {load[1]}).",
        "",
    ]


def table(columns: Sequence[str], rows: Iterable[Sequence]) -> list[str]:
    """Markdown table lines; cells are str()-ed (format numbers before)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def write(md_path: str | os.PathLike, markdown: str, data: dict | None = None) -> Path:
    """Write the markdown, and `data` as json next to it (same name, .json), each all-or-nothing."""
    md_path = Path(md_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        text = json.dumps(data, indent=1)
        atomic_write_file(md_path.with_suffix(".json"), lambda f: f.write(text.encode()))
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    return atomic_write_file(md_path, lambda f: f.write(text.encode()))
