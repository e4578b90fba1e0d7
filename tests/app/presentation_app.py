"""AppTest harness: the shared sidebar and the presentation mode as navigation.py draws them (AppTest in streamlit 1.67
drops sidebar elements on reruns of a script that calls st.navigation; see sidebar_app.py)."""
import streamlit as st

from explorer.shell.presentation import render_presentation
from explorer.shell.sidebar import choose_model, render_sidebar

pick = choose_model()
with st.sidebar:
    render_sidebar(pick)
render_presentation()
st.markdown("the page")
