"""The browser tests' servers and browser: one headless Chromium for the run, and one `streamlit run app.py` per kind
of server (127.0.0.1, a free port, its own tmp checkpoint folder), started when a test first needs it:

- `server`: the plain app, shared by every module that needs nothing else (sessions are per page, and each module
  opens its own browser context with its own VIEWPORT);
- `fresh_server`: a server no one has visited yet, for the one test about a server's first request;
- `room_server`: room mode (VAE_PRESENTER_TOKEN = ROOM_TOKEN) with a small "earlier" model in its folder, and a
  training budget of 600 minutes;
- `film_server`: a small model trained on MNIST with its film, in its folder.

A failing test leaves a screenshot of its pages in artifacts/screenshots/FAILED_<test>.png."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Page

import vae_core as vc
from bench.browser_harness import chromium_browser, serve_app
from tests.browser.helpers import SHOTS, WAIT

ROOM_TOKEN = "browser-test-token-0123"
FILMED = "filmed"
DEFAULT_VIEWPORT = (1600, 1000)


@dataclass(frozen=True)
class Server:
    url: str
    checkpoints: Path
    log: Path
    film: dict = field(default_factory=dict)  # film_server: the filmed model's snapshots


@contextlib.contextmanager
def serving(tmp_path_factory, name: str, env: dict | None = None, fill=None):
    """A server over a new tmp checkpoint folder, which `fill(folder)` may put models in first."""
    tmp = tmp_path_factory.mktemp(name)
    checkpoints = tmp / "checkpoints"
    checkpoints.mkdir()
    film = fill(checkpoints) if fill else None
    log = tmp / "streamlit.log"
    with serve_app(checkpoints, log, env=env) as (url, _):
        yield Server(url, checkpoints, log, film or {})


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module: Playwright's sync API keeps an event loop running in this thread while it is open,
    and tests outside tests/browser run asyncio themselves."""
    with chromium_browser() as b:
        yield b


@pytest.fixture(scope="session")
def server(tmp_path_factory, real_data):
    with serving(tmp_path_factory, "app") as s:
        yield s


@pytest.fixture
def fresh_server(tmp_path_factory, real_data):
    with serving(tmp_path_factory, "fresh") as s:
        yield s


def an_earlier_model(checkpoints: Path) -> None:
    vc.save_checkpoint(checkpoints / "earlier.pt", vc.VAE(vc.ModelConfig(hidden=(16,))), vc.TrainConfig(epochs=1),
                       metrics={"test_loss": 300.0})


@pytest.fixture(scope="session")
def room_server(tmp_path_factory, real_data):
    # the training the room test starts and cancels is long on purpose: no time budget may refuse it on a busy machine
    env = {"VAE_PRESENTER_TOKEN": ROOM_TOKEN, vc.BUDGET_ENV: "600"}
    with serving(tmp_path_factory, "room", env=env, fill=an_earlier_model) as s:
        yield s


def a_filmed_model(checkpoints: Path) -> dict:
    """3 epochs of 63 steps on 2,000 images (frames at steps 0, 10, 30, then every epoch), on one thread; returns
    its snapshots. The thread count is given back after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tc = vc.TrainConfig(epochs=3, batch_size=32, train_subset=2000, test_subset=2000, snapshot_size=500)
        result = vc.train(vc.ModelConfig(hidden=(64,)), tc, show_bar=False)
    finally:
        torch.set_num_threads(threads)
    vc.save_checkpoint(checkpoints / f"{FILMED}.pt", result.model, tc, result.history, {}, result.snapshots)
    return result.snapshots


@pytest.fixture(scope="session")
def film_server(tmp_path_factory, real_data):
    with serving(tmp_path_factory, "film", fill=a_filmed_model) as s:
        yield s


def new_page(browser, viewport=DEFAULT_VIEWPORT) -> Page:
    """A page in a new browser context (no cookies, no session: another visitor); closing its context closes it."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    return page


@pytest.fixture(scope="module")
def page(browser, request):
    """The module's visitor: one page for all its tests (they run in file order), at the module's VIEWPORT."""
    p = new_page(browser, getattr(request.module, "VIEWPORT", DEFAULT_VIEWPORT))
    yield p
    p.context.close()


@pytest.fixture(scope="module")
def second_page(browser, request):
    """Another visitor of the same server, in its own browser context."""
    p = new_page(browser, getattr(request.module, "VIEWPORT", DEFAULT_VIEWPORT))
    yield p
    p.context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        pages = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Page)]
        for k, page in enumerate(pages):
            try:
                path = SHOTS / f"FAILED_{item.name}{f'_{k}' if k else ''}.png"
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path))
                report.sections.append(("screenshot", str(path)))
            except Exception as e:  # noqa: BLE001 -- a broken page must not hide the real failure
                report.sections.append(("screenshot", f"could not be taken: {e}"))
    return report
