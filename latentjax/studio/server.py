"""`serve`: load a generator, compile it once, and serve the studio until Ctrl-C (`latentjax serve`)."""

from __future__ import annotations

import importlib.util
import socket
import time
from collections.abc import Callable

EXTRA_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "multipart": "python-multipart"}


def require_studio_extra() -> None:
    """ValueError naming the extra to install when the web stack is missing (the core install lacks it)."""
    missing = [pkg for mod, pkg in EXTRA_MODULES.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise ValueError(
            f"latentjax serve needs the studio extra ({', '.join(missing)} missing): pip install 'latentjax[studio]'"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port); ValueError naming the problem."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be in [0, 65535], got {port}")
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise ValueError(f"--host {host!r} cannot be resolved ({e})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise ValueError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --port") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(
    model: str,
    network: str | None = None,
    directions: str | None = "directions",
    host: str = "127.0.0.1",
    port: int = 7860,
    invert_steps: int | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Serve the studio for `model` on host:port until Ctrl-C; returns 0. Progress goes to `log`.

    The socket is bound first (a busy port fails at once), then the generator is loaded and
    compiled once, then the URL is printed. Binds 127.0.0.1 unless told otherwise: the API has
    no authentication, so anyone who can reach the port can use the machine's accelerator.
    """
    require_studio_extra()
    import uvicorn

    from latentjax.studio.app import LOOPBACK_HOSTS, create_app
    from latentjax.studio.engine import DEFAULT_INVERT_STEPS, Studio

    sock = bind(host, port)
    try:
        log(f"loading {model} ...")
        kw = {"invert_steps": invert_steps or DEFAULT_INVERT_STEPS, "log": log}
        studio = Studio.open(model, network, directions_dir=directions, **kw)
        cfg = studio.G.config
        n = len(studio.direction_names)
        log(f"{studio.name}: {cfg.arch} {cfg.resolution}x{cfg.resolution}, {n} direction(s) from {directions}")
        log("compiling the generator (once) ...")
        t = time.perf_counter()
        studio.warm_up()
        log(f"compiled in {time.perf_counter() - t:.1f} s")
        loopback = host in LOOPBACK_HOSTS
        app = create_app(studio, allowed_hosts=LOOPBACK_HOSTS if loopback else None)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        if not loopback:
            log(f"warning: listening on {host}: anyone who reaches this port can use the studio (no authentication)")
        log(f"latentjax studio: {url_of(sock)}  (Ctrl-C to stop)")
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the signal after its graceful shutdown
            pass
    finally:
        sock.close()
    log("stopped")
    return 0
