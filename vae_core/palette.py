"""The ten digit colours, one fixed qualitative palette (matplotlib's "tab10", Plotly's D3): digit d is always
DIGIT_COLOURS[d], in the app's figures and in the engine's slides and GIFs. No imports: the app draws its colour key
from it before torch is imported."""

DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
