"""Opening a script in AppTest as a shared link would: with the link's query parameters on its first run."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def opened(script: str, query: dict | None = None, page: str | None = None, timeout: float = 120) -> AppTest:
    """The script run once with `query` in its address (and, for navigation.py, on pages/<page>.py); no exception."""
    at = AppTest.from_file(script, default_timeout=timeout)
    at.query_params.update(query or {})
    if page:
        at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at
