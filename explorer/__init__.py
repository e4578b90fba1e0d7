"""The Streamlit side of the explorer (vae_core is the engine). Pages import from here; nothing here is a page.

- cache/     every computation the pages show, cached per model and shared by all sessions
- model/     which model a session shows: files, the resolved key, the sidebar picker, the model in a link
- page/      what every page shares: guards, its view in the address bar, safe messages, score names
- render/    figures, colours, digit pictures, overlays and click reading; no Streamlit
- room/      room mode: presenter and audience roles, the presenter's panel, the `vae-explorer` command
- shell/     the frame around the pages: the sidebar and presentation mode
- startup/   a server's start-up: heavy imports, warm-up, the GC freeze, the deep-link rerun
- training/  training from the sidebar: the form, the one background job, the panel
"""
