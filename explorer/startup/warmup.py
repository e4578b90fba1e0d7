"""Load the shipped default model and compute what its pages show first while the server starts, so the first
visitor does not wait for it.

Importing torch takes seconds, loading the model, reading the test digits and building the latent map's figures a
little more. app.py's lifespan runs `warm_up`, then imports what a training needs, before the server answers
(/_stcore/health says "ok" only afterwards): a page opened on a server that is up finds it all done. The anomaly
scores (if asked for) follow in a background thread once serving has started. The warm-up fills the same caches the
pages read (explorer.cache). Nothing here can fail the server: without MNIST or with a broken default checkpoint the
warm-up stops and the pages report the problem as usual.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vae_core import settings

# Streamlit warns once per cached call made outside a page run ("missing ScriptRunContext"): expected here.
_CONTEXT_LOGGER = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")


def warm_up() -> list[str]:
    """Fill the caches for the default checkpoint; returns the steps that completed (for the log and tests)."""
    from explorer.startup.imports import import_app_modules

    import_app_modules()  # torch: the slow part, and the reason this runs in a thread (holding the import lock)
    from explorer import cache
    from explorer.cache.result_store import stable_key
    from explorer.model.choice import ModelKey
    from explorer.model.files import DEFAULT_CHECKPOINT

    done = ["import"]
    # the fingerprint: the hash of the checkpoint's bytes that names its shared results (the latent map asks whether
    # its anomaly scores are stored at its first run)
    steps = (("model", cache.load_model), ("checkpoint fingerprint", stable_key), ("test latents", cache.test_latents),
             ("PCA of the test digits", cache.pca_test_codes), ("embedding scores", cache.embedding_metrics),
             ("latent map figures", _first_latent_maps), ("decoder grid figure", _first_decoder_grid))
    try:
        key = ModelKey.of(DEFAULT_CHECKPOINT)
        for name, step in steps:
            step(key)
            done.append(name)
    except Exception as e:  # noqa: BLE001 -- a page shows the same error to the user, with its fix
        done.append(f"stopped: {type(e).__name__}: {e}")
    return done


def _first_latent_maps(key) -> None:
    """The latent map's two figures for a desktop and for a phone (a room's audience opens the link on phones)."""
    from explorer import cache
    from explorer.page.device import map_height

    cache.first_latent_maps(key, (cache.LATENT_MAP_HEIGHT[False], map_height(cache.LATENT_MAP_HEIGHT[False], phone=True)))


def _first_decoder_grid(key) -> None:
    """The decoder grid's picture and figure as its page first shows them (its link's defaults): each worker of a
    room otherwise decodes and encodes them at its first student's open of that page."""
    from explorer import cache
    from explorer.page.url_state import decoder_grid_schema

    view = decoder_grid_schema([]).defaults()
    cache.decoder_grid(key, view["grid"], -view["extent"], view["extent"], view["overlay"])


def prepare_training() -> None:
    """Import what the first training imports, and freeze it. A full garbage collection walks every object not
    frozen, and the objects Adam's lazy imports leave behind (over a hundred thousand) would make each one cost more
    once a training has run. Imported early and frozen, they cost nothing."""
    from explorer.startup.imports import import_training_modules

    import_training_modules()
    gc.collect()
    gc.freeze()


def prepare_anomaly_scores() -> list[str]:
    """Score the default model's test digits and probe sets for the Anomalies page (and the Draw page's percentiles):
    tens of seconds of CPU, which the first visitor of that page would otherwise wait for."""
    from explorer import cache
    from explorer.model.choice import ModelKey
    from explorer.model.files import DEFAULT_CHECKPOINT

    done = []
    try:
        key = ModelKey.of(DEFAULT_CHECKPOINT)
        for name, step in (("test digits' anomaly scores", cache.test_scores), ("probe sets", cache.probe_scores)):
            step(key)
            done.append(name)
    except Exception as e:  # noqa: BLE001 -- the page reports the same error when visited
        done.append(f"stopped: {type(e).__name__}: {e}")
    return done


def _quietly_timed(what: str, steps) -> None:
    """Run steps() with Streamlit's missing-context warnings muted, and log what it did and how long it took."""
    start, level = time.perf_counter(), _CONTEXT_LOGGER.level
    _CONTEXT_LOGGER.setLevel(logging.ERROR)
    try:
        done = steps()
    finally:
        _CONTEXT_LOGGER.setLevel(level)
    print(f"  {what} ({', '.join(done)}) took {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def _score_later() -> None:
    if not settings.warm_anomaly_scores():  # VAE_WARM_ANOMALY_SCORES=0: the browser tests need the CPU themselves
        return
    time.sleep(settings.warm_anomaly_delay())  # the room's first page loads come first
    _quietly_timed("Anomaly scores of the default model", prepare_anomaly_scores)


# CPython hands the GIL to a waiting thread after this many seconds (default 0.005). The server's event loop (static
# files, websocket messages) shares the GIL with the warm-up, the page runs and a sidebar training, and would wait
# up to 5 ms every time it wanted it back; at 1 ms a fresh server's first latent map comes sooner.
SWITCH_INTERVAL = 0.001


@asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """Lifespan of the Streamlit app (st.App): shorten the GIL switch interval, warm the default model's caches and
    import the training code, and only then serve; the anomaly scores (if asked for) follow in a background thread.

    The server answers /_stcore/health once this returns, so a page opened on a server that says it is up finds
    torch imported and the default model's first views computed, and no import holds the GIL while the room's first
    pages run (a worker restarted in a room stays out of the proxy's rotation until then). Done while a first browser
    loads, the same imports took twice as long, competing with the page's own requests for the GIL, and the training
    imports (~2 s of CPU) slowed the clicks they landed among (docs/performance.md)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    await asyncio.to_thread(_quietly_timed, "Warm-up of the default model", warm_up)
    await asyncio.to_thread(prepare_training)
    threading.Thread(target=_score_later, name="warm-up", daemon=True).start()
    yield
