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
from explorer.render.styles import STRIP_CLASS

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


def digit_strip_html(pictures: Sequence[str], captions: Sequence[str | None]) -> str:
    """One row of digits as one HTML block: `pictures` (image URIs) in a grid of as many columns as pictures, each
    as wide as its column, its caption (None: none) under it; on a phone, rows of styles.STRIP_PHONE_COLUMNS
    (styles.PHONE_CSS). As st.columns with an st.image each, a phone stacked the columns and showed every digit at the
    screen's full width, one under the other."""
    cells = "".join(
        f'<figure style="{CELL}"><img src="{html.escape(uri, quote=True)}" alt="" '
        f'style="width:100%;height:auto;aspect-ratio:1">'
        + (f'<figcaption style="{CAPTION}">{html.escape(caption)}</figcaption>' if caption else "")
        + "</figure>" for uri, caption in zip(pictures, captions, strict=True))
    return (f'<div class="{STRIP_CLASS}" style="display:grid;gap:8px;'
            f'grid-template-columns:repeat({max(1, len(pictures))},minmax(0,1fr))">{cells}</div>')
