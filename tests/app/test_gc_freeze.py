"""explorer.startup.gc_freeze: the long-lived heap is frozen once per page, so later collections skip it."""
import gc

from explorer.startup.gc_freeze import freeze_long_lived_objects


def test_freezes_live_objects_once_per_page():
    freeze_long_lived_objects.clear()
    gc.unfreeze()
    alive = [[i] for i in range(5000)]  # container objects the collector tracks
    try:
        freeze_long_lived_objects("some_page")
        assert gc.get_freeze_count() >= len(alive)
        gc.unfreeze()
        freeze_long_lived_objects("some_page")  # cached: the page is not frozen again
        assert gc.get_freeze_count() == 0
        freeze_long_lived_objects("other_page")  # a new page freezes what it added
        assert gc.get_freeze_count() >= len(alive)
    finally:
        gc.unfreeze()
        freeze_long_lived_objects.clear()


def test_streamlit_does_not_collect_garbage_after_every_script_run():
    """Each run's full collection walks every session's objects: under a room's load it was a fifth of an action's
    CPU (docs/performance.md); the app's config turns it off, and Streamlit reads that setting."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    path = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    assert tomllib.loads(path.read_text())["runner"]["postScriptGC"] is False
    assert "runner.postScriptGC" in config._config_options_template  # the option exists under this name
