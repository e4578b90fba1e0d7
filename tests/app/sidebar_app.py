"""AppTest harness: the shared sidebar alone, plus what a page would get from it.

(AppTest in streamlit 1.67 drops sidebar elements on reruns of a script that calls st.navigation, so the
sidebar's interactions are tested through this navigation-free script; navigation.py itself is run once in
test_overview.py.)
"""
import streamlit as st

from explorer.page.guards import page_model
from explorer.shell.sidebar import choose_model, render_sidebar

pick = choose_model()
with st.sidebar:
    render_sidebar(pick)
key, _ = page_model(latent_2d=False)
st.markdown(f"page uses: {key.path}")
