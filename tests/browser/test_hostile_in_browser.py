"""The presenter link in real Chromium, in room mode (issue 16, finding 6): the token never reaches the page's address
or the browser's history (the server redirects the link and keeps the token in a cookie), and the session still
presents."""
import pytest

from bench.browser_harness import NAV, chromium, serve_app, wait_idle
from vae_core.settings import TOKEN_ENV

TOKEN = "a-presenter-token-of-24ch"
MAX_HISTORY = 20  # a bound on the Back presses: this tab's history holds a few entries


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    folder = tmp_path_factory.mktemp("room")
    with serve_app(folder / "ckpts", folder / "server.log", env={TOKEN_ENV: TOKEN}) as (url, _):
        yield url


def test_the_presenter_link_leaves_no_token_in_the_address_or_the_history(room):
    with chromium() as page:
        page.goto(f"{room}/?presenter={TOKEN}")
        # the document itself was loaded from the bare address: the token was never in the address bar
        assert TOKEN not in page.evaluate("performance.getEntriesByType('navigation')[0].name")
        assert TOKEN not in page.url
        page.wait_for_selector(NAV, timeout=120_000)
        wait_idle(page, 120_000)
        page.get_by_text("Share with the room").wait_for(timeout=60_000)  # the session presents
        assert TOKEN not in page.url
        visited = [page.url]
        # Back through the whole history (the issue: twice), until the tab's first entry. Counted as it goes, not
        # from history.length read once: the app may still add an entry (its address's ?model=) meanwhile. After each
        # Back the page reruns for that entry (and puts ?model= back); it is let finish, as a person pressing Back sees
        # it do, before the next. Pressed faster, a Back lands while Streamlit's frontend still waits for the previous
        # run, whose end makes it record the address it restores as a new entry instead of in place (its
        # historyNavigationEpoch), and the walk goes round in circles.
        while page.url != "about:blank" and len(visited) <= MAX_HISTORY:
            page.go_back()
            visited.append(page.url)
            if page.url != "about:blank":  # its run has put the model back in the address, and ended
                page.wait_for_function("() => location.search.includes('model=')", timeout=60_000)
                wait_idle(page, 60_000)
                visited.append(page.url)
        assert visited[-1] == "about:blank", visited  # the whole history was seen
        assert not [url for url in visited if TOKEN in url], visited


def test_a_wrong_token_in_the_link_leaves_the_session_in_the_audience(room):
    with chromium() as page:
        page.goto(f"{room}/?presenter=not-the-token-at-all")
        assert "not-the-token" not in page.url
        page.wait_for_selector(NAV, timeout=120_000)
        wait_idle(page, 120_000)
        page.get_by_text("That is not the presenter token.").wait_for(timeout=60_000)
        assert page.get_by_text("Share with the room").count() == 0
