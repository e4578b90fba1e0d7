"""VAE Latent Explorer: `streamlit run app.py`.

Serves navigation.py (the navigation over pages/, the shared sidebar) as a Streamlit app whose lifespan starts warming the
default model's caches in the background the moment the server starts (explorer/warmup.py), instead of on the
first page request. `streamlit run navigation.py` also works, without the warm-up."""
import streamlit as st

from explorer.warmup import lifespan

app = st.App("navigation.py", lifespan=lifespan)
