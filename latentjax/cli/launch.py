"""`latentjax launch -n N -- COMMAND ...`: N local processes of one command, 127.0.0.1 coordinator."""

from __future__ import annotations

import argparse


def cmd_launch(args) -> int:
    from latentjax.cli import build_parser
    from latentjax.distributed import launch_local

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if argv and argv[0] != "launch":  # a command without the job flags fails here once, not N times
        build_parser().parse_args([*argv, "--coordinator", "127.0.0.1:1", "--num-processes", "1", "--process-id", "0"])
    codes = launch_local(argv, args.n, grace=args.grace)
    for i, c in enumerate(codes):
        if c != 0:
            print(f"launch: process {i} of {args.n} exited with code {c}")
    return 0 if all(c == 0 for c in codes) else 1


def register(sub) -> None:
    lp = sub.add_parser(
        "launch",
        help="run a command as N local processes (jax.distributed, 127.0.0.1 coordinator)",
        description="Example: latentjax launch -n 2 -- sample --n 100000 --out data/ds",
    )
    lp.add_argument("-n", type=int, default=2, help="processes (default: %(default)s)")
    lp.add_argument("--grace", type=float, default=60.0, help="seconds the others get to stop after one fails")
    lp.add_argument("argv", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    lp.set_defaults(func=cmd_launch)
