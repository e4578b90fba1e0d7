"""A gallery of digits as one HTML block (st.html): cells that wrap to the page's width, each a few pictures side by
side -- a digit and its reconstruction -- over a short caption.

One element with the 28x28 pictures inline (data URIs, 0.4 KB for a test digit; the browser upscales them crisply
with styles.CRISP_CSS) and real text: less of the server's time than st.image on each picture at display size, and
no media request per picture from the browser; one composed picture would scale its drawn-in text with the column,
and CRISP_CSS would make that text jagged."""
from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from explorer.render.digit_images import data_uri

CELL = "display:flex;flex-direction:column;align-items:center;margin:0"
CAPTION = "font-size:0.85rem;line-height:1.25;text-align:center;color:#31333f;margin-top:2px"


def gallery_html(cells: Sequence[tuple[Sequence[np.ndarray], str]], px: int = 72, side: int = 28) -> str:
    """cells: (pictures, caption) each; a picture is one digit in [0, 1] (side*side, flat or square), shown px x px;
    the caption's lines ("\\n") are centred under the pictures."""
    figures = []
    for pictures, caption in cells:
        images = "".join(f'<img src="{data_uri(np.asarray(p).reshape(side, side))}" width="{px}" height="{px}" '
                         f'style="margin:0 1px" alt="">' for p in pictures)
        text = "<br>".join(html.escape(line) for line in caption.split("\n"))
        figures.append(f'<figure style="{CELL}"><div style="display:flex">{images}</div>'
                       f'<figcaption style="{CAPTION}">{text}</figcaption></figure>')
    return f'<div style="display:flex;flex-wrap:wrap;gap:12px 14px">{"".join(figures)}</div>'
