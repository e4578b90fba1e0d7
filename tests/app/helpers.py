"""What the AppTest tests share: reading what a page showed (image captions, Plotly figures as st.plotly_chart sends
them), a page's run without MNIST, and stopping a training a test started."""
from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import numpy as np
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.training.panel import TRAIN_OPEN


def captions(at: AppTest) -> list[str]:
    """Every caption of every st.image of the run, in page order."""
    return [c for img in at.get("image") for c in img.captions]


class _Strip(HTMLParser):
    """The cells of explorer.render.gallery.digit_strip_html blocks: [(picture URI, caption or "")]."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[list[str]] = []
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.cells.append([dict(attrs)["src"], ""])
        self._in_caption = tag == "figcaption"

    def handle_endtag(self, tag):
        self._in_caption = self._in_caption and tag != "figcaption"

    def handle_data(self, data):
        if self._in_caption:
            self.cells[-1][1] += data


def strip_cells(at: AppTest) -> list[tuple[str, str]]:
    """Every digit of every row of digits (digit_strip_html) of the run, in page order: (picture URI, caption)."""
    parser = _Strip()
    for block in at.get("html"):
        if 'class="digit-strip"' in block.proto.body:
            parser.feed(block.proto.body)
    return [tuple(cell) for cell in parser.cells]


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


def run_without_mnist(page: str) -> AppTest:
    """The page run once where VAE_DATA_DIR holds no MNIST (the no_mnist fixture): it must raise nothing and show an
    error naming the variable and the download command. Returns the run, for what the page must not show."""
    at = AppTest.from_file(page, default_timeout=60).run()
    assert not at.exception, at.exception
    message = " ".join(e.value for e in at.error)
    assert vc.DATA_ENV in message and vc.DOWNLOAD_COMMAND in message, message
    return at


def stop(job, timeout: float = 120) -> None:
    """Cancel the job's training, if one runs, and check that it has ended: a training left running would change
    what the next test's sidebar shows (one training at a time per process)."""
    job.cancel(job.snapshot().job_id)
    status = job.wait(timeout=timeout)
    assert not status.active, f"the training {status.name!r} is still {status.state} after {timeout:.0f} s"


def open_training_form(at: AppTest) -> AppTest:
    """Open the sidebar's "Train a new model" expander, whose form is built only while it is open, and rerun."""
    at.session_state[TRAIN_OPEN] = True
    return at.run()


def send_selection(at: AppTest, key: str, value: dict) -> AppTest:
    """Rerun with `value` as the selection of the Plotly chart keyed `key`, sent as a client sends it (a JSON string
    as the chart's widget state), so its on_select callback runs: AppTest itself cannot click or lasso a chart."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]  # the id ends with the key
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=chart.proto.id, string_value=json.dumps(value)))
    return at._run(states)
