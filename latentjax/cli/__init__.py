"""`latentjax` command line: one small module per command group; each parses its arguments,
calls the library and prints. `main` turns the project's own errors into one line and exit code."""

from __future__ import annotations

import argparse
import sys

from latentjax.cli import align, convert, directions, edit, figures, flow, generate, metrics, project, sample, serve

# Order of the sub-commands in --help.
COMMANDS = (generate, figures, sample, edit, directions, flow, metrics, project, align, convert, serve)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="latentjax", description="StyleGAN / StyleGAN2 latent-space toolkit (JAX)")
    sub = ap.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from latentjax.errors import LoadError, MissingExtraError

    args = build_parser().parse_args(argv)
    if getattr(args, "batch", 1) < 1:
        print("error: --batch must be >= 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (LoadError, ValueError, FileExistsError, MissingExtraError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
