"""A page's second chart drawn after its first: the browser says when the first is on screen.

A first view of /latent_map sends both 10k-point maps at once, and the browser draws them one after the other in one
task before it paints either: the PCA map then holds back the VAE map, the page's main picture, by its whole draw
(docs/performance.md, First view). A page that draws its second chart after the first has drawn is as quick to its
first picture as a page with one chart.

`after_first_chart(key, on_drawn)` mounts a small script (a Streamlit v2 component, no iframe) that waits until the
page's first Plotly chart has been drawn and painted (at most LIMIT_MS), then sends one trigger: `on_drawn` runs and
the page reruns (mounted outside any fragment), this time drawing the second chart. `scripts_run()` says whether the
client is a browser at all: a client that runs no scripts (AppTest, a protocol-level client) would never send the
trigger, so a page draws everything at once for it."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

LIMIT_MS = 4000  # a first chart not drawn by then (no WebGL, a slow phone) does not hold the second back any longer

_JS = """
export default function ({ setTriggerValue }) {
  const started = performance.now();
  let done = false;
  const send = () => { if (!done) { done = true; setTriggerValue("drawn", true); } };
  const drawn = () => {
    const chart = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    return chart && chart._fullLayout && chart.querySelector("canvas");
  };
  const wait = () => {
    if (done) return;
    if (drawn() || performance.now() - started > %d) {
      requestAnimationFrame(() => requestAnimationFrame(send));  // after the frame that shows the first chart
    } else {
      setTimeout(wait, 40);
    }
  };
  wait();
  return () => { done = true; };
}
""" % LIMIT_MS

_component = st.components.v2.component("vae_after_first_chart", js=_JS)


def scripts_run() -> bool:
    """Whether this session's client is a browser (its request named one), which runs the component's script."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # noqa: BLE001 -- no request context (a bare script run): no browser
        return False
    return agent.startswith("Mozilla/")


def after_first_chart(key: str, on_drawn: Callable[[], None]) -> None:
    """Mount the waiting script; `on_drawn` runs once the page's first chart is on screen, then its fragment reruns."""
    _component(key=key, on_drawn_change=on_drawn)
