"""The floor of a first view (bench/first_view.py): a bare Streamlit page that draws one 10k-point WebGL scatter and
nothing else -- no sidebar, no model, no torch. The latent map's first view is compared with this page's.

Run: streamlit run bench/floor_page.py"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

points = np.random.default_rng(0).normal(size=(10_000, 2)).astype(np.float32)
st.title("Floor: one 10k-point scatter")
st.plotly_chart(go.Figure(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", marker=dict(size=4)),
                          layout=dict(height=620)), key="floor_scatter")
