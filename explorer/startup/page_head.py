"""What each page's HTML gets at the start of its <head>, before Streamlit's own scripts: the server's address for a
deep link (explorer.startup.deep_link.base_script), a preload of Plotly's chunk of Streamlit's frontend, and the
script that tells the server when the page's first chart is drawn (explorer.startup.first_draw.HEAD_SCRIPT).

The preload: Streamlit's frontend loads its Plotly chart code (one 4.7 MB chunk) only when a page's first chart
arrives, and then fetches it from the server while that server is still sending the rest of the page and serving the
other widgets' chunks. Almost every page of ours shows a Plotly chart first, so the page's HTML asks for the chunk at
once (`<link rel="modulepreload">`: fetched and compiled, not run), while the browser is still loading Streamlit's
own bundle (docs/performance.md, First view).

`PageHead` is an ASGI middleware of app.py's st.App; `streamlit run navigation.py` serves the pages without it."""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit

from explorer.startup.deep_link import base_script
from explorer.startup.first_draw import HEAD_SCRIPT

STREAMLIT_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"
HEAD = b"<head>"
PATHSEND = "http.response.pathsend"
_LOGGER = logging.getLogger(__name__)


def plotly_preload(folder: Path = STREAMLIT_JS) -> str:
    """The <link> that preloads Streamlit's Plotly chunk (its name carries a content hash), as index.html links
    Streamlit's own chunks; empty if this Streamlit has no such chunk."""
    chunks = sorted(folder.glob("PlotlyChart.*.js"))
    if len(chunks) != 1:
        _LOGGER.warning("no single PlotlyChart chunk in %s (%d found): pages load it without a preload", folder,
                        len(chunks))
        return ""
    return f'<link rel="modulepreload" crossorigin href="./static/js/{chunks[0].name}">'


def head_additions() -> bytes:
    return (base_script() + plotly_preload() + HEAD_SCRIPT).encode()


class PageHead:
    """ASGI middleware: a page's HTML (a GET whose Accept header asks for HTML: a browser loading a page) gets
    `additions` right after its <head>. Such a request is passed on without its Accept-Encoding, so that the page comes
    back uncompressed, and as a body, and can be edited (Streamlit's page is ~8 KB). Every other request and response
    passes through untouched, as does a page that comes back compressed anyway, not 200, without a <head> or as a file
    path after all."""

    def __init__(self, app, additions: bytes | None = None) -> None:
        self.app = app
        self.additions = head_additions() if additions is None else additions

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not _asks_for_html(scope["headers"]):
            return await self.app(scope, receive, send)
        # uncompressed, and as a body rather than a file path (ASGI's pathsend extension, which some servers offer)
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"],
                 "extensions": {k: v for k, v in scope.get("extensions", {}).items() if k != PATHSEND}}
        start: dict | None = None  # an HTML response's start, held until its body is complete (its length changes)
        body: list[bytes] = []

        async def edit(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] == 200 \
                    and _is_plain_html(message["headers"]):
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    page = b"".join(body).replace(HEAD, HEAD + self.additions, 1)
                    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                    await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
                    await send({"type": "http.response.body", "body": page})
                    start = None
            else:
                if start is not None:  # an answer this middleware cannot edit: passed on as it came
                    await send(start)
                    start = None
                await send(message)

        await self.app(scope, receive, edit)


def _asks_for_html(headers) -> bool:
    return any(k.lower() == b"accept" and b"text/html" in v for k, v in headers)


def _is_plain_html(headers) -> bool:
    values = {k.lower(): v for k, v in headers}
    return values.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in values
