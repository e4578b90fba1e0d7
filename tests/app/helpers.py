"""What the AppTest tests share: reading what a page showed (image captions, Plotly figures as st.plotly_chart sends
them) and stopping a training a test started."""
from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest


def captions(at: AppTest) -> list[str]:
    """Every caption of every st.image of the run, in page order."""
    return [c for img in at.get("image") for c in img.captions]


def figures(at: AppTest) -> list[dict]:
    """The run's Plotly figures as JSON (AppTest's proto.spec), in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(value, dtype=None) -> np.ndarray:
    """A figure array as JSON holds it: a list, or plotly's typed-array dict {"dtype", "bdata"[, "shape"]}; as
    `dtype` if given (float turns a list's gaps, None, into NaN)."""
    if isinstance(value, dict):
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        a = a.reshape([int(n) for n in str(value["shape"]).split(",")]) if "shape" in value else a
        return a if dtype is None else a.astype(dtype)
    return np.asarray(value, dtype=dtype)


def stop(job, timeout: float = 120) -> None:
    """Cancel the job's training, if one runs, and check that it has ended: a training left running would change
    what the next test's sidebar shows (one training at a time per process)."""
    job.cancel(job.snapshot().job_id)
    status = job.wait(timeout=timeout)
    assert not status.active, f"the training {status.name!r} is still {status.state} after {timeout:.0f} s"
