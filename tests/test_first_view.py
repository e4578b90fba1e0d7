"""What a first view sends first, on a real server on 127.0.0.1 (issue 16, First view): the page's picture before the
widgets around it and before the sidebar, so that the browser fetches Plotly's bundle and draws the map while the
rest arrives (docs/performance.md, Speed workarounds); in a browser that says when it has drawn it, the rest only
after (explorer/startup/first_draw.py); and a fresh server's first request for a page link runs the script once.
Streamlit's websocket protocol, spoken by bench/streamlit_client.py, records the order of the elements as the server
sends them and the runs it announces; a plain POST says what a browser's script says."""
import asyncio
import http.client
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from bench.browser_harness import serve_app
from bench.streamlit_client import WIDGET_TYPES, StreamlitTab
from explorer.startup import first_draw
from vae_core.settings import FIRST_DRAW_ENV

MAIN, SIDEBAR = 0, 1  # Streamlit's root containers (a delta's path starts with one)


class OrderTab(StreamlitTab):
    """A tab that notes each element as it arrives: (root container, element type)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order: list[tuple[int, str]] = []
        self.charts: list[float] = []  # when each chart of the page's main area arrived (perf_counter)
        self.runs = 0  # script runs the server announced (new_session)

    def _run_started(self, msg):
        self.runs += 1
        super()._run_started(msg)

    def _delta(self, msg):
        if msg.delta.WhichOneof("type") == "new_element":
            self.order.append((msg.metadata.delta_path[0], msg.delta.new_element.WhichOneof("type")))
            if self.order[-1] == (MAIN, "plotly_chart"):
                self.charts.append(time.perf_counter())
        super()._delta(msg)


@dataclass
class Served:
    url: str
    first: OrderTab  # the server's first request: /latent_map, opened as the fixture starts the server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A first view in a browser holds the rest of its page for up to 600 s here, so that only the browser's word ends
    # it; `first`, a client without the browser's cookie, would outlast its 120-s timeout if it were held at all.
    folder = tmp_path_factory.mktemp("first-view")
    with serve_app(folder / "ckpts", folder / "server.log", env={FIRST_DRAW_ENV: "600"}) as (url, _):
        yield Served(url, first_view(url, "latent_map"))


def first_view(url: str, path: str) -> OrderTab:
    async def scenario():
        tab = OrderTab(url, path=path, timeout=120)
        result = await tab.open()
        await tab.close()
        assert result.seconds is not None and not tab.errors, (result, tab.errors)
        return tab
    return asyncio.run(scenario())


def test_a_fresh_servers_first_request_for_a_page_link_runs_the_script_once(server, real_data):
    # Streamlit's legacy pages/ mode would run pages/latent_map.py alone first, and explorer.startup.deep_link's
    # guard would rerun it: two runs, the first thrown away. app.py declares the navigation before serving.
    assert server.first.runs == 1, server.first.runs
    assert "plotly_chart" in [kind for _, kind in server.first.order], server.first.order


def test_a_first_view_of_the_latent_map_sends_both_maps_before_any_widget_and_the_sidebar(server, real_data):
    order = server.first.order
    charts = [i for i, (root, kind) in enumerate(order) if root == MAIN and kind == "plotly_chart"]
    assert len(charts) >= 2, order
    second_map = charts[1]
    before = order[:second_map]
    assert not [kind for root, kind in before if root == SIDEBAR], before
    assert not [kind for _, kind in before if kind in WIDGET_TYPES and kind != "plotly_chart"], before
    sidebar = [kind for root, kind in order if root == SIDEBAR]
    assert "selectbox" in sidebar, order  # the model picker is still drawn, after the page


def test_a_first_view_sends_no_training_form_until_its_expander_opens(server, real_data):
    order = first_view(server.url, "latent_map").order
    sidebar = [kind for root, kind in order if root == SIDEBAR]
    assert "text_input" not in sidebar and "number_input" not in sidebar and "radio" not in sidebar, sidebar


def say_drawn(url: str, token: str) -> int:
    """What a page's script (first_draw.HEAD_SCRIPT) sends once its first chart is drawn; the answer's status."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    try:
        connection.request("POST", f"{first_draw.PATH}?t={token}")
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("page", ["latent_map", "decoder_grid"])
def test_a_browsers_first_view_sends_the_rest_of_the_page_once_the_browser_has_drawn_its_picture(server, real_data,
                                                                                                page):
    token = uuid.uuid4().hex

    async def scenario():
        tab = OrderTab(server.url, path=page, timeout=120)
        tab.cookies[first_draw.COOKIE] = token  # what the page's script sets before Streamlit connects
        opening = asyncio.create_task(tab.open())
        while not tab.charts and not opening.done():
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # a page that did not hold would have sent the rest by now (it follows in ms)
        held = list(tab.order)
        status = await asyncio.to_thread(say_drawn, server.url, token)
        result = await opening
        await tab.close()
        return tab, held, status, result

    tab, held, status, result = asyncio.run(scenario())
    assert status == 204
    assert result.seconds is not None and not tab.errors, (result, tab.errors)
    assert held and held[-1] == (MAIN, "plotly_chart") and held.count((MAIN, "plotly_chart")) == 1, held
    assert not [kind for root, kind in held if root == SIDEBAR], held
    rest = tab.order[len(held):]  # what came after the browser's word
    assert (SIDEBAR, "selectbox") in rest and [kind for root, kind in rest if root == MAIN], tab.order
    if page == "latent_map":
        assert (MAIN, "plotly_chart") in rest, rest  # the PCA map


def test_only_a_sessions_first_run_waits_for_the_browsers_word(server, real_data):
    # A session that opened another page first sees the latent map and the decoder grid without waiting (the server
    # would hold 600 s, beyond the tab's 120-s timeout); so does a client without the cookie (the fixture's first view).
    async def scenario():
        tab = OrderTab(server.url, path="", timeout=120)
        tab.cookies[first_draw.COOKIE] = uuid.uuid4().hex
        await tab.open()
        results = [await tab.navigate("latent_map"), await tab.navigate("decoder_grid")]
        await tab.close()
        return tab, results

    tab, results = asyncio.run(scenario())
    assert all(r.seconds is not None for r in results) and not tab.errors, (results, tab.errors)
    assert len(tab.charts) >= 3, tab.order  # both maps, then the grid
    assert server.first.runs == 1 and server.first.charts, server.first.order


def test_the_drawn_signal_answers_every_token_alike(server, real_data):
    # a token no session waits on, or no token at all, changes nothing, and the answer does not tell them apart
    assert say_drawn(server.url, uuid.uuid4().hex) == 204
    assert say_drawn(server.url, "not-a-token") == 204
    assert say_drawn(server.url, "x" * 5000) == 204
