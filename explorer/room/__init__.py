"""Room mode: the presenter's and the audience's roles (roles), each audience session's CPU budget (session_pace), the
presenter's sidebar panel with the audience link and QR code (panel), the `vae-explorer` / `vae-explorer room`
command (launcher), and for a room of several workers the supervision of their processes (workers) and the Caddy
proxy in front of them (proxy)."""
