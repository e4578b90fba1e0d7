"""Reading a Plotly figure as st.plotly_chart sends it (AppTest's proto.spec): arrays arrive as lists or as Plotly's
typed arrays."""
from __future__ import annotations

import base64

import numpy as np


def array(value) -> np.ndarray:
    """A figure array as JSON holds it: a list, or plotly's typed-array dict {"dtype", "bdata"[, "shape"]}."""
    if isinstance(value, dict):
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return a.reshape([int(n) for n in str(value["shape"]).split(",")]) if "shape" in value else a
    return np.asarray(value)
