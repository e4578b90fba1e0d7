"""The class map: every student's drawing on one latent map. store.py keeps the drawings (SQLite or Redis, shared by
all workers); the rest is the Streamlit side: the shared live copy, the send panel, scoring, overlay and exports."""
