"""VAE Latent Explorer: `streamlit run app.py`.

The page files live in views/, not pages/: with a pages/ folder Streamlit's legacy multipage mode runs the first
request of a fresh server (e.g. a bookmarked /latent_map) without this script, so without the sidebar and layout."""
import streamlit as st

from explorer.palette import colour_key_figure

st.set_page_config(page_title="VAE Latent Explorer", page_icon=":material/scatter_plot:", layout="wide")
pages = st.navigation([
    st.Page("views/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("views/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
    st.Page("views/decoder_grid.py", title="Decoder grid", icon=":material/grid_on:"),
    st.Page("views/interpolation.py", title="Interpolation", icon=":material/swap_horiz:"),
])
with st.sidebar:
    sidebar = st.container()  # filled below, once the model code is imported
    st.caption("Digit colours on every map")
    # Sent before the import below, and drawn with Plotly: on a fresh server the browser then loads Plotly's
    # 4.7 MB bundle (~2 s here) while this process imports torch (~2 s), instead of one after the other.
    st.plotly_chart(colour_key_figure(), key="app_colour_key", theme=None, config={"staticPlot": True})

from explorer.heap import freeze_long_lived_objects  # noqa: E402 -- imports torch: after the key is sent
from explorer.sidebar import render_sidebar  # noqa: E402

with sidebar:
    render_sidebar()
pages.run()
freeze_long_lived_objects(pages.url_path)  # once per page: later clicks skip the long-lived heap in GC
