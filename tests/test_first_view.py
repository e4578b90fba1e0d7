"""What a first view sends first, on a real server on 127.0.0.1 (issue 16, First view): the page's picture before the
widgets around it and before the sidebar, so that the browser fetches Plotly's bundle and draws the map while the
rest arrives (docs/performance.md, Speed workarounds); and a fresh server's first request for a page link runs the
script once. Streamlit's websocket protocol, spoken by bench/streamlit_client.py, records the order of the elements as
the server sends them and the runs it announces."""
import asyncio
from dataclasses import dataclass

import pytest

from bench.browser_harness import serve_app
from bench.streamlit_client import WIDGET_TYPES, StreamlitTab

MAIN, SIDEBAR = 0, 1  # Streamlit's root containers (a delta's path starts with one)


class OrderTab(StreamlitTab):
    """A tab that notes each element as it arrives: (root container, element type)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order: list[tuple[int, str]] = []
        self.runs = 0  # script runs the server announced (new_session)

    def _run_started(self, msg):
        self.runs += 1
        super()._run_started(msg)

    def _delta(self, msg):
        if msg.delta.WhichOneof("type") == "new_element":
            self.order.append((msg.metadata.delta_path[0], msg.delta.new_element.WhichOneof("type")))
        super()._delta(msg)


@dataclass
class Served:
    url: str
    first: OrderTab  # the server's first request: /latent_map, opened as the fixture starts the server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first-view")
    with serve_app(folder / "ckpts", folder / "server.log") as (url, _):
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
