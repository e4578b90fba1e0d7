"""From a digit the Draw page has checked and encoded to a class-map Drawing: its scores, the class its 5 nearest test
digits vote for, whether it waits for the presenter -- and, for the map, each drawing's pictures, made once per
server. A per-browser random id for the rate limit and "you are here", never anything that identifies a student."""
from __future__ import annotations

import hashlib
import threading

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.cache.anomaly_scores import IWAE_K, anomaly_complexity, test_scores_ready
from explorer.classmap.store import MAX_ID_CHARS, SIDE, Drawing
from explorer.model.link import model_name
from explorer.render.digit_images import data_uri
from explorer.room.roles import session_id

HOLD_PERCENTILE = 99  # the Anomalies page's default threshold (pages/anomalies.py FLAG_PERCENTILE): 1% of test digits
XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit's own per-browser cookie: its token stays while the browser keeps it
MAX_PICTURES = 10_000  # drawings' pictures kept per server (a room holds at most 2,000 per model)


def student_id() -> str:
    """A random id for this browser: a hash of the secret token in Streamlit's XSRF cookie (the same across reloads
    and tabs of one browser, so a reload does not reset the rate limit), else this session's random id."""
    try:
        raw = st.context.cookies.get(XSRF_COOKIE)
        from streamlit.web.server.starlette import starlette_app_utils

        token, _ = starlette_app_utils.decode_xsrf_token_string(raw) if raw else (None, None)
    except Exception:  # noqa: BLE001 -- no cookie, another Streamlit: the session's id does
        token = None
    if token:
        return "b" + hashlib.sha256(b"vae-classmap:" + token).hexdigest()[:31]
    return "s" + session_id()[:31]


def predicted_class(nearest: np.ndarray, labels: np.ndarray) -> int:
    """The label most of the nearest test digits carry; a tie goes to the label of the nearest one among the tied."""
    votes = labels[np.asarray(nearest)]
    counts = np.bincount(votes, minlength=10)
    tied = set(np.flatnonzero(counts == counts.max()).tolist())
    return int(next(v for v in votes if int(v) in tied))


def hold_threshold(key, hold_above: float | None) -> float | None:
    """Corrected score above which a drawing waits for the presenter: the setting, else the Anomalies page's default
    (the 99th percentile of the test digits' corrected scores) once this server has scored them -- None until then,
    and every drawing waits (nothing unreviewed reaches the projector)."""
    if hold_above is not None:
        return hold_above
    if not test_scores_ready(key):
        return None
    return float(np.percentile(cache.test_scores(key)["corrected"], HOLD_PERCENTILE))


@st.cache_data(show_spinner=False, max_entries=256)
def _scores(key, levels: int, weight: float, image: np.ndarray) -> tuple[float, float]:
    s = vc.anomaly_scores(cache.load_model(key).model, image.reshape(1, -1), IWAE_K, vc.Complexity(levels, weight))
    return float(s["corrected"][0]), float(s["neg_elbo"][0])


def make_drawing(key, x: np.ndarray, seen: dict, hold_above: float | None) -> Drawing:
    """The class map's record of a checked digit x (784,) in [0, 1] that cache.drawn_digit encoded to `seen`."""
    c = anomaly_complexity(key)
    corrected, neg_elbo = _scores(key, c.levels, c.weight, np.asarray(x, dtype=np.float32))
    threshold = hold_threshold(key, hold_above)
    state = "shown" if threshold is not None and corrected <= threshold else "held"
    pixels = (np.clip(np.asarray(x, dtype=np.float32).reshape(SIDE, SIDE), 0, 1) * 255).round().astype(np.uint8)
    return Drawing(pixels.tobytes(), (float(seen["mu"][0]), float(seen["mu"][1])), corrected, neg_elbo,
                   predicted_class(seen["nearest"], cache.mnist("test")[1]), state, student_id(),
                   map_model(key))


def map_model(key) -> str:
    """The model's name as the class map keeps it (drawings are shown on the map of the model that encoded them)."""
    return model_name(key.path)[:MAX_ID_CHARS]


class _Pictures:
    """(drawing URI, reconstruction URI) by (model, drawing id): made once per server, whoever asks first."""

    def __init__(self):
        self.lock, self.made = threading.Lock(), {}

    def get(self, key, drawings: list[Drawing]) -> dict[int, tuple[str, str]]:
        name = map_model(key)
        missing = [d for d in drawings if (name, d.id) not in self.made]
        if missing:
            drawn = np.stack([d.image().reshape(-1) / 255.0 for d in missing]).astype(np.float32)
            recons = vc.decode(cache.load_model(key).model, np.array([d.z for d in missing], dtype=np.float32),
                               like=drawn)  # a deskewing model's slanted back like each drawing
            made = {(name, d.id): (data_uri(x.reshape(SIDE, SIDE)), data_uri(np.asarray(r).reshape(SIDE, SIDE)))
                    for d, x, r in zip(missing, drawn, recons, strict=True)}
            with self.lock:
                if len(self.made) + len(made) > MAX_PICTURES:
                    self.made.clear()
                self.made.update(made)
        return {d.id: self.made.get((name, d.id)) or ("", "") for d in drawings}


@st.cache_resource(show_spinner=False)
def pictures() -> _Pictures:
    return _Pictures()
