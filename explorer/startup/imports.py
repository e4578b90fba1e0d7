"""Import the app's heavy modules (torch, the model code, Plotly's figures, scikit-learn-free helpers) once per
process, one thread at a time.

Every session runs its script in its own thread, and the warm-up imports in another. When a room connects to a
fresh server at once, threads import torch and numpy at the same moment, and CPython's per-module import locks break
the deadlock between them by handing some threads a half-initialised module: "partially initialized module 'numpy'
has no attribute 'ndarray' (most likely due to a circular import)". One lock around one import of everything makes
the first caller import and the others wait, then find every module in sys.modules."""
from __future__ import annotations

import importlib
import threading

MODULES = ("torch", "vae_core", "explorer.cache", "explorer.startup.gc_freeze", "explorer.shell.sidebar",
           "explorer.render.figures", "explorer.render.clicks", "explorer.render.digit_images", "explorer.page.guards",
           "explorer.render.grid_geometry",
           "streamlit.emojis")  # compiles a regex of every emoji, else at a page's first st.info, st.error...
_LOCK = threading.Lock()
_done = False


def import_app_modules() -> None:
    """Import MODULES unless done already; concurrent callers wait for the first."""
    global _done
    if _done:
        return
    with _LOCK:
        if not _done:
            for name in MODULES:
                importlib.import_module(name)
            _done = True


def import_training_modules() -> None:
    """What the first training imports lazily: constructing torch.optim.Adam pulls in ~900 modules (torch._dynamo,
    sympy, ...). Done by the server's lifespan, under the same lock, after the warm-up and before the server answers --
    so a training started later imports nothing, and the lifespan's gc.freeze() covers those modules too."""
    with _LOCK:
        import torch

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
