"""The HTTP face of a `Studio` (FastAPI): the page, its static files, and the JSON / PNG API.

    GET  /                    the editor page (plain HTML/JS/CSS from latentjax/studio/static)
    GET  /api/info            model, layer sets, directions (with slider scale), stored latents
    GET  /render.png?...      one image (see `params.parse_render_query` for the parameters)
    POST /api/directions      {"name", "positive": [...], "negative": [...]} -> the new direction
    POST /api/invert          multipart field "image" -> 202 {"job": id}; poll GET /api/jobs/<id>
    POST /api/latents         multipart field "file" (.npz with ws / w) -> {"latents": [ids]}
    GET  /api/latents/<id>.npz   a stored latent, for `latentjax edit --ws`

Every refused request is a 4xx with {"error": message}; an unexpected failure is a 500 with the
exception named, and the server keeps serving either way. A page on another site cannot drive the
studio through the user's browser: requests whose Host is not a loopback name are refused (DNS
rebinding), and so are POSTs whose Origin is another site (cross-site forms and fetches).
Endpoints that touch the device are plain `def`s, so they run on the server's thread pool and meet
at the engine's DeviceGate.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from latentjax.studio.engine import MAX_UPLOAD_BYTES, Studio
from latentjax.studio.params import RequestError, parse_render_query

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file itself


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_upload(request: Request, field: str) -> bytes:
    """The bytes of multipart field `field`, refusing oversized bodies before reading them.

    Content-Length is required (browsers always send it for FormData) and checked first; the
    server rejects a body longer than its declared length, so nothing larger is ever buffered.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise RequestError(f"send the file as multipart/form-data in a field named {field!r}")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise RequestError("uploads need a Content-Length header", status=411)
    if int(length) > MAX_UPLOAD_BYTES + MULTIPART_SLACK:
        raise RequestError(f"the upload is {int(length) / 2**20:.1f} MB, over the 20 MB limit", status=413)
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception as e:  # malformed multipart body
        raise RequestError(f"cannot parse the multipart body ({type(e).__name__}: {e})") from None
    try:
        part = form.get(field)
        if part is None or isinstance(part, str):
            raise RequestError(f"no file in a multipart field named {field!r}")
        data = await part.read(MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()
    if len(data) > MAX_UPLOAD_BYTES:
        raise RequestError("the file is over the 20 MB limit", status=413)
    return data


def create_app(studio: Studio, allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS) -> FastAPI:
    """The ASGI app serving `studio`. allowed_hosts: Host header names served (None: any, for a
    server bound to a public interface on purpose). No OpenAPI pages: FastAPI's /docs loads from a CDN."""
    app = FastAPI(title="latentjax studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.studio = studio
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.middleware("http")
    async def same_origin_posts(request: Request, call_next):
        origin = request.headers.get("origin")
        if request.method != "GET" and origin is not None:
            if origin.split("://", 1)[-1].rstrip("/") != request.headers.get("host", ""):
                return _error(403, f"cross-site request from {origin} refused")
        return await call_next(request)

    @app.exception_handler(RequestError)
    async def refused(request: Request, e: RequestError):
        return _error(e.status, str(e))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):  # unknown paths, wrong methods
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(Exception)
    async def failed(request: Request, e: Exception):
        return _error(500, f"internal error ({type(e).__name__}: {e}); the server keeps running")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/info")
    def info():
        return studio.info()

    @app.get("/render.png")
    def render(request: Request):
        pairs = request.query_params.multi_items()
        settings = parse_render_query(pairs, studio.direction_names, studio.G.config.num_ws)
        png = studio.render_png(settings)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/directions", status_code=201)
    async def make_direction(request: Request):
        try:
            body = await request.json()
        except Exception:
            raise RequestError('send JSON: {"name": ..., "positive": [seeds / latent IDs], "negative": [..]}') from None
        if not isinstance(body, dict) or not {"name", "positive", "negative"} <= set(body):
            raise RequestError('the JSON body needs "name", "positive" and "negative"')
        return await run_in_threadpool(studio.make_direction, body["name"], body["positive"], body["negative"])

    @app.post("/api/invert", status_code=202)
    async def invert(request: Request):
        data = await read_upload(request, "image")
        job = await run_in_threadpool(studio.start_inversion, data)
        return {"job": job, "steps": studio.invert_steps}

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str):
        return studio.jobs.get(job_id)

    @app.post("/api/latents", status_code=201)
    async def upload_latents(request: Request):
        data = await read_upload(request, "file")
        return {"latents": await run_in_threadpool(studio.add_latents_npz, data)}

    @app.get("/api/latents/{latent_id}.npz")
    def download_latent(latent_id: str):
        data = studio.latent_npz(latent_id)
        headers = {"Content-Disposition": f'attachment; filename="{latent_id}.npz"'}
        return Response(data, media_type="application/octet-stream", headers=headers)

    return app
