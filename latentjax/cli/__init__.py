"""`latentjax` command line: one small module per command group; each parses its arguments,
calls the library and prints. `main` turns the project's own errors into one line and exit code."""

from __future__ import annotations

import argparse
import os
import sys

from latentjax.cli import (
    align,
    convert,
    directions,
    edit,
    figures,
    flow,
    generate,
    invert,
    launch,
    metrics,
    project,
    sample,
    serve,
)

# Order of the sub-commands in --help.
COMMANDS = (generate, figures, sample, edit, directions, flow, metrics, project, align, invert, convert, serve, launch)


REPORT = (
    "this is a bug in latentjax, not in your input: please report it to the project's issue tracker "
    "with the command line and the traceback that --debug prints"
)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="latentjax", description="StyleGAN / StyleGAN2 latent-space toolkit (JAX)")
    ap.add_argument("--debug", action="store_true", help="show the Python traceback of an error (any position)")
    sub = ap.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    show_defaults(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 2 bad input or arguments (one line `error: <file or
    argument>: <what>`), 1 an unexpected error (a bug: short message + where to report), 130 Ctrl-C."""
    from latentjax.distributed import PeerError, shutdown

    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line (after a sub-command too), so it is taken out first.
    debug = "--debug" in argv or os.environ.get("LATENTJAX_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    args = build_parser().parse_args(argv)
    if getattr(args, "batch", 1) < 1:
        print("error: --batch must be >= 1", file=sys.stderr)
        return 2
    from latentjax.compile_cache import enable

    enable()  # reuse the XLA programs an earlier command compiled (latentjax/compile_cache.py)
    try:
        code = args.func(args)
        shutdown()  # several processes: leave the job in order (a no-op otherwise)
        return code
    except (KeyboardInterrupt, Exception) as e:
        code, text = _exit_for(e, args)
        if debug and not isinstance(e, PeerError):
            _leave_job(traceback=True)
            raise
        print(text, file=sys.stderr)
        _leave_job(code)
        return code


def _exit_for(e: BaseException, args) -> tuple[int, str]:
    """(exit code, stderr text) of an error: 130 Ctrl-C; 1 a dead peer (not this input's fault); 2 the
    project's own input / load errors and a missing or unreadable file named on the command line; 1 and
    where to report it for anything else (a bug)."""
    from latentjax.distributed import PeerError
    from latentjax.errors import ExportError, LoadError, MissingExtraError

    if isinstance(e, KeyboardInterrupt):
        return 130, f"\nstopped (Ctrl-C){getattr(args, 'resume_hint', '')}"
    if isinstance(e, PeerError):
        return 1, f"error: {one_line(e)}"
    if isinstance(e, (LoadError, ValueError, FileExistsError, MissingExtraError, ExportError)):
        return 2, f"error: {one_line(e)}"
    if isinstance(e, OSError) and e.filename is not None:  # other OS errors are bugs
        return 2, f"error: {e.filename}: {(e.strerror or str(e)).lower()}"
    return 1, f"error: unexpected {type(e).__name__}: {one_line(e)}\n  {REPORT}"


def _leave_job(code: int = 1, traceback: bool = False) -> None:
    """In a job of several processes, a failing process exits at once: a normal exit would wait for,
    or abort in, JAX's shutdown while its peers wait for it; exiting closes its connections, so the
    peers' next collective fails with a message naming it."""
    from latentjax.distributed import is_initialized

    if is_initialized():
        if traceback:
            import traceback as tb

            tb.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def one_line(e: BaseException) -> str:
    """An error's message on one line (joined), at most 400 characters."""
    text = " ".join(part.strip() for part in str(e).splitlines() if part.strip()) or type(e).__name__
    return text if len(text) <= 400 else text[:397] + "..."


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Every option's default in --help: appended unless the help text already states one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text.lower() or not _has_default(action):
            return text
        return f"{text} (default: %(default)s)".strip()


def show_defaults(parser: argparse.ArgumentParser) -> None:
    """Give every (sub-)parser the defaults formatter; options without help get one to carry the default."""
    parser.formatter_class = DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                show_defaults(sub)
        elif action.help is None and _has_default(action):
            action.help = "(default: %(default)s)"  # argparse prints no line at all for help=None


def _has_default(action: argparse.Action) -> bool:
    """An option whose default is worth showing (flags' False and unset None are not)."""
    d = action.default
    return bool(action.option_strings) and not (d is None or d is False or d is argparse.SUPPRESS)


if __name__ == "__main__":
    sys.exit(main())
