"""A bookmarked or shared page link (/latent_map) runs through navigation.py, even as a fresh server's first request,
and connects at the browser's first try.

The page files sit in pages/, where Streamlit also looks for a legacy multipage app: until a script calls
st.navigation, a fresh server runs the first request in that legacy mode. For the root URL that runs navigation.py,
which calls st.navigation and ends the mode; but a deep link to /latent_map would run pages/latent_map.py alone -- no
sidebar, narrow layout, its file names as navigation. A page that finds itself run that way ends the legacy mode
and reruns, so navigation.py runs and shows the requested page. (The flag is Streamlit's own, set by st.navigation;
it is read here because Streamlit has no public switch for it. tests/browser checks a fresh server's deep link.)

Every page calls `ensure_navigation()` first, before importing torch (tests/app/test_import_order.py): on a deep
link the rerun then costs nothing, instead of a torch import (seconds) that the rerun throws away. app.py's server
goes further: `declare_navigation()` sets the flag before the first request, so no run is thrown away (docs/performance.md,
First view); the guard stays for `streamlit run navigation.py`.

In the browser, Streamlit's frontend cannot tell whether /latent_map is a page or a folder the app is served under: it
asks /latent_map/_stcore/health first, gets a 404, waits 100 ms and only then asks /_stcore/health. `base_script()`
tells it, through the setting its frontend reads for the server's address (`window.__streamlit.BACKEND_BASE_URL`),
put in each page's HTML by explorer.startup.page_head.
"""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
# our pages' url paths: st.Page's default, the file's stem (navigation.py names no other)
PAGE_PATHS = tuple(sorted(p.stem for p in PAGES_DIR.glob("*.py")))


def declare_navigation() -> None:
    """Tell Streamlit, before any request, that the app navigates with st.navigation (navigation.py), as the app's
    first run would."""
    PagesManager.uses_pages_directory = False


def ensure_navigation() -> None:
    """Rerun through navigation.py if Streamlit ran this page file directly (legacy pages/ mode)."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation in navigation.py would have set
        st.rerun()


def base_script(pages: tuple[str, ...] = PAGE_PATHS) -> str:
    """A <script> that gives Streamlit's frontend its server's address: the page's address without a last segment
    that names one of `pages` (/latent_map -> /, /room/latent_map -> /room/), else the address itself (what the
    frontend tries first anyway). It must run before Streamlit's own script, which reads the setting as it loads."""
    js = ("(() => { const pages = PAGES; let path = location.pathname.replace(/\\/+$/, '');"
          " const last = path.slice(path.lastIndexOf('/') + 1);"
          " if (pages.includes(last)) path = path.slice(0, path.length - last.length);"
          " if (!path.endsWith('/')) path += '/';"
          " window.__streamlit = Object.assign({}, window.__streamlit, {BACKEND_BASE_URL: location.origin + path});"
          " })();").replace("PAGES", json.dumps(list(pages)), 1)
    return f"<script>{js}</script>"
