"""latentjax studio over HTTP (uvicorn in-process, see conftest.studio_server): pixels identical to
the CLI, every bad request refused with a 4xx JSON message while the server keeps serving,
few-shot directions saved in the toolkit's format, photo inversion as a pollable job, and
concurrent renders giving the same bytes as serial ones."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from latentjax.cli import main
from latentjax.directions import load_direction
from latentjax.studio.engine import faces_available
from latentjax.studio.gate import DeviceGate
from latentjax.studio.params import RESERVED, RenderSettings, RequestError, parse_render_query


@pytest.fixture(scope="module")
def http(studio_server):
    with httpx.Client(base_url=studio_server.url, timeout=60) as client:
        yield client


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def render(http, **params) -> np.ndarray:
    r = http.get("/render.png", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return pixels(r.content)


# ---- the same pixels as the command line -----------------------------------------------------


@pytest.mark.parametrize(
    "direction, cli_extra, query_extra",
    [
        ("tilt", [], {}),
        ("tilt", ["--layers", "coarse"], {"layers": "coarse"}),
        ("zshift", [], {}),
        ("coarse_pl", [], {}),
    ],
)
def test_render_is_pixel_identical_to_latentjax_edit(studio_server, http, tmp_path, direction, cli_extra, query_extra):
    out = tmp_path / "edit"
    path = studio_server.dirs / f"{direction}.npz"
    args = ["edit", "--direction", str(path), "--seeds", "7", "--strengths=2.5", "--trunc", "0.7", "--outdir", str(out)]
    assert main([*args, *cli_extra]) == 0
    expected = np.asarray(Image.open(out / "edit.png"))
    got = render(http, seed=7, psi=0.7, **{direction: 2.5}, **query_extra)
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(got, render(http, seed=7, psi=0.7)), "the direction did not change the image"


def test_render_is_pixel_identical_to_latentjax_generate(http, tmp_path):
    out = tmp_path / "gen"
    args = ["generate", "--seeds", "11", "--trunc", "0.5", "--trunc-cutoff", "4", "--batch", "1", "--quiet"]
    assert main([*args, "--outdir", str(out)]) == 0
    expected = np.asarray(Image.open(out / "seed0011.png"))
    np.testing.assert_array_equal(render(http, seed=11, psi=0.5, cutoff=4), expected)


def test_style_mix_takes_the_second_seeds_rows(studio_server, http):
    """mix_layer=k: rows >= k from mix_seed; k = 0 is the second seed's image, k = num_ws the first's."""
    num_ws = studio_server.studio.G.config.num_ws
    a, b = render(http, seed=3), render(http, seed=4)
    np.testing.assert_array_equal(render(http, seed=3, mix_seed=4, mix_layer=0), b)
    np.testing.assert_array_equal(render(http, seed=3, mix_seed=4, mix_layer=num_ws), a)
    mixed = render(http, seed=3, mix_seed=4, mix_layer=4)
    assert not np.array_equal(mixed, a) and not np.array_equal(mixed, b)


def test_direction_order_in_the_query_does_not_matter(http):
    one = http.get("/render.png?seed=5&tilt=1&zshift=-2")
    two = http.get("/render.png?zshift=-2&tilt=1&seed=5")
    assert one.status_code == two.status_code == 200 and one.content == two.content


def test_info_describes_model_and_directions(studio_server, http):
    info = http.get("/api/info").json()
    assert (info["model"], info["arch"], info["resolution"], info["num_ws"]) == ("toyfaces-sg2", "stylegan2", 64, 10)
    assert info["layer_sets"] == {"coarse": [0, 1, 2, 3], "middle": [4, 5, 6, 7], "fine": [8, 9]}
    by_name = {d["name"]: d for d in info["directions"]}
    assert {"tilt", "zshift", "coarse_pl"} <= set(by_name) and "notes" not in by_name
    assert any("notes.npz" in line for line in studio_server.log)
    assert by_name["coarse_pl"]["layers"] == [0, 1, 2, 3] and by_name["coarse_pl"]["layer_label"] == "rows 0-3 (coarse)"
    assert by_name["zshift"]["space"] == "z" and by_name["tilt"]["layer_label"] == "rows 0-9 (all)"
    # the slider unit is the spread of w . d over sampled latents, computed independently here
    studio = studio_server.studio
    tilt = load_direction(studio_server.dirs / "tilt.npz").vector
    assert by_name["tilt"]["std"] == pytest.approx(float(np.std(studio._w_sample @ tilt)), rel=1e-6)
    assert 0.3 < by_name["tilt"]["std"] < 3.0


def test_the_page_and_its_files_are_served(http):
    page = http.get("/")
    assert page.status_code == 200 and "latentjax studio" in page.text and "/static/studio.js" in page.text
    texts = [page.text]
    for name, kind in [("studio.js", "javascript"), ("studio.css", "text/css")]:
        r = http.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        texts.append(r.text)
    for text in texts:  # offline: nothing is fetched from anywhere but this server
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


# ---- bad requests: 4xx with a message, and the server keeps serving -----------------------------

BAD_RENDERS = [
    ("seed=abc", 400, "seed must be an integer"),
    ("seed=1.5", 400, "seed must be an integer"),
    ("seed=-1", 400, "seed must be in"),
    ("seed=4294967296", 400, "seed must be in"),
    ("seed=1&psi=5", 400, "psi must be"),
    ("seed=1&psi=nan", 400, "psi must be"),
    ("seed=1&frown=2", 400, "unknown direction or parameter 'frown'"),
    ("seed=1&tilt=1e9", 400, "strength of 'tilt'"),
    ("seed=1&tilt=x", 400, "strength of 'tilt'"),
    ("seed=1&cutoff=11", 400, "cutoff must be in"),
    ("seed=1&layers=ears", 400, "layers:"),
    ("seed=1&layers=0-99&tilt=1", 400, "layers:"),
    ("seed=1&mix_seed=2", 400, "both mix_seed= and mix_layer="),
    ("seed=1&seed=2", 400, "given twice"),
    ("psi=0.5", 400, "exactly one of seed="),
    ("seed=1&latent=photo1", 400, "exactly one of seed="),
    ("latent=nosuch", 404, "unknown latent"),
    ("latent=../../etc", 400, "latent must be an ID"),
    ("seed=1&layers=coarse&coarse_pl=1", 400, "per-layer"),
]


@pytest.mark.parametrize("query, status, message", BAD_RENDERS)
def test_bad_render_requests_are_refused_with_a_message(http, query, status, message):
    r = http.get("/render.png?" + query)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json" and message in r.json()["error"]


def test_the_server_keeps_serving_after_bad_requests(http):
    for query, _, _ in BAD_RENDERS:
        http.get("/render.png?" + query)
    assert http.post("/api/invert", content=b"junk", headers={"content-type": "text/plain"}).status_code == 400
    assert http.get("/no/such/page").status_code == 404
    assert http.get("/render.png?seed=2").status_code == 200


def test_other_sites_cannot_drive_the_studio(studio_server, http):
    """DNS rebinding (a foreign Host) and cross-site POSTs (a foreign Origin) are refused."""
    r = httpx.get(studio_server.url + "/api/info", headers={"host": "evil.example"})
    assert r.status_code == 400
    body = {"name": "csrf", "positive": [1, 2, 3, 4, 5], "negative": [6, 7, 8, 9, 10]}
    r = http.post("/api/directions", json=body, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.json()["error"]
    assert "csrf" not in {d["name"] for d in http.get("/api/info").json()["directions"]}
    same = studio_server.url  # the page's own origin is fine (what the browser sends from the page)
    r = http.post("/api/directions", json={**body, "name": "x"}, headers={"origin": same})
    assert r.status_code != 403


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over a tiny (wrong-sized) image: a bomb by declaration."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 8  # signature, then length + b"IHDR"
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def _upload(http, data: bytes, name: str = "x.png", field: str = "image", path: str = "/api/invert"):
    return http.post(path, files={field: (name, data, "application/octet-stream")})


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns, then we refuse
def test_bad_uploads_are_refused(http):
    r = _upload(http, b"this is not an image")
    assert r.status_code == 400 and "not an image" in r.json()["error"]
    for side in (10000, 30000):  # over Pillow's MAX_IMAGE_PIXELS (it warns), over twice that (it raises)
        r = _upload(http, _png_header_only(side, side))
        assert r.status_code == 413 and "decompression" in r.json()["error"], r.text
    r = _upload(http, b"\0" * (20 * 2**20 + 1))
    assert r.status_code == 413 and "20 MB" in r.json()["error"]
    r = _upload(http, b"", field="photo")
    assert r.status_code == 400 and "field named 'image'" in r.json()["error"]
    r = http.post("/api/invert", content=b"raw bytes", headers={"content-type": "image/png"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]
    # latents: pickled object arrays are never loaded
    buf = io.BytesIO()
    np.savez(buf, ws=np.array([{"a": 1}], dtype=object))
    r = _upload(http, buf.getvalue(), "l.npz", "file", "/api/latents")
    assert r.status_code == 400 and "not a readable .npz" in r.json()["error"]
    buf = io.BytesIO()  # a zip bomb: a few kB that unpack to 5 MB, refused before unpacking
    np.savez_compressed(buf, ws=np.zeros((1000, 10, 128), np.float32))
    r = _upload(http, buf.getvalue(), "bomb.npz", "file", "/api/latents")
    assert r.status_code == 413 and "unpacks to 5,120,128 bytes" in r.json()["error"]
    assert http.get("/render.png?seed=2").status_code == 200


def test_uploaded_latents_render_like_latentjax_generate_ws(http, tmp_path):
    ws = np.random.RandomState(3).randn(2, 10, 128).astype(np.float32) * 0.5
    buf = io.BytesIO()
    np.savez(buf, ws=ws)
    r = _upload(http, buf.getvalue(), "l.npz", "file", "/api/latents")
    assert r.status_code == 201, r.text
    ids = r.json()["latents"]
    assert len(ids) == 2
    np.savez(tmp_path / "ws.npz", ws=ws)
    args = ["generate", "--ws", str(tmp_path / "ws.npz"), "--batch", "1", "--quiet"]
    assert main([*args, "--outdir", str(tmp_path)]) == 0
    for i, latent in enumerate(ids):
        np.testing.assert_array_equal(render(http, latent=latent), np.asarray(Image.open(tmp_path / f"ws{i:04d}.png")))
        back = np.load(io.BytesIO(http.get(f"/api/latents/{latent}.npz").content))["ws"]
        np.testing.assert_array_equal(back, ws[i : i + 1])
    # psi truncates a stored latent towards w_avg: at psi 0 every latent is the average face
    np.testing.assert_array_equal(render(http, latent=ids[1], psi=0), render(http, seed=5, psi=0))
    assert not np.array_equal(render(http, latent=ids[1], psi=0.5), render(http, latent=ids[1]))
    r = http.get("/render.png", params={"latent": ids[0], "zshift": 1})
    assert r.status_code == 400 and "z-space direction" in r.json()["error"]


# ---- few-shot directions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"name": "x", "positive": [1, 2, 3, 4], "negative": [5, 6, 7, 8, 9]}, 400, "5 to 1000 examples"),
        ({"name": "x", "positive": [1, 2, 3, 4, 5], "negative": [5, 6, 7, 8, 9]}, 400, "both positive and negative"),
        ({"name": "x", "positive": [1, 1, 2, 3, 4], "negative": [5, 6, 7, 8, 9]}, 400, "same example twice"),
        ({"name": "x", "positive": [1, 2, 3, 4, "ghost"], "negative": [5, 6, 7, 8, 9]}, 404, "unknown latent"),
        ({"name": "x", "positive": [1, 2, 3, 4, 2.5], "negative": [5, 6, 7, 8, 9]}, 400, "seed must be an integer"),
        ({"name": "psi", "positive": [1, 2, 3, 4, 5], "negative": [6, 7, 8, 9, 10]}, 400, "reserved"),
        ({"name": "../evil", "positive": [1, 2, 3, 4, 5], "negative": [6, 7, 8, 9, 10]}, 400, "direction name"),
        ({"name": "tilt", "positive": [1, 2, 3, 4, 5], "negative": [6, 7, 8, 9, 10]}, 409, "exists already"),
        ({"name": "x", "positive": "1-5", "negative": [6, 7, 8, 9, 10]}, 400, "must be a list"),
        ({"positive": [1, 2, 3, 4, 5], "negative": [6, 7, 8, 9, 10]}, 400, '"name"'),
    ],
)
def test_bad_direction_requests_are_refused(http, body, status, message):
    r = http.post("/api/directions", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]


def test_make_direction_fits_saves_and_serves_it(studio_server, http):
    """Labels from the toy world's exact smile of each seed's z: the new direction, saved in the
    `directions fit` format, raises the exact smile factor of faces it was not fitted on."""
    from latentjax.seeds import z_from_seeds
    from latentjax.toyfaces import labels_of

    seeds = list(range(500, 700))
    smiling = np.asarray(labels_of(z_from_seeds(seeds, 64))["smiling"])
    pos = [s for s, y in zip(seeds, smiling) if y][:10]
    neg = [s for s, y in zip(seeds, smiling) if not y][:10]
    r = http.post("/api/directions", json={"name": "grin", "positive": pos, "negative": neg})
    assert r.status_code == 201, r.text
    entry = r.json()
    path = studio_server.dirs / "grin.npz"
    assert entry["source"] == f"file:{path}" and entry["space"] == "w" and entry["layers"] is None
    d = load_direction(path)
    assert d.method == "logistic" and d.attribute == "grin" and d.hyperparameters["penalty"] == "l1"
    assert d.hyperparameters["positive"] == pos and d.hyperparameters["negative"] == neg
    assert d.hyperparameters["C"] == pytest.approx(200 / 20)
    assert abs(np.linalg.norm(d.vector) - 1) < 1e-6 and d.metrics["train_accuracy"] >= 0.9
    assert "grin" in {x["name"] for x in http.get("/api/info").json()["directions"]}
    # the same name again: refused, the file kept
    again = http.post("/api/directions", json={"name": "grin", "positive": pos, "negative": neg})
    assert again.status_code == 409 and load_direction(path) == d
    # it moves w along d; the renders use it at once
    assert not np.array_equal(render(http, seed=5, grin=3 * entry["std"]), render(http, seed=5))


@pytest.mark.slow  # ~20 s idle (the projector's compile), more on a busy machine
def test_photo_inversion_is_a_pollable_job_that_yields_a_latent(studio_server, http):
    target = render(http, seed=21)
    buf = io.BytesIO()
    Image.fromarray(target).resize((200, 200)).save(buf, format="JPEG")
    r = _upload(http, buf.getvalue(), "face.jpg")
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    deadline = time.monotonic() + 240
    states = set()
    while time.monotonic() < deadline:
        snap = http.get(f"/api/jobs/{job}").json()
        states.add(snap["state"])
        if snap["state"] in ("done", "failed"):
            break
        assert http.get("/render.png?seed=1").status_code == 200  # renders go on during the projection
        time.sleep(0.2)
    assert snap["state"] == "done", snap
    assert snap["step"] == snap["steps"] == 3 and np.isfinite(snap["lpips"])
    assert snap["alignment"].startswith(("aligned", "not aligned"))
    latent = snap["latent"]
    assert latent in http.get("/api/info").json()["latents"]
    img = render(http, latent=latent, tilt=1)
    assert img.shape == target.shape
    assert http.get("/api/jobs/job999").status_code == 404


def test_alignment_is_used_when_it_finds_a_face_and_skipped_otherwise(monkeypatch):
    """The studio's adapter around latentjax.align: the aligned face when there is one; the photo
    itself (centre-cropped later) when the extra is missing or no face is found."""
    import latentjax.align as align
    from latentjax.errors import InputError
    from latentjax.studio import engine

    photo = Image.fromarray(np.random.RandomState(0).randint(0, 255, (90, 120, 3), np.uint8))
    monkeypatch.setattr(engine, "faces_available", lambda: False)
    img, note = engine.align_if_available(photo, 64)
    assert img is photo and "faces extra is not installed" in note

    monkeypatch.setattr(engine, "faces_available", lambda: True)
    seen = {}

    def no_face(a, size):
        seen["shape"], seen["size"] = a.shape, size
        raise InputError("no face found (test)")

    monkeypatch.setattr(align, "align_face", no_face)
    img, note = engine.align_if_available(photo, 64)
    assert img is photo and "no face found (test)" in note and seen == {"shape": (90, 120, 3), "size": 64}

    face = np.full((64, 64, 3), 7, np.uint8)
    monkeypatch.setattr(align, "align_face", lambda a, size: align.AlignedFace(face, None, np.zeros((4, 2)), 0.9))
    img, note = engine.align_if_available(photo, 64)
    np.testing.assert_array_equal(np.asarray(img), face)
    assert note == "aligned (FFHQ, dlib score 0.90)"


@pytest.mark.skipif(not faces_available(), reason='needs the [faces] extra (pip install -e ".[faces]")')
def test_a_real_photo_is_aligned_to_the_generators_resolution():
    from latentjax.studio.engine import align_if_available, image_target

    photo = Image.open(Path(__file__).parent / "data" / "photos" / "astronaut.png")
    img, note = align_if_available(photo, 64)
    assert note.startswith("aligned (FFHQ") and img.size == (64, 64)
    target = image_target(img, 64, 3)
    assert target.shape == (1, 64, 64, 3) and target.min() >= -1 and target.max() <= 1


# ---- concurrency ------------------------------------------------------------------------------


def test_concurrent_renders_match_serial_renders(studio_server):
    """Four clients at once, each with its own settings, against what each gives alone."""
    settings = [(31, 0.8, 1.0), (32, 0.6, -2.0), (33, 1.0, 0.5), (34, 0.9, 3)]
    queries = [f"seed={s}&psi={p}&tilt={t}" for s, p, t in settings]
    queries = [q + f"&zshift={k / 7:.3f}" for k in range(4) for q in queries]  # 16 distinct images, not cached
    barrier = threading.Barrier(4)

    def worker(batch):
        with httpx.Client(base_url=studio_server.url, timeout=60) as c:
            barrier.wait()
            return [c.get("/render.png?" + q).content for q in batch]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, [queries[i::4] for i in range(4)]))
    together = {q: png for i in range(4) for q, png in zip(queries[i::4], results[i])}
    studio_server.studio._cache.clear()
    with httpx.Client(base_url=studio_server.url, timeout=60) as c:
        for q in queries:
            assert c.get("/render.png?" + q).content == together[q]


def test_gate_lets_waiting_renders_go_before_the_next_background_step():
    gate, order = DeviceGate(), []
    gate.acquire_step()  # a projection step is running
    render_waiting, step_waiting = threading.Event(), threading.Event()

    def render():
        render_waiting.set()
        with gate.render():
            order.append("render")

    def next_step():
        step_waiting.set()
        with gate.step():
            order.append("step")

    threads = [threading.Thread(target=next_step), threading.Thread(target=render)]
    threads[0].start()
    step_waiting.wait()
    threads[1].start()
    render_waiting.wait()
    time.sleep(0.05)
    assert order == [] and gate.busy
    gate.release_step()
    for t in threads:
        t.join(5)
    assert order == ["render", "step"] and not gate.busy


# ---- query parsing (pure) -------------------------------------------------------------------

names = st.sampled_from(["a", "smile", "b_2", "long-hair"])
strength = st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.floats(-1, 2).map(lambda x: round(x, 2)),
    st.dictionaries(names, strength, max_size=4),
    st.randoms(use_true_random=False),
)
def test_query_parsing_is_order_independent_and_drops_zero_strengths(seed, psi, strengths, rnd):
    pairs = [("seed", str(seed)), ("psi", repr(psi))] + [(k, repr(v)) for k, v in strengths.items()]
    rnd.shuffle(pairs)
    s = parse_render_query(pairs, ["a", "smile", "b_2", "long-hair"], num_ws=10)
    assert s == RenderSettings(seed=seed, psi=psi, strengths=tuple(strengths.items()))
    assert s.strengths == tuple(sorted((k, v) for k, v in strengths.items() if v != 0))
    assert hash(s) == hash(RenderSettings(seed=seed, psi=psi, strengths=tuple(reversed(list(strengths.items())))))


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=12))
def test_query_parsing_refuses_junk_seeds_with_request_errors(text):
    try:
        s = parse_render_query([("seed", text)], [], num_ws=10)
    except RequestError as e:
        assert e.status == 400 and "seed" in str(e)
    else:
        assert 0 <= s.seed < 2**32 and int(text) == s.seed


def test_reserved_names_cannot_be_directions():
    from latentjax.studio.params import check_name

    for name in RESERVED:
        with pytest.raises(RequestError, match="reserved"):
            check_name(name)
