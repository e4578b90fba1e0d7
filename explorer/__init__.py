"""The Streamlit side of the explorer (vae_core is the engine): which model a session shows (model_files,
model_choice), the cached computations the pages read (cache), the page guards, the shared sidebar (model_picker,
training_panel, training_form, training_job), the figures and digit pictures, and the server's start-up work
(warmup, heap, deep_link). Pages import from here; nothing here is a page."""
