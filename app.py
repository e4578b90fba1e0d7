"""VAE Latent Explorer: `streamlit run app.py`."""
import streamlit as st

from explorer.sidebar import render_sidebar

st.set_page_config(page_title="VAE Latent Explorer", page_icon=":material/scatter_plot:", layout="wide")
pages = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
    st.Page("pages/decoder_grid.py", title="Decoder grid", icon=":material/grid_on:"),
    st.Page("pages/interpolation.py", title="Interpolation", icon=":material/swap_horiz:"),
])
render_sidebar()
pages.run()
