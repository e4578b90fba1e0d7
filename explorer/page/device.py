"""Whether the browser of this session is a phone, and the heights its figures get there.

The server does not know a browser's width: CSS (explorer.render.styles.PHONE_CSS) rearranges the page for a narrow
screen, but cannot reshape a Plotly figure, whose height and subplots are fixed where it is built. The user agent is
the one hint the server has: every mobile browser puts "Mobi" in it (MDN's advice for telling phones apart), tablets
and desktops do not, and a figure built for a phone is cached as one more view, shared by every phone."""
from __future__ import annotations

import streamlit as st

# An equal-aspect map on a ~360-px-wide phone: its square plot, the title and a two-row legend. A desktop's 560-640 px
# leave a band of white under the plot there (docs/performance.md, Phones).
PHONE_MAP_HEIGHT = 470


def on_phone() -> bool:
    """True when this session's browser says it is a mobile one; False without a browser (a test's AppTest, a script)."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except (AttributeError, RuntimeError):  # no session context
        return False
    return "Mobi" in agent


def map_height(height: int, phone: bool | None = None) -> int:
    """A map's height in px: `height` on a desktop or projector, at most PHONE_MAP_HEIGHT on a phone (`phone`: this
    session's browser when None)."""
    return min(height, PHONE_MAP_HEIGHT) if (on_phone() if phone is None else phone) else height
