"""explorer.startup.gc_freeze: the long-lived heap is frozen once per page, so later collections skip it."""
import gc

from explorer.startup.gc_freeze import freeze_long_lived_objects


def test_freezes_live_objects_once_per_page():
    freeze_long_lived_objects.clear()
    gc.unfreeze()
    alive = [[i] for i in range(5000)]  # container objects the collector tracks
    try:
        frozen = freeze_long_lived_objects("some_page")
        assert frozen >= len(alive) and gc.get_freeze_count() >= len(alive)
        gc.unfreeze()
        assert freeze_long_lived_objects("some_page") == frozen  # cached: the page is not frozen again
        assert gc.get_freeze_count() == 0
        assert freeze_long_lived_objects("other_page") >= len(alive)  # a new page freezes what it added
    finally:
        gc.unfreeze()
        freeze_long_lived_objects.clear()
