"""Decoder grid: what the decoder draws at each point of a G x G lattice over [-a, a]^2 (needs no data)."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import streamlit as st

from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.guards import mnist_advice, mnist_or_none, page_model
from explorer.render.clicks import selected_z
from explorer.room import session_pace
from explorer.startup import first_draw

Z_LIMIT = us.Z_LIMIT  # the fine-tune sliders span [-Z_LIMIT, Z_LIMIT] (the largest extent)
CHART = "grid_chart"
STATE = {"grid": "grid_size", "extent": "grid_extent", "z1": "grid_z1", "z2": "grid_z2", "overlay": "grid_overlay"}

link_slot = us.titled("Decoder grid")
st.caption("The decoder applied to an evenly spaced G × G lattice of latent codes z = (z₁, z₂): up is +z₂, right is "
           "+z₁, exactly as on the latent map. Click a cell to decode that z large, then fine-tune it with the sliders.")

key, ckpt = page_model()
schema = us.decoder_grid_schema(us.model_names())
linked = us.restore(schema)  # the link's view (or the defaults), read once per session; the widgets own it after
for field, state_key in STATE.items():
    st.session_state.setdefault(state_key, linked[field])  # no value= on the widgets: the state is their only source

controls = st.columns([2, 2, 3])
grid_size = controls[0].slider("Grid size G (G × G digits)", 5, 40, key="grid_size")
extent = us.stepped_slider("Extent a: z ∈ [−a, a]²", schema.fields["extent"], key="grid_extent", where=controls[1])
test = mnist_or_none("test")
with controls[2]:
    overlay = st.toggle("Overlay the test digits' latent means", key="grid_overlay", disabled=test is None,
                        help="10,000 coloured dots, one per MNIST test digit, at the mean of q(z|x).")
    if test is None:
        st.caption("Overlay unavailable: " + mnist_advice())
    overlay = overlay and test is not None

lo, hi = -float(extent), float(extent)
png = cache.grid_picture(key, grid_size, lo, hi)[1]
view = {"model": model_name(key.path), "grid": grid_size, "extent": extent, "overlay": overlay}  # z: cell_view's


def _on_cell() -> None:
    z = selected_z(st.session_state.get(CHART))
    if z is not None:
        st.session_state["grid_z1"] = min(max(round(z[0], 2), -Z_LIMIT), Z_LIMIT)
        st.session_state["grid_z2"] = min(max(round(z[1], 2), -Z_LIMIT), Z_LIMIT)


@session_pace.fragment
def cell_view() -> None:
    """The chosen z decoded large; the sliders rerun only this part."""
    picture = st.container()
    z1 = us.stepped_slider("z₁", schema.fields["z1"], key="grid_z1")
    z2 = us.stepped_slider("z₂", schema.fields["z2"], key="grid_z2")
    with picture:
        st.markdown(f"### z = ({z1:+.2f}, {z2:+.2f})")
        st.image(cache.decoded_picture(key, z1, z2, 336), output_format="PNG")
    # Here, so a click (this fragment's rerun) updates the link too; after the picture, so the browser gets the picture
    # first (an address change re-renders Streamlit's whole app root).
    us.publish(schema, {**view, "z1": z1, "z2": z2})


@session_pace.fragment
def grid_and_cell() -> None:
    """The grid and the clicked cell: a click reruns only this part (the grid picture itself is unchanged)."""
    left, right = st.columns([2, 1], gap="large")
    with left:
        # one figure per model and view for every session and click (explorer.cache.figures)
        st.plotly_chart(cache.decoder_grid(key, grid_size, lo, hi, overlay), key=CHART, on_select=_on_cell,
                        selection_mode="points", config={"displayModeBar": False, "scrollZoom": False})
    first_draw.hold()  # a first view: the rest (the decoded cell, the sidebar) once the browser has drawn the grid
    with right:
        cell_view()
        st.download_button("Download the grid as PNG", png, file_name=f"decoder_grid_{grid_size}x{grid_size}_"
                           f"a{extent:g}.png", mime="image/png", key="grid_download", on_click="ignore",
                           icon=":material/download:")
        st.download_button("PNG for a slide (1920 × 1080)", lambda: cache.grid_slide_png(key, grid_size, lo, hi),
                           file_name=f"decoder_grid_{grid_size}x{grid_size}_a{extent:g}_slide.png", mime="image/png",
                           key="grid_slide_download", on_click="ignore", icon=":material/slideshow:",
                           help="The grid on z axes, with a title, on a 1920 × 1080 picture; made when you click.")


grid_and_cell()
with link_slot:
    us.copy_link(schema, {**view, "z1": st.session_state["grid_z1"], "z2": st.session_state["grid_z2"]})
