"""What every page shares: the guards that open a page (guards), its view in the address bar (url_state), messages
made safe to show (public_text), the anomaly scores' names (score_labels), the session keys pages hand each
other (session_keys) and whether the browser is a phone (device)."""
