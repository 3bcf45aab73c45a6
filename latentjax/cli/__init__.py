"""`latentjax` command line: one small module per command group; each parses its arguments,
calls the library and prints. `main` turns the project's own errors into one line and exit code."""

from __future__ import annotations

import argparse
import sys

from latentjax.cli import (
    align,
    convert,
    directions,
    edit,
    figures,
    flow,
    generate,
    launch,
    metrics,
    project,
    sample,
    serve,
)

# Order of the sub-commands in --help.
COMMANDS = (generate, figures, sample, edit, directions, flow, metrics, project, align, convert, serve, launch)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="latentjax", description="StyleGAN / StyleGAN2 latent-space toolkit (JAX)")
    sub = ap.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from latentjax.distributed import PeerError, shutdown
    from latentjax.errors import LoadError, MissingExtraError

    args = build_parser().parse_args(argv)
    if getattr(args, "batch", 1) < 1:
        print("error: --batch must be >= 1", file=sys.stderr)
        return 2
    try:
        code = args.func(args)
        shutdown()  # several processes: leave the job in order (a no-op otherwise)
    except (LoadError, ValueError, FileExistsError, MissingExtraError, PeerError) as e:
        print(f"error: {e}", file=sys.stderr)
        _leave_job()
        return 1
    except BaseException:
        _leave_job(traceback=True)
        raise
    return code


def _leave_job(traceback: bool = False) -> None:
    """In a job of several processes, a failing process exits at once: a normal exit would wait for,
    or abort in, JAX's shutdown while its peers wait for it; exiting closes its connections, so the
    peers' next collective fails with a message naming it."""
    import os

    from latentjax.distributed import is_initialized

    if is_initialized():
        if traceback:
            import traceback as tb

            tb.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


if __name__ == "__main__":
    sys.exit(main())
