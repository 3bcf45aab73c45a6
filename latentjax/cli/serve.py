"""`latentjax serve`: the studio, a browser editor with sliders and few-shot directions."""

from __future__ import annotations

from latentjax.cli._common import model_args


def cmd_serve(args) -> int:
    from latentjax.studio.server import serve

    return serve(args.model, args.network, args.directions, args.host, args.port, args.invert_steps, log=print)


def register(sub) -> None:
    s = sub.add_parser("serve", help="browser editor: sliders, style mixing, few-shot directions, photo inversion")
    model_args(s)
    s.add_argument("--directions", default="directions", help="directions to load and save (default: %(default)s)")
    s.add_argument("--port", type=int, default=7860, help="0 = any free port (default: %(default)s)")
    s.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s, this machine only)")
    s.add_argument("--invert-steps", type=int, default=None, help="projection steps for a photo (default: 100)")
    s.set_defaults(func=cmd_serve)
