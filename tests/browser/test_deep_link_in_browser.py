"""A bookmarked or shared deep link as a fresh server's first request, in a real browser (127.0.0.1 only).

Until a script calls st.navigation, a fresh server runs its first request in Streamlit's legacy pages/ mode, which
would run pages/decoder_grid.py alone: no sidebar, no model picker, and the link's query lost in the rerun that
explorer/startup/deep_link.py makes. This needs a server no one has visited, so it has one of its own. The page's
HTML tells Streamlit's frontend where the server is (explorer/startup/page_head.py): it connects at its first try,
and it has asked for Plotly's chunk before it connects. Its script tells the server when the first chart is drawn
(explorer/startup/first_draw.py), the token in the cookie its session carries."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser_harness import NAV
from explorer.startup.deep_link import base_script
from explorer.startup.first_draw import COOKIE, PATH
from tests.browser.conftest import new_page
from tests.browser.helpers import (
    PICKER,
    SLOW,
    assert_rendered,
    expect_text,
    grid_sliders,
    picked_model,
    query,
    shot,
    wait_gl_drawn,
)

pytestmark = pytest.mark.browser


def test_a_deep_link_as_a_fresh_servers_first_request_gets_the_sidebar_and_keeps_its_view(fresh_server, browser):
    page = new_page(browser, (1600, 1200))
    events = []  # what the browser asked for, in order: request urls, and "websocket" when it connected
    page.on("request", lambda request: events.append(request.url))
    page.on("websocket", lambda ws: events.append("websocket"))
    try:
        page.goto(f"{fresh_server.url}/decoder_grid?model=conv&grid=8&extent=1.5&z1=0.5&z2=-1")
        expect_text(page, "z = (+0.50, -1.00)", "the linked z on a fresh server", SLOW)
        assert not [url for url in events if "/decoder_grid/_stcore" in url], events  # no 404 and 100-ms wait
        plotly = [i for i, url in enumerate(events) if "/static/js/PlotlyChart." in url]
        assert plotly and plotly[0] < events.index("websocket"), events  # preloaded, not asked for by the first chart
        assert_rendered(page, "deep link")
        links = page.locator(f"{NAV} a").all_inner_texts()
        assert [re.sub(r"^\w+\s+", "", t.strip()) for t in links][:4] == ["Overview", "Latent map", "Decoder grid",
                                                                            "Interpolation"], links
        assert page.get_by_text("Digit colours on every map").count() == 1, "no app sidebar on a deep link"
        try:  # the sidebar can still be drawing after the run deep_link.py reruns: wait for the picker itself
            page.locator(PICKER).wait_for(timeout=SLOW)
        except PlaywrightTimeout as e:
            raise AssertionError("no model picker on a deep link's first visit") from e
        assert page.locator(PICKER).count() == 1
        assert page.url.split("?")[0].endswith("/decoder_grid")  # the query: the view (explorer/page/url_state.py)
        assert picked_model(page) == "conv (shipped)", "the link's model is not picked"
        assert grid_sliders(page) == [8, 1.5, 0.5, -1.0]
        assert query(page) == {"model": "conv", "grid": "8", "extent": "1.5", "z1": "0.5", "z2": "-1.0",
                               "overlay": "false"}
        shot(page, "shared_01_fresh_server_link")
    finally:
        page.context.close()


@pytest.mark.parametrize("path", ["latent_map", "decoder_grid"])  # a WebGL scatter first; an SVG chart of a picture
def test_a_page_tells_its_server_once_that_its_first_chart_is_drawn_with_its_sessions_token(server, browser, path):
    page = new_page(browser, (1600, 1000))
    said = []  # every such request of this page
    page.on("request", lambda request: said.append(request) if PATH in request.url else None)
    handshakes = []  # the Cookie header each websocket of the page opened with (Chromium's DevTools protocol)
    devtools = page.context.new_cdp_session(page)
    devtools.on("Network.webSocketWillSendHandshakeRequest",
                lambda event: handshakes.append({k.lower(): v for k, v in event["request"]["headers"].items()}))
    devtools.send("Network.enable")
    try:
        with page.expect_request(lambda request: PATH in request.url, timeout=SLOW) as word:
            page.goto(f"{server.url}/{path}")
        if path == "latent_map":
            wait_gl_drawn(page, 0, "the VAE map")
        page.locator(PICKER).wait_for(timeout=SLOW)  # and the rest of the page followed
        token = word.value.url.rsplit("?t=", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{32}", token) and word.value.method == "POST", word.value.url
        assert word.value.response().status == 204
        assert len(handshakes) == 1 and f"{COOKIE}={token}" in handshakes[0].get("cookie", ""), handshakes
        assert COOKIE not in {c["name"] for c in page.context.cookies()}  # dropped: a reconnect has no first view
        assert_rendered(page, "first view")
        assert len(said) == 1, [r.url for r in said]
    finally:
        page.context.close()


@pytest.mark.parametrize(("path", "base"), [("/", "/"), ("/latent_map", "/"), ("/latent_map/", "/"),
                                           ("/room/decoder_grid", "/room/"), ("/room", "/room/"),
                                           ("/room/not_a_page", "/room/not_a_page/")])
def test_a_page_address_gives_streamlit_the_servers_address_without_the_pages_name(browser, path, base):
    page = new_page(browser)
    try:  # answered by the browser itself: no server and no traffic
        page.route("http://127.0.0.1:9/**", lambda route: route.fulfill(
            status=200, content_type="text/html", body=f"<html><head>{base_script()}</head><body></body></html>"))
        page.goto(f"http://127.0.0.1:9{path}?model=conv")
        assert page.evaluate("window.__streamlit.BACKEND_BASE_URL") == f"http://127.0.0.1:9{base}"
    finally:
        page.context.close()
