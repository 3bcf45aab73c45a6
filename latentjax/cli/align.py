"""`latentjax align`: FFHQ-align photos (NVIDIA's ffhq-dataset recipe)."""

from __future__ import annotations

import sys


def cmd_align(args) -> int:
    from latentjax.align import align_images

    def show(i, n, res):
        if res.error:
            print(f"error: {res.error}", file=sys.stderr)
            return
        scores = res.scores
        how = "given landmarks" if scores[0] is None else "score " + ", ".join(f"{s:.2f}" for s in scores)
        print(f"[{i + 1}/{n}] {res.source} -> {', '.join(str(p) for p in res.outputs)} ({how})")

    results = align_images(
        args.photos,
        args.outdir,
        args.size,
        landmarks=args.landmarks,
        all_faces=args.all_faces,
        min_score=args.min_score,
        progress=show,
    )
    failed = sum(r.error is not None for r in results)
    done = sum(len(r.outputs) for r in results)
    print(f"aligned {done} face(s) from {len(results) - failed} of {len(results)} photo(s) into {args.outdir}")
    return 1 if failed else 0


def register(sub) -> None:
    from latentjax.align import MIN_SCORE

    ap = sub.add_parser(
        "align",
        help="crop and rotate faces as FFHQ (NVIDIA's recipe); needs the [faces] extra or --landmarks",
        description="FFHQ alignment of photos. Faces are found with dlib (pip install -e '.[faces]') "
        "or read from --landmarks: JSON {photo name: a face or a list of faces}, a face being 68 [x, y] "
        "points in dlib's order or 4 (eye centres, then mouth corners, image-left first).",
    )
    ap.add_argument("photos", nargs="+", help="image files (any mode Pillow reads; EXIF orientation applied)")
    ap.add_argument("--size", type=int, default=1024, help="output side in pixels (default: %(default)s)")
    ap.add_argument("--outdir", default="out/align", help="writes NAME.png per photo (default: %(default)s)")
    ap.add_argument("--landmarks", default=None, help="JSON file of landmarks per photo instead of dlib")
    ap.add_argument("--all-faces", action="store_true", help="every face, best first: NAME_0.png, NAME_1.png, ...")
    ap.add_argument(
        "--min-score",
        type=float,
        default=MIN_SCORE,
        help="dlib detections scoring below this are not faces (default: %(default)s; dlib's own: 0)",
    )
    ap.set_defaults(func=cmd_align)
