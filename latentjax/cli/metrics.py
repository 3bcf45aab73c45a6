"""`latentjax metrics`: separability, PPL, scores, DCI."""

from __future__ import annotations

from latentjax.cli._common import (
    distributed_args,
    model_args,
    noise_mode_arg,
    progress_bar,
    start_distributed,
    write_json,
)


def cmd_metrics(args) -> int:
    import jax

    from latentjax import load_generator
    from latentjax.metrics.sample import labelled_latents
    from latentjax.workflows import measure

    start_distributed(args)  # several processes: sampling and fits are split, every one gets the result
    first = jax.process_index() == 0  # process 0 alone prints and writes
    say, save = (print, write_json) if first else (_quiet, _quiet)
    G = None if getattr(args, "data", None) else load_generator(args.model, args.network)
    common = dict(space=args.space, psi=args.trunc, model=args.model)
    bar = progress_bar(disabled=args.quiet, unit="sample" if args.metric == "ppl" else "row", desc=args.metric)
    if args.metric == "ppl":
        ppl = dict(
            num_samples=args.n,
            sampling=args.sampling,
            epsilon=args.epsilon,
            crop=args.crop,
            batch=args.batch,
            seed=args.seed,
            noise_mode=args.noise_mode,
            progress=bar.update_to,
        )
        with bar:
            m = measure("ppl", G, ppl=ppl, **common)
        r = m.result
        say(f"PPL {args.space}-{args.sampling}: {r.mean:.4g} (std {r.std:.4g}, {r.num_samples} samples)")
        save(args.out, m.record)
        return 0
    with bar:
        data = labelled_latents(
            G,
            data=args.data,
            n=args.n,
            seed=args.seed,
            psi=args.trunc,
            labels=args.labels,
            classifier=args.classifier,
            probs=args.probs,
            attributes=args.attributes.split(",") if args.attributes else None,
            batch=args.batch,
            progress=bar.update_to,
        )
    options = {
        k: getattr(args, k, None) for k in ("engine", "C", "folds", "test_fraction", "method", "alpha", "weighting")
    }
    m = measure(args.metric, G, labelled=data, options={k: v for k, v in options.items() if v is not None}, **common)
    r, names = m.result, m.attributes
    if args.metric == "separability":
        for a, s in zip(names, r.per_attribute):
            say(f"{a:16s} exp(H) {s:.4f}")
        say(f"linear separability ({args.space}, {args.engine}): {r.score:.4f}")
    elif args.metric == "scores":
        cv, svm, ratio = r["cv"], r["svm"], r["pca_explained_variance_ratio"]
        for i, a in enumerate(names):
            say(f"{a:16s} AUC {cv.auc[i]:.3f}  balanced acc {cv.balanced_accuracy[i]:.3f}  SVM {svm.accuracy[i]:.3f}")
        say(
            f"mean AUC {cv.auc.mean():.3f}, balanced accuracy {cv.balanced_accuracy.mean():.3f}; SVM accuracy "
            f"min {svm.min:.3f} max {svm.max:.3f} mean {svm.mean:.3f}; PCA: 10 PCs explain {ratio[:10].sum():.3f}"
        )
    else:
        say(
            f"DCI ({args.space}, {args.method}): disentanglement {r.disentanglement:.3f}, completeness "
            f"{r.completeness:.3f}, informativeness {r.informativeness:.3f} (error {r.prediction_error:.3f})"
        )
    save(args.out, m.record)
    return 0


def _quiet(*args, **kwargs) -> None:
    pass


def register(sub) -> None:
    from latentjax.latent_types import SAMPLED
    from latentjax.metrics.separability import DEFAULT_ENGINE, ENGINES

    mt = sub.add_parser("metrics", help="linear separability, PPL, classification scores, DCI")
    msub = mt.add_subparsers(dest="metric", required=True)
    helps = {
        "separability": "linear separability exp(sum H(Y|X)) (StyleGAN, NVIDIA's protocol)",
        "ppl": "perceptual path length (StyleGAN): Z slerp / W lerp, full / end",
        "scores": "AUC + balanced accuracy (k-fold CV), SVM accuracy (80/20), PCA explained variance",
        "dci": "disentanglement / completeness / informativeness (Lasso or GBT)",
    }
    for name, text in helps.items():
        q = msub.add_parser(name, help=text)
        model_args(q)
        q.add_argument("--space", choices=SAMPLED, default="w", help="W: the mapping output (NVIDIA's dlatent)")
        q.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default: %(default)s)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--batch", type=int, default=256 if name != "ppl" else 32)
        q.add_argument("--out", default=None, help="write the result as JSON here")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
        distributed_args(q)
        q.set_defaults(func=cmd_metrics)
        if name == "ppl":
            q.add_argument("--n", type=int, default=100000, help="pairs (NVIDIA: 100k v1, 50k v2)")
            q.add_argument("--sampling", choices=["full", "end"], default="full")
            q.add_argument("--epsilon", type=float, default=1e-4)
            q.add_argument("--crop", action="store_true", help="NVIDIA's FFHQ face crop")
            noise_mode_arg(q, "random", "shared within a pair")
            continue
        q.add_argument("--n", type=int, default=200000 if name == "separability" else 10000, help="latents")
        q.add_argument("--labels", choices=["classifier", "exact"], default="classifier", help="exact: toyfaces")
        q.add_argument("--classifier", default="toyfaces")
        q.add_argument("--data", default=None, help="a `latentjax sample` directory instead of sampling")
        q.add_argument("--probs", default=None, help=".npy [N, A] probabilities of the sampled rows (your labels)")
        q.add_argument("--attributes", default=None, help="comma-separated names for --probs columns")
        if name == "separability":
            q.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
            q.add_argument("--C", type=float, default=1.0, help="LinearSVC C (NVIDIA: 1)")
        elif name == "scores":
            q.add_argument("--folds", type=int, default=10)
            q.add_argument("--C", type=float, default=0.1, help="L1 logistic C (paper 000: 0.1)")
            q.add_argument("--test-fraction", type=float, default=0.2)
        else:
            q.add_argument("--method", choices=["lasso", "gbt"], default="lasso")
            q.add_argument("--alpha", type=float, default=0.05, help="Lasso alpha (paper 002: 0.05)")
            q.add_argument("--weighting", choices=["mean", "factor"], default="mean", help="completeness average")
