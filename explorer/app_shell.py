"""Make sure a page runs inside shell.py (its sidebar, layout and navigation), however the page was opened.

The page files sit in pages/, where Streamlit also looks for a legacy multipage app: until a script calls
st.navigation, a fresh server runs the first request in that legacy mode. For the root URL that runs shell.py, which
calls st.navigation and ends the mode; but a bookmarked /latent_map would run pages/latent_map.py alone -- no
sidebar, narrow layout, its file names as navigation. A page that finds itself run that way ends the legacy mode
and reruns, so shell.py runs and shows the requested page. (The flag is Streamlit's own, set by st.navigation; it is
read here because Streamlit has no public switch for it. tests/browser checks a fresh server's deep link.)
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app_shell() -> None:
    """Call first in every page, before importing torch: rerun through shell.py if Streamlit ran this page file directly."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation in shell.py would have set
        st.rerun()
