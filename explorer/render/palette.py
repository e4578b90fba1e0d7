"""The colours every page uses (the digits' are the engine's, vae_core.palette), and a small key to them for the
sidebar. Imports only that torch-free module, so navigation.py can draw the key before it imports torch."""
from __future__ import annotations

import functools

from vae_core.palette import DIGIT_COLOURS

# Anomaly scores on a map: reversed Viridis, so the most anomalous digits are the darkest and stand out on the white
# plot as well as on the light mass of typical ones (perceptually uniform, readable in grey and by the colour-blind)
SCORE_COLOURSCALE = "Viridis_r"
FLAGGED = DIGIT_COLOURS[3]  # histogram bars above the threshold: the palette's red, "flagged"


@functools.cache
def colour_key_html() -> str:
    """The ten digits in a row, each a dot of its colour with the digit on it, as HTML for st.html: the browser lays
    it out with the page's text, where a Plotly chart here would be one more chart to draw before the page's own."""
    dot = ("display:inline-flex;align-items:center;justify-content:center;width:23px;height:23px;"
           "border-radius:50%;color:#fff;font-size:14px;font-weight:600;line-height:1")
    dots = "".join(f'<span style="{dot};background:{colour}">{digit}</span>'
                   for digit, colour in enumerate(DIGIT_COLOURS))
    return f'<div data-testid="digit-colour-key" style="display:flex;flex-wrap:wrap;gap:3px">{dots}</div>'
