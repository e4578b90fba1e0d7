"""The Streamlit script that app.py serves: the navigation over the pages in pages/, the layout, the styles every
page shares, and the sidebar -- which chooses the model the page then shows (explorer.model.choice).

Each page starts with explorer.startup.deep_link.ensure_navigation(): on a fresh server, a first request for /latent_map
runs in Streamlit's legacy pages/ mode without this script, and the page then reruns through it."""
import streamlit as st

from explorer.room.roles import claim_from_url

claim_from_url()  # first, before the heavy imports below: ?presenter=<token> leaves the address bar at once

from explorer.model.link import note_linked_model  # noqa: E402
from explorer.render.favicon import FAVICON_SVG  # noqa: E402
from explorer.render.palette import colour_key_html  # noqa: E402
from explorer.render.styles import CRISP_CSS, PHONE_CSS, TAP_SELECTS_JS  # noqa: E402
from explorer.shell.presentation import presenting, render_presentation  # noqa: E402

st.set_page_config(page_title="VAE Latent Explorer", page_icon=FAVICON_SVG, layout="wide")
note_linked_model()  # before the page list is shown: a click on it would drop the address's ?model=
pages = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
    st.Page("pages/decoder_grid.py", title="Decoder grid", icon=":material/grid_on:"),
    st.Page("pages/interpolation.py", title="Interpolation", icon=":material/swap_horiz:"),
    st.Page("pages/anomalies.py", title="Anomalies", icon=":material/report:"),
    st.Page("pages/holes.py", title="Holes", icon=":material/blur_on:"),
    st.Page("pages/film.py", title="Training film", icon=":material/movie:"),
    st.Page("pages/draw.py", title="Draw a digit", icon=":material/draw:"),
    st.Page("pages/class_map.py", title="Class map", icon=":material/groups:"),
    st.Page("pages/repair.py", title="Repair", icon=":material/healing:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
], position="top" if presenting() else "sidebar")  # presenting, the sidebar is hidden: the pages go along the top
st.html(CRISP_CSS + PHONE_CSS)  # every page: digit pixels stay square when scaled; the layout fits a phone
render_presentation()  # presenting: larger type, no sidebar or toolbar, and the button that ends it
sidebar = st.sidebar.container()  # filled after the page: a first view sends the page's picture first

from explorer.startup.imports import import_app_modules  # noqa: E402

import_app_modules()  # torch & co. (the warm-up imported them already); one thread at a time (a room connecting at once)
from explorer.page.page_run import page_run  # noqa: E402
from explorer.room.session_pace import paced_run  # noqa: E402
from explorer.shell.sidebar import choose_model, render_sidebar  # noqa: E402
from explorer.startup.first_draw import first_view  # noqa: E402
from explorer.startup.gc_freeze import freeze_long_lived_objects  # noqa: E402

pick = choose_model()  # the model the page shows; the picker itself is drawn with the sidebar, after the page


def draw_sidebar() -> None:
    with sidebar:
        render_sidebar(pick)
        st.caption("Digit colours on every map")
        st.html(colour_key_html())  # HTML, not a chart: the page's own maps are the first charts the browser draws
        st.html(TAP_SELECTS_JS, unsafe_allow_javascript=True)  # our own script: a tap on a chart selects (styles.py)


# The page's run is charged to an audience session's CPU budget in a room, and waits first if that is spent
# (explorer.room.session_pace). The sidebar comes once the page has ended, however it ended (a page that stopped or
# failed keeps its model picker), or before the page waits for a shared computation (explorer.page.page_run). On a
# session's first run, the page may hold its rest until the browser has drawn its picture (explorer.startup.first_draw).
with paced_run():
    with page_run(draw_sidebar) as run, first_view():
        pages.run()
    if not run.stopped:
        freeze_long_lived_objects(pages.url_path)  # once per page: later clicks skip the long-lived heap in GC
