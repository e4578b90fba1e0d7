"""VAE Latent Explorer: `streamlit run app.py`.

Serves navigation.py (the navigation over pages/, the shared sidebar) as a Streamlit app whose lifespan warms the default
model's caches before the server answers (explorer/startup/warmup.py), instead of on the first page request.
`streamlit run navigation.py` also works, without the warm-up. In room mode the server also turns a presenter link
into a cookie before any page loads (explorer/room/presenter_link.py) and ignores the protocol's
owner-only messages, such as clearing every cache (explorer/startup/owner_messages.py). Every page's HTML tells the
browser where the server is, so a page link (/latent_map) connects at its first try, and has it fetch Plotly's chart
code at once (explorer/startup/page_head.py) and say when its first chart is drawn, so that a first view sends the
rest of the page after its picture (explorer/startup/first_draw.py); a fresh server's first request for a page link
runs navigation.py at once (explorer/startup/deep_link.py)."""
import numpy  # noqa: F401 -- imported here, before the server takes sessions: see below
import pandas  # noqa: F401 -- likewise
import plotly.graph_objects as go
import streamlit as st
from starlette.middleware import Middleware

from explorer.room.presenter_link import PresenterLink
from explorer.startup import first_draw, owner_messages
from explorer.startup.deep_link import declare_navigation
from explorer.startup.page_head import PageHead
from explorer.startup.warmup import lifespan

# numpy, pandas and Plotly are imported once, in this one thread, before any session runs. Imported later by many session
# threads and the warm-up at once (a room opening the link together), CPython's per-module locks can hand some threads
# a half-initialised numpy or pandas ("partially initialized module" errors in navigation.py, which runs before
# explorer/startup/imports.py's lock; Plotly and the Draw page's canvas reach for pandas).
go.Figure(go.Scatter(x=[0], y=[0]))  # loads Plotly's lazily imported figure and validator classes, likewise
owner_messages.install()  # in the server's process, before any session: room mode ignores clear_cache & co.
declare_navigation()  # likewise: a first request for /latent_map runs navigation.py, not the page file alone

app = st.App("navigation.py", lifespan=lifespan, routes=[first_draw.route()],
             middleware=[Middleware(PresenterLink), Middleware(PageHead)])
