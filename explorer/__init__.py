"""Streamlit-side helpers for the app (caching, checkpoint selection, shared widgets). Pages import from here."""
