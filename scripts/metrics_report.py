"""reports/metrics.md: the StyleGAN paper's disentanglement metrics and papers 000/002's scores on toyfaces.

- Linear separability in Z vs W (paper 003's claim: W is more linearly separable, i.e. lower), both
  engines, with the toyfaces classifier's probabilities (NVIDIA's protocol) and with exact labels.
- Perceptual path length in Z (slerp) vs W (lerp), full vs end sampling.
- Classification scores (paper 000 Table 1: AUC, balanced accuracy, 10-fold CV; paper 002 Table 1:
  SVM accuracy min/max/mean, 80/20), DCI (Lasso, alpha 0.05) and PCA explained variance, Z vs W.

    python3 scripts/metrics_report.py                        # defaults below (~25 min on 2 CPU cores)
    python3 scripts/metrics_report.py --n-sep 2000 --n-ppl 64 --n-scores 500 --out /tmp/m.md   # smoke run
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import latentjax
from latentjax.directions.pca import pca
from latentjax.directions.scores import cv_scores, svm_accuracy_split
from latentjax.metrics.dci import dci
from latentjax.metrics.ppl import perceptual_path_length
from latentjax.metrics.sample import sample_labelled
from latentjax.metrics.separability import linear_separability
from latentjax.report import finish, header, provenance, write

SPACES = ("z", "w")


def separability_section(G, clf, n, seed, log) -> dict:
    out = {}
    for labels in ("classifier", "exact"):
        t0 = time.perf_counter()
        data = sample_labelled(G, n, seed, 1.0, labels, clf if labels == "classifier" else None, progress=False)
        log(f"separability sample ({labels}): {time.perf_counter() - t0:.0f} s")
        for space in SPACES:
            for engine in ("jax", "sklearn"):
                t0 = time.perf_counter()
                r = linear_separability(data.latents(space), data.probs, engine=engine, attributes=data.attributes)
                secs = time.perf_counter() - t0
                out[f"{labels}/{space}/{engine}"] = {
                    "score": r.score,
                    "per_attribute": dict(zip(data.attributes, r.per_attribute.tolist())),
                    "seconds": secs,
                }
                log(f"  {labels} {space} {engine}: {r.score:.4f} ({secs:.1f} s)")
    return out


def ppl_section(G, n, seed, log) -> dict:
    out = {}
    for space in SPACES:
        for sampling in ("full", "end"):
            t0 = time.perf_counter()
            # batches of 32 pairs; fewer pairs (a smoke run) are one batch of their own size
            r = perceptual_path_length(G, n, space=space, sampling=sampling, seed=seed, batch=min(32, n))
            out[f"{space}/{sampling}"] = {
                "mean": r.mean,
                "std": r.std,
                "num_samples": r.num_samples,
                "num_kept": r.num_kept,
                "seconds": time.perf_counter() - t0,
            }
            log(f"  ppl {space} {sampling}: {r.mean:.2f} ({time.perf_counter() - t0:.0f} s)")
    return out


def scores_section(G, clf, n, seed, log) -> dict:
    data = sample_labelled(G, n, seed, 1.0, "classifier", clf)
    out = {}
    for space in SPACES:
        x, y = data.latents(space), data.labels
        t0 = time.perf_counter()
        cv = cv_scores(x, y, folds=10)
        svm = svm_accuracy_split(x, y)
        d = dci(x, y, method="lasso", alpha=0.05)
        ratio = np.asarray(pca(x, min(x.shape)).explained_variance_ratio, np.float64)
        out[space] = {
            "auc": dict(zip(data.attributes, cv.auc.tolist())),
            "balanced_accuracy": dict(zip(data.attributes, cv.balanced_accuracy.tolist())),
            "svm_accuracy": dict(zip(data.attributes, svm.accuracy.tolist())),
            "svm_min": svm.min,
            "svm_max": svm.max,
            "svm_mean": svm.mean,
            "dci": {"D": d.disentanglement, "C": d.completeness, "I": d.informativeness, "error": d.prediction_error},
            "pca_cumulative": np.cumsum(ratio)[:20].tolist(),
            "pcs_for_90": int(np.searchsorted(np.cumsum(ratio), 0.9) + 1),
        }
        log(f"  scores {space}: {time.perf_counter() - t0:.0f} s")
    return out


def markdown(r: dict) -> str:
    a = r["args"]
    sep, ppl, sc = r["separability"], r["ppl"], r["scores"]
    attrs = list(sc["z"]["auc"])
    lines = [
        *header("Disentanglement metrics on toyfaces", r["provenance"]),
        f"On `{a['model']}`: truncation psi 1, stored noise for classification.",
        "",
        f"## Linear separability (StyleGAN Sec. 4.2; NVIDIA's protocol, {a['n_sep']} samples, lower is better)",
        "",
        "score = exp(sum over the 12 attributes of H(Y | SVM)) = NVIDIA's 2^(sum H in bits); one LinearSVC (C = 1) "
        "per attribute on the most confident half. *classifier*: labels and confidence from the toyfaces "
        "classifier on the generated image (NVIDIA's set-up); *exact*: the toy world's labels of z (all equally "
        "confident: the first half is kept).",
        "",
        "| labels | space | JAX engine | scikit-learn | relative difference | JAX s | sklearn s |",
        "|---|---|---|---|---|---|---|",
    ]
    for labels in ("classifier", "exact"):
        for space in SPACES:
            j, s = sep[f"{labels}/{space}/jax"], sep[f"{labels}/{space}/sklearn"]
            lines.append(
                f"| {labels} | {space.upper()} | {j['score']:.3f} | {s['score']:.3f} | "
                f"{abs(j['score'] - s['score']) / s['score']:.1e} | {j['seconds']:.1f} | {s['seconds']:.1f} |"
            )
    lines += [
        "",
        "Per attribute exp(H) (classifier labels, scikit-learn engine): 1 = linearly separable, 2 = no better "
        "than chance on a balanced attribute.",
        "",
        "| attribute | Z | W |",
        "|---|---|---|",
    ]
    for at in attrs:
        z, w = (sep[f"classifier/{s}/sklearn"]["per_attribute"][at] for s in SPACES)
        lines.append(f"| {at} | {z:.3f} | {w:.3f} |")
    lines += [
        "",
        f"## Perceptual path length (StyleGAN Sec. 4.1; {a['n_ppl']} pairs, epsilon 1e-4, LPIPS-VGG, no crop)",
        "",
        "Z: slerp between z pairs; W: lerp between their w. The two images of a pair share their noise maps; "
        "distances outside the 1st-99th percentile are dropped.",
        "",
        "| space | full | end |",
        "|---|---|---|",
    ]
    for space in SPACES:
        f, e = ppl[f"{space}/full"], ppl[f"{space}/end"]
        cells = [f"{x['mean']:.1f} (std {x['std']:.1f})" for x in (f, e)]
        lines.append(f"| {space.upper()} | " + " | ".join(cells) + " |")

    def row(name, cell):
        return f"| {name} | {cell(sc['z'])} | {cell(sc['w'])} |"

    lines += [
        "",
        f"## Classification scores, DCI, PCA ({a['n_scores']} samples, classifier labels)",
        "",
        "| | Z | W |",
        "|---|---|---|",
        row("mean AUC, L1 logistic C 0.1, 10-fold CV (paper 000)", lambda s: f"{np.mean(list(s['auc'].values())):.3f}"),
        row("mean balanced accuracy (paper 000)", lambda s: f"{np.mean(list(s['balanced_accuracy'].values())):.3f}"),
        row(
            "SVM accuracy min / max / mean, 80/20 (paper 002)",
            lambda s: f"{s['svm_min']:.3f} / {s['svm_max']:.3f} / {s['svm_mean']:.3f}",
        ),
    ]
    for key, name in (("D", "disentanglement"), ("C", "completeness"), ("error", "informativeness error (002's I)")):
        lines.append(row(f"DCI {name}, Lasso alpha 0.05", lambda s, k=key: f"{s['dci'][k]:.3f}"))
    lines += [
        row("PCA: variance explained by 10 PCs", lambda s: f"{s['pca_cumulative'][9]:.3f}"),
        row("PCA: PCs for 90% of the variance", lambda s: f"{s['pcs_for_90']}"),
        "",
        "Per attribute (AUC / balanced accuracy / SVM accuracy):",
        "",
        "| attribute | Z | W |",
        "|---|---|---|",
    ]
    for at in attrs:
        cells = [
            f"{sc[s]['auc'][at]:.3f} / {sc[s]['balanced_accuracy'][at]:.3f} / {sc[s]['svm_accuracy'][at]:.3f}"
            for s in SPACES
        ]
        lines.append(f"| {at} | " + " | ".join(cells) + " |")
    lines += ["", "## What this shows", "", r.get("conclusion", ""), ""]
    return "\n".join(lines)


def conclusion(r: dict) -> str:
    sep, ppl = r["separability"], r["ppl"]
    zs, ws = sep["classifier/z/sklearn"]["score"], sep["classifier/w/sklearn"]["score"]
    out = [
        f"- Separability: W {'is' if ws < zs else 'is NOT'} more linearly separable than Z ({ws:.3f} vs {zs:.3f}; "
        "paper 003's claim is W < Z)."
    ]
    for sampling in ("full", "end"):
        zp, wp = ppl[f"z/{sampling}"]["mean"], ppl[f"w/{sampling}"]["mean"]
        out.append(
            f"- PPL {sampling}: W {'<' if wp < zp else '>='} Z ({wp:.1f} vs {zp:.1f}; the paper reports W < Z for "
            "the style-based generator)."
        )
    for space in SPACES:
        f, e = ppl[f"{space}/full"]["mean"], ppl[f"{space}/end"]["mean"]
        out.append(f"- PPL {space.upper()} end {'<' if e < f else '>='} full ({e:.1f} vs {f:.1f}).")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--n-sep", type=int, default=50_000, help="separability samples (NVIDIA: 200k)")
    ap.add_argument("--n-ppl", type=int, default=5_000, help="PPL pairs per (space, sampling) (NVIDIA: 100k)")
    ap.add_argument("--n-scores", type=int, default=10_000, help="samples for CV scores, DCI, PCA")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="reports/metrics.md")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    prov = provenance("metrics_report.py", argv, models=[args.model], classifier="toyfaces")
    G, clf = latentjax.load_generator(args.model), latentjax.load_classifier("toyfaces")
    report = {"args": vars(args)}
    t0 = time.perf_counter()
    report["separability"] = separability_section(G, clf, args.n_sep, args.seed, log)
    report["ppl"] = ppl_section(G, args.n_ppl, args.seed, log)
    report["scores"] = scores_section(G, clf, args.n_scores, args.seed + 1, log)
    report["seconds"] = time.perf_counter() - t0
    report["conclusion"] = conclusion(report)
    report["provenance"] = finish(prov)
    out = write(args.out, markdown(report), report)
    log(f"wrote {out} ({report['seconds'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
