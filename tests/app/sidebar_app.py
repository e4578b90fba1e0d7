"""AppTest harness: the shared sidebar alone, plus what a page would get from it.

(AppTest in streamlit 1.67 drops sidebar elements on reruns of a script that calls st.navigation, so the
sidebar's interactions are tested through this navigation-free script; shell.py itself is run once in
test_overview.py.)
"""
import streamlit as st

from explorer.sidebar import render_sidebar, selected_checkpoint

with st.sidebar:
    render_sidebar()
path, mtime = selected_checkpoint()
st.markdown(f"page uses: {path}")
