"""A page's run under navigation.py (explorer.page.page_run): the sidebar is drawn once, after the page however it
ended, or before the page waits for a shared computation; a stopped page ends there and the run goes on."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

HARNESS = str(Path(__file__).with_name("page_run_app.py"))


def run(do: str) -> AppTest:
    at = AppTest.from_file(HARNESS, default_timeout=60)
    at.query_params["do"] = do
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_page_that_runs_to_its_end_gets_the_sidebar_after_it():
    at = run("end")
    assert at.session_state["log"] == ["page starts", "page ends", "sidebar", "stopped: False"]
    assert [m.value for m in at.sidebar.markdown] == ["the sidebar"]


def test_a_stopped_page_ends_there_and_still_gets_the_sidebar():
    at = run("stop")
    assert at.session_state["log"] == ["page starts", "sidebar", "stopped: True"]
    assert [i.value for i in at.main.info] == ["The page says why it stops."]
    assert [m.value for m in at.sidebar.markdown] == ["the sidebar"]


def test_a_page_that_waits_for_a_shared_computation_gets_the_sidebar_before_it_waits():
    at = run("wait")
    assert at.session_state["log"] == ["page starts", "sidebar", "waited for computed", "page ends", "stopped: False"]
    assert [m.value for m in at.sidebar.markdown] == ["the sidebar"]  # drawn once
