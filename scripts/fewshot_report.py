"""Directions from a few clicks, measured on the toy world: writes reports/studio_fewshot.md.

    python scripts/fewshot_report.py --draws 2 --eval 64              # as in reports/ (8 min at load 14)
    python scripts/fewshot_report.py --draws 1 --eval 16 --out /tmp/r # smoke run

The studio's "label" mode stands behind it: a person clicks 10 faces that have an attribute and
10 that do not, and `Studio.make_direction` (the code behind POST /api/directions) fits an L1
logistic direction in W on those 20 examples. Here the toy classifier clicks: it walks the
seeds of a pool in order, as a person pages through the 16-sample grids, and takes the first 10
faces it calls positive (p > 0.5) and the first 10 it calls negative. Each draw uses its own pool.

Measured with `directions.effects.edit_effect` on held-out latents (seeds never labelled),
along the slider the page shows: lambda = k * std for k in -3..3, std being the spread of w . d
over sampled latents (each direction's own slider unit). For every target attribute, the
classifier's probability of every attribute at each slider position, next to the direction
fitted on 2000 classifier labels with paper 000's C = 0.1 (what `latentjax directions fit` does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from latentjax import load_classifier, load_generator  # noqa: E402
from latentjax.directions import logistic_direction  # noqa: E402
from latentjax.directions.effects import edit_effect  # noqa: E402
from latentjax.render import iter_batches  # noqa: E402
from latentjax.report import finish, header, provenance, write  # noqa: E402
from latentjax.seeds import z_from_seeds  # noqa: E402
from latentjax.studio.engine import Studio  # noqa: E402

SLIDER = np.linspace(-3.0, 3.0, 7)  # slider positions in its own std units (the page's range)
POOL_SIZE = 1000  # seeds per draw's pool; the first `shots` of each class are clicked
FULL_FIRST_SEED = 100_000  # the 2000-label fit's seeds
EVAL_FIRST_SEED = 200_000  # held-out latents the edits are measured on


def probabilities(G, clf, seeds: list[int], batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(w [N, w_dim], classifier probabilities [N, A]) of seeds' images (psi 1, stored noise)."""
    ws = np.concatenate(
        [np.asarray(G.mapping(z_from_seeds(seeds[i : i + batch], G.config.z_dim))) for i in range(0, len(seeds), batch)]
    )
    probs = np.concatenate([clf.probabilities(x) for x in iter_batches(G, ws, batch)])
    return ws, probs


def clicks(seeds: list[int], p: np.ndarray, shots: int) -> tuple[list[int], list[int]] | None:
    """The first `shots` seeds called positive and the first `shots` called negative (None if short)."""
    pos = [s for s, q in zip(seeds, p) if q > 0.5][:shots]
    neg = [s for s, q in zip(seeds, p) if q <= 0.5][:shots]
    return (pos, neg) if len(pos) == len(neg) == shots else None


def effect_row(G, clf, ws_eval, vector, std: float, target: str) -> dict:
    eff = edit_effect(G, clf, ws_eval, vector, std * SLIDER, target)
    curve = eff.mean_curve  # [S, A]
    return {
        "abs_change": eff.mean_abs_change.tolist(),  # [A] mean |p(+3 std) - p(-3 std)|
        "target_curve": curve[:, eff.target_index].tolist(),
        "monotonic_fraction": eff.monotonic_fraction,
        "mean_curve_monotonic": bool(np.all(np.diff(curve[:, eff.target_index]) >= 0)),
    }


def run(
    model: str = "toyfaces-sg2",
    attributes: list[str] | None = None,
    shots: int = 10,
    draws: int = 5,
    n_full: int = 2000,
    n_eval: int = 128,
    pool_size: int = POOL_SIZE,
    log=print,
) -> dict:
    t0 = time.perf_counter()
    G, clf = load_generator(model), load_classifier("toyfaces")
    attrs = list(clf.attributes)
    targets = attrs if not attributes else attributes
    unknown = [a for a in targets if a not in attrs]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; the classifier knows {', '.join(attrs)}")
    studio = Studio(G, model)  # directions in memory only: make_direction is POST /api/directions' code
    log("labelling pools and the 2000-label set ...")
    pool_seeds = list(range(draws * pool_size))
    _, pool_p = probabilities(G, clf, pool_seeds)
    full_seeds = list(range(FULL_FIRST_SEED, FULL_FIRST_SEED + n_full))
    full_ws, full_p = probabilities(G, clf, full_seeds)
    eval_seeds = list(range(EVAL_FIRST_SEED, EVAL_FIRST_SEED + n_eval))
    ws_eval = np.asarray(G.mapping(z_from_seeds(eval_seeds, G.config.z_dim)))

    results = {}
    for target in targets:
        a = attrs.index(target)
        full = logistic_direction(full_ws[:, 0], full_p[:, a] > 0.5, C=0.1)
        full_std = studio.spread(full.direction)
        row = {"full": effect_row(G, clf, ws_eval, full.direction, full_std, target), "full_nonzero": full.nonzero}
        row["fewshot"] = []
        for d in range(draws):
            block = slice(d * pool_size, (d + 1) * pool_size)
            picked = clicks(pool_seeds[block], pool_p[block, a], shots)
            if picked is None:
                log(f"{target}: draw {d} found fewer than {shots} of a class in its pool; skipped")
                continue
            entry = studio.make_direction(f"{target}_d{d}", *picked)
            vec = studio.direction(entry["name"]).direction.vector
            r = effect_row(G, clf, ws_eval, vec, entry["std"], target)
            r |= {"cos_full": float(vec @ full.direction), "nonzero": entry["metrics"]["nonzero"], "clicks": picked}
            row["fewshot"].append(r)
        results[target] = row
        fs = row["fewshot"]
        log(
            f"{target:14s} few-shot dp {np.mean([r['abs_change'][a] for r in fs]):.3f} "
            f"(2000 labels {row['full']['abs_change'][a]:.3f}), cos {np.mean([r['cos_full'] for r in fs]):.2f}"
        )
    return {
        "model": model,
        "attributes": attrs,
        "targets": targets,
        "shots": shots,
        "draws": draws,
        "n_full": n_full,
        "n_eval": n_eval,
        "slider_std": SLIDER.tolist(),
        "C_fewshot": 200.0 / (2 * shots),
        "results": results,
        "seconds": time.perf_counter() - t0,
    }


def _ms(values) -> str:
    """mean ± sd over draws (just the mean for one draw)."""
    v = np.asarray(values, np.float64)
    return f"{v.mean():.3f}" if len(v) < 2 else f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def markdown(rep: dict) -> str:
    attrs, res = rep["attributes"], rep["results"]
    k = rep["shots"]
    L = [
        *header("Few-shot directions in the studio (toy world)", rep["provenance"]),
        f"On `{rep['model']}`: {k} positive + {k} negative seeds clicked by the toy classifier "
        "(first of each class in a pool, "
        f"{rep['draws']} draws with disjoint pools), fitted by `Studio.make_direction` (POST /api/directions: "
        f"L1 logistic in W, C = {rep['C_fewshot']:g}, i.e. C·N = 200 as paper 000's C = 0.1 at 2000 labels), "
        f"next to the direction fitted on {rep['n_full']} classifier labels (C = 0.1). Edits measured on "
        f"{rep['n_eval']} held-out latents along the page's slider, -3..+3 std of w·d (each direction's own unit). "
        "few-shot columns: mean ± sd over the draws.",
        "",
    ]
    if "smiling" in res:
        r = res["smiling"]
        a = attrs.index("smiling")
        fs = r["fewshot"]
        L += [
            "## smiling: the classifier's mean p(smiling) along the slider",
            "",
            "| slider (std) | " + " | ".join(f"{s:+g}" for s in rep["slider_std"]) + " |",
            "|---|" + "---:|" * len(rep["slider_std"]),
        ]
        for i, f in enumerate(fs):
            L.append(f"| {k}+{k} clicks, draw {i} | " + " | ".join(f"{v:.3f}" for v in f["target_curve"]) + " |")
        mean_curve = np.mean([f["target_curve"] for f in fs], axis=0)
        L.append(f"| **{k}+{k} clicks, mean** | " + " | ".join(f"**{v:.3f}**" for v in mean_curve) + " |")
        L.append(f"| {rep['n_full']} labels | " + " | ".join(f"{v:.3f}" for v in r["full"]["target_curve"]) + " |")
        mono = all(np.diff(mean_curve) >= 0)
        L += [
            "",
            f"Mean curve non-decreasing: **{'yes' if mono else 'no'}**; per draw: "
            + ", ".join("yes" if f["mean_curve_monotonic"] else "no" for f in fs)
            + ". Latents whose own p(smiling) never drops along the slider: "
            f"{_ms([f['monotonic_fraction'] for f in fs])} ({rep['n_full']} labels: "
            f"{r['full']['monotonic_fraction']:.3f}). Cosine to the {rep['n_full']}-label direction: "
            f"{_ms([f['cos_full'] for f in fs])}; non-zero entries of d: {_ms([f['nonzero'] for f in fs])} "
            f"({rep['n_full']} labels: {r['full_nonzero']}).",
            "",
            "## smiling: how much every attribute moves (mean abs Δp from -3 to +3 std)",
            "",
            f"| attribute | {k}+{k} clicks | {rep['n_full']} labels |",
            "|---|---:|---:|",
        ]
        for j, name in enumerate(attrs):
            cells = (_ms([f["abs_change"][j] for f in fs]), f"{r['full']['abs_change'][j]:.3f}")
            bold = "**" if j == a else ""
            L.append(f"| {bold}{name}{bold} | {bold}{cells[0]}{bold} | {bold}{cells[1]}{bold} |")
        others = [np.mean([f["abs_change"][j] for f in fs]) for j in range(len(attrs)) if j != a]
        target = np.mean([f["abs_change"][a] for f in fs])
        L += [
            "",
            f"Few-shot: smiling moves {target:.3f}; the other attributes {np.mean(others):.3f} on average, "
            f"{np.max(others):.3f} at most ({[n for n in attrs if n != 'smiling'][int(np.argmax(others))]}).",
            "",
        ]
    L += [
        "## Every attribute as the clicked target" if len(rep["targets"]) == len(attrs) else "## Summary per target",
        "",
        f"Target mean abs Δp, the mean abs Δp of the other {len(attrs) - 1} attributes, the share of latents "
        f"whose target probability never drops, and the cosine to the {rep['n_full']}-label direction.",
        "",
        f"| target | Δp {k}+{k} | Δp {rep['n_full']} | others {k}+{k} | others {rep['n_full']} "
        f"| monotonic {k}+{k} | monotonic {rep['n_full']} | mean curve rises ({k}+{k}) | cos |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for t in rep["targets"]:
        r, a = res[t], attrs.index(t)
        fs = r["fewshot"]
        if not fs:
            L.append(f"| {t} | – | {r['full']['abs_change'][a]:.3f} | – | – | – | – | – | – |")
            continue
        oth_fs = [np.mean(np.delete(f["abs_change"], a)) for f in fs]
        oth_full = float(np.mean(np.delete(r["full"]["abs_change"], a)))
        rises = np.all(np.diff(np.mean([f["target_curve"] for f in fs], axis=0)) >= 0)
        L.append(
            f"| {t} | {_ms([f['abs_change'][a] for f in fs])} | {r['full']['abs_change'][a]:.3f} | {_ms(oth_fs)} "
            f"| {oth_full:.3f} | {_ms([f['monotonic_fraction'] for f in fs])} | {r['full']['monotonic_fraction']:.3f} "
            f"| {'yes' if rises else 'no'} | {_ms([f['cos_full'] for f in fs])} |"
        )
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--attributes", default="all", help="comma-separated targets, or all")
    ap.add_argument("--shots", type=int, default=10, help="clicks per class (default: %(default)s)")
    ap.add_argument("--draws", type=int, default=5, help="independent click sets per target (default: %(default)s)")
    ap.add_argument("--full", type=int, default=2000, help="labels of the reference direction (default: %(default)s)")
    ap.add_argument("--eval", type=int, default=128, help="held-out latents edited (default: %(default)s)")
    ap.add_argument("--pool", type=int, default=POOL_SIZE, help="seeds per draw's pool (default: %(default)s)")
    ap.add_argument("--out", default=str(ROOT / "reports"))
    args = ap.parse_args(argv)
    attrs = None if args.attributes == "all" else [a.strip() for a in args.attributes.split(",")]
    prov = provenance("fewshot_report.py", argv, models=[args.model], classifier="toyfaces")
    rep = run(args.model, attrs, args.shots, args.draws, args.full, args.eval, args.pool)
    rep["provenance"] = finish(prov)
    print(f"wrote {write(Path(args.out) / 'studio_fewshot.md', markdown(rep), rep)} ({rep['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
