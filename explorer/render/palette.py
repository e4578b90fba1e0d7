"""The colours every page uses (the digits' are the engine's, vae_core.palette), and a small key to them for the
sidebar. Imports only Plotly and that torch-free module, so navigation.py can draw the key before it imports torch."""
from __future__ import annotations

import functools

import plotly.graph_objects as go

from vae_core.palette import DIGIT_COLOURS

# Anomaly scores on a map: reversed Viridis, so the most anomalous digits are the darkest and stand out on the white
# plot as well as on the light mass of typical ones (perceptually uniform, readable in grey and by the colour-blind)
SCORE_COLOURSCALE = "Viridis_r"
FLAGGED = DIGIT_COLOURS[3]  # histogram bars above the threshold: the palette's red, "flagged"


@functools.cache
def colour_key_figure() -> go.Figure:
    """The ten digits in a row, each a dot of its colour with the digit on it. Built once per process (building it
    cost ~6 ms of every page run) and shared by every session: never modify it."""
    fig = go.Figure(go.Scatter(
        x=list(range(10)), y=[0] * 10, mode="markers+text", text=[str(d) for d in range(10)],
        marker=dict(size=26, color=list(DIGIT_COLOURS)), textfont=dict(size=15, color="white"), hoverinfo="skip",
    ))
    fig.update_layout(height=44, margin=dict(l=4, r=4, t=4, b=4), showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, range=[-0.6, 9.6], fixedrange=True)
    fig.update_yaxes(visible=False, fixedrange=True)
    return fig
