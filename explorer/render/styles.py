"""Page-wide styles navigation.py injects once for every page. Imports nothing heavy: it is used before torch is."""

# Browsers smooth images they rescale; this keeps digit pixels square on a projector.
CRISP_CSS = "<style>img, .js-plotly-plot image { image-rendering: pixelated; }</style>"
