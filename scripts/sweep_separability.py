"""Linear separability swept over models (or training checkpoints), truncation psi and spaces.

One sample per (model, psi) is drawn, synthesised and classified; every space is scored on it.
Writes OUT.md (table), OUT.json and OUT.png (score vs psi, one line per model and space).

    python3 scripts/sweep_separability.py --models toyfaces-sg2,toyfaces-sg1 --psi 1,0.7,0.5 --n 20000
    python3 scripts/sweep_separability.py --models ckpt_1000/,ckpt_2000/ --spaces w --engine sklearn
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import latentjax
from latentjax.metrics.sample import sample_labelled
from latentjax.metrics.separability import linear_separability


def sweep(models, psis, spaces, n, engine, seed, labels, classifier, progress=True) -> list[dict]:
    clf = latentjax.load_classifier(classifier) if labels == "classifier" else None
    rows = []
    for model in models:
        G = latentjax.load_generator(model)
        for psi in psis:
            t0 = time.perf_counter()
            data = sample_labelled(G, n, seed, psi, labels, clf, progress=progress)
            t_sample = time.perf_counter() - t0
            for space in spaces:
                t0 = time.perf_counter()
                r = linear_separability(data.latents(space), data.probs, engine=engine, attributes=data.attributes)
                rows.append(
                    {
                        "model": model,
                        "psi": psi,
                        "space": space,
                        "score": r.score,
                        "per_attribute": dict(zip(data.attributes, r.per_attribute.tolist())),
                        "sample_s": t_sample,
                        "fit_s": time.perf_counter() - t0,
                    }
                )
                print(f"{model} psi {psi} {space}: {r.score:.3f}", flush=True)
    return rows


def markdown(rows, args) -> str:
    spaces = list(dict.fromkeys(r["space"] for r in rows))
    lines = [
        "# Linear separability sweep",
        "",
        f"`{args.command_line}`: {args.n} samples per (model, psi), {args.engine} engine, {args.labels} labels; "
        "score = exp(sum_a H(Y_a | SVM_a)) (NVIDIA's 2^(sum H in bits)); lower = more linearly separable.",
        "",
        "| model | psi | " + " | ".join(spaces) + " |",
        "|---|---|" + "---|" * len(spaces),
    ]
    keys = list(dict.fromkeys((r["model"], r["psi"]) for r in rows))
    for model, psi in keys:
        vals = {r["space"]: r["score"] for r in rows if r["model"] == model and r["psi"] == psi}
        lines.append(f"| {model} | {psi:g} | " + " | ".join(f"{vals[s]:.3f}" for s in spaces) + " |")
    return "\n".join(lines) + "\n"


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for model, space in dict.fromkeys((r["model"], r["space"]) for r in rows):
        pts = sorted((r["psi"], r["score"]) for r in rows if r["model"] == model and r["space"] == space)
        ax.plot(*zip(*pts), marker="o", label=f"{Path(model).name or model} {space.upper()}")
    ax.set_xlabel("truncation psi")
    ax.set_ylabel("linear separability (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="toyfaces-sg2", help="comma list: shipped names, pickles, checkpoint dirs")
    ap.add_argument("--psi", default="1.0,0.7,0.5", help="comma list of truncation psi")
    ap.add_argument("--spaces", default="z,w")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--engine", choices=["jax", "sklearn"], default="jax")
    ap.add_argument("--labels", choices=["classifier", "exact"], default="classifier")
    ap.add_argument("--classifier", default="toyfaces")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/sweep_separability", help="writes OUT.md, OUT.json, OUT.png")
    ap.add_argument("--quiet", action="store_true")
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = ap.parse_args(argv)
    args.command_line = " ".join(["python3 scripts/sweep_separability.py", *argv])
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    psis = [float(p) for p in args.psi.split(",")]
    spaces = [s.strip() for s in args.spaces.split(",")]
    rows = sweep(models, psis, spaces, args.n, args.engine, args.seed, args.labels, args.classifier, not args.quiet)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    out.with_suffix(".md").write_text(markdown(rows, args))
    plot(rows, out.with_suffix(".png"))
    print(f"wrote {out}.md, .json, .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
