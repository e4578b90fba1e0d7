"""What each page's HTML gets before Streamlit's scripts (explorer/startup/page_head.py), at the ASGI level: the
page's HTML is edited once and keeps a correct length; everything else passes untouched. The script's effect in a
browser is checked in tests/browser/test_deep_link_in_browser.py."""
import asyncio
import gzip
from pathlib import Path

import streamlit

from explorer.startup.deep_link import PAGE_PATHS
from explorer.startup.first_draw import COOKIE, HEAD_SCRIPT, PATH
from explorer.startup.page_head import STREAMLIT_JS, PageHead, head_additions, plotly_preload

INDEX = (Path(streamlit.__file__).parent / "static" / "index.html").read_bytes()
ADDED = b"<!--added-->"


def serve(body: bytes, content_type: bytes = b"text/html; charset=utf-8", status: int = 200, extra=(), chunks=1):
    """An ASGI app answering every request with `body` (in `chunks` parts); it notes the request headers it got."""
    seen = {}

    async def app(scope, receive, send):
        seen["headers"] = dict(scope["headers"])
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        step = -(-len(body) // chunks)
        for i in range(chunks):
            await send({"type": "http.response.body", "body": body[i * step:(i + 1) * step],
                        "more_body": i < chunks - 1})
    return app, seen


def request(app, path="/latent_map", accept=b"text/html,application/xhtml+xml", method="GET", extensions=None):
    """(status, headers, body) of one request through PageHead(app, ADDED)."""
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": method, "path": path, "headers": [(b"accept", accept),
                                                                          (b"accept-encoding", b"gzip, br")],
             "extensions": extensions or {}}
    asyncio.run(PageHead(app, ADDED)(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def test_a_pages_html_gets_the_additions_once_right_after_its_head_with_its_new_length():
    app, seen = serve(INDEX, chunks=3)
    status, headers, body = request(app)
    assert status == 200
    assert body == INDEX.replace(b"<head>", b"<head>" + ADDED, 1) and body.count(ADDED) == 1
    assert int(headers[b"content-length"]) == len(body) == len(INDEX) + len(ADDED)
    assert b"accept-encoding" not in seen["headers"], "the page must come back uncompressed to be edited"


def test_assets_other_methods_and_compressed_or_failed_pages_pass_through_untouched():
    script = b"export const x = '<head>';"
    app, seen = serve(script, content_type=b"text/javascript")
    assert request(app, "/static/js/x.js", accept=b"*/*")[2] == script
    assert seen["headers"][b"accept-encoding"] == b"gzip, br"  # an asset may still come compressed
    app, _ = serve(INDEX)
    assert request(app, method="HEAD")[2] == INDEX
    zipped = gzip.compress(INDEX)
    app, _ = serve(zipped, extra=[(b"content-encoding", b"gzip")])
    assert request(app)[2] == zipped
    app, _ = serve(b"<html><head></head>not here</html>", status=404)
    assert request(app)[2] == b"<html><head></head>not here</html>"


def test_the_additions_hold_the_base_script_a_preload_of_the_plotly_chunk_and_the_first_draw_script():
    link = plotly_preload()
    chunk = link.split('href="./static/js/')[1].split('"')[0]
    assert chunk.startswith("PlotlyChart.") and (STREAMLIT_JS / chunk).is_file()
    added = head_additions().decode()
    assert added.startswith("<script>") and "BACKEND_BASE_URL" in added
    assert added.index(link) < added.index(HEAD_SCRIPT) and added.endswith(HEAD_SCRIPT)
    assert f"{COOKIE}=" in HEAD_SCRIPT and PATH.lstrip("/") in HEAD_SCRIPT
    assert all(f'"{page}"' in added for page in PAGE_PATHS) and "latent_map" in PAGE_PATHS


def test_without_a_single_plotly_chunk_nothing_is_preloaded(tmp_path):
    assert plotly_preload(tmp_path) == ""


def test_a_page_is_asked_for_as_a_body_and_a_file_path_sent_anyway_passes_on_unedited():
    seen = {}

    async def app(scope, receive, send):  # as Starlette's FileResponse does where the server offers pathsend
        seen["extensions"] = scope["extensions"]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.pathsend", "path": "/index.html"})

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept", b"text/html")],
             "extensions": {"http.response.pathsend": {}}}
    asyncio.run(PageHead(app, ADDED)(scope, None, send))
    assert "http.response.pathsend" not in seen["extensions"]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
