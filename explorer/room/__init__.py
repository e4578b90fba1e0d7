"""Room mode: the presenter's and the audience's roles (roles), the presenter's sidebar panel with the audience link
and QR code (panel), and the `vae-explorer` / `vae-explorer room` command (launcher)."""
