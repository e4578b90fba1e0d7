"""Class map: every drawing the room sent from the Draw page, as a star on the latent map over the 10,000 test digits,
live. The presenter moderates (drawings that do not look like digits wait), opens and closes sending, shows the map
to the students, clears it, and exports it; a student sees it read-only once the presenter shows it."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

from explorer import cache
from explorer.cache import anomaly_scores, jobs
from explorer.classmap import render as cr
from explorer.classmap.board import UNAVAILABLE, Snapshot, board
from explorer.classmap.drawing import hold_threshold, map_model, pictures, student_id
from explorer.classmap.store import ClassMapUnavailable
from explorer.page import job_progress
from explorer.page.device import map_height
from explorer.page.guards import need_mnist, page_model
from explorer.page.page_run import stop_page
from explorer.render.figures import label_counts_figure
from explorer.render.gallery import gallery_html
from explorer.room import session_pace
from explorer.room.roles import is_presenter

LIVE_S = {True: 1.0, False: 2.0}  # how often the presenter's map and a student's look for new drawings
QUEUE = 12  # waiting drawings shown at once
MAP_HEIGHT = 700
PROBLEM = "problem"  # session state: why the presenter's last action failed
# The map and the layers of stars stacked in one grid cell: the 10k-point backdrop is the same figure every run (not
# sent again); only the layers change. The layers let the pointer through to the map except on a star. Streamlit
# wraps the stars' fragment in a block of its own, which lays its elements out one under the other: the layers sit in
# a grid container of their own (classmap_stars), so a student's own layer lies over the shared one, not under it.
MAP_CSS = """<style>
.st-key-classmap_map, .st-key-classmap_stars { display: grid !important; grid-template-columns: minmax(0, 1fr); }
.st-key-classmap_map > div, .st-key-classmap_stars > div { grid-area: 1 / 1; width: 100%; }
.st-key-classmap_map > div:not(:first-child) { pointer-events: none; z-index: 1; }
</style>"""

st.title("Class map")
key, ckpt = page_model()
test_x, test_y = need_mnist("test")
presenter = is_presenter()
map_px = map_height(MAP_HEIGHT)  # this browser's map: lower on a phone
b = board()
model = map_model(key)


def _act(work) -> None:
    """A presenter's action on the store; a failing database is told, not raised."""
    try:
        work()
        st.session_state.pop(PROBLEM, None)
    except ClassMapUnavailable as e:
        st.session_state[PROBLEM] = str(e)


def _on_model(snap: Snapshot, state: str | None = None) -> list:
    return [d for d in snap.drawings.values() if d.model == model and (state is None or d.state == state)]


@st.cache_data(show_spinner=False, max_entries=8)
def _layer(_snap: Snapshot, version: tuple[int, int], model_name: str, thumbnails: bool, height: int) -> str:
    """The shown drawings' layer for one version (board, version) of the copy over the map of this height: built once,
    the same for every session whose map has that height (a phone's map is lower than a desktop's, so its stars sit
    elsewhere in the layer)."""
    shown = [d for d in _snap.drawings.values() if d.model == model_name and d.state == "shown"]
    return cr.star_marks(_backdrop(height).layout, shown, pictures().get(key, shown), thumbnails)


def _backdrop(height: int):
    return cache.latent_backdrop(key, "Drawings over the test digits", height=height)


if presenter:
    st.caption("Students send their digits from the **Draw a digit** page. Each accepted drawing is a star here "
               "(hover for the drawing, click for its reconstruction). A drawing whose corrected anomaly score is "
               "above the Anomalies page's threshold waits below until you approve it.")
    status = b.refresh().status
    c = st.columns([1.2, 1.4, 1.2, 1.4, 1.6], vertical_alignment="center")
    c[0].button("Close sending" if status.open else "Open sending", key="classmap_open",
                icon=":material/block:" if status.open else ":material/play_arrow:",
                on_click=_act, args=(lambda o=not status.open: b.set_flags(open=o),))
    c[1].button("Hide it from students" if status.revealed else "Show it to students", key="classmap_reveal",
                icon=":material/visibility_off:" if status.revealed else ":material/visibility:",
                on_click=_act, args=(lambda r=not status.revealed: b.set_flags(revealed=r),))
    thumbnails = c[2].toggle("Show drawings", key="classmap_thumbnails",
                             help="Each drawing as its own 28×28 picture on the map, framed in the colour of the class "
                                  "it looks like, instead of a star.")
    with c[3].popover("Clear the map…", icon=":material/delete:"):
        st.warning("This removes every drawing, for good.")
        st.button("Yes, remove them all", key="classmap_clear", type="primary", on_click=_act, args=(b.clear,))
    with c[4]:
        st.download_button("Slide (PNG)", lambda: cr.slide_png(
            cache.test_latents(key)[0], test_y, _on_model(b.snapshot, "shown"), f"The class's drawings · {model}"),
            file_name="class_map_slide.png", mime="image/png", key="classmap_png", on_click="ignore",
            icon=":material/slideshow:", help="1920 × 1080: the map with every shown drawing on it.")
        st.download_button("Table (CSV)", lambda: cr.csv_text(list(b.snapshot.drawings.values())),
                           file_name="class_map.csv", mime="text/csv", key="classmap_csv", on_click="ignore",
                           icon=":material/table:", help="One row per drawing: time, z, predicted class, scores, "
                                                        "state. Nothing about who sent it.")
    if st.session_state.get(PROBLEM):
        st.error(f"That did not work: {st.session_state[PROBLEM]}.", icon=":material/database:")
else:
    thumbnails = False
    st.caption("The drawings the room sent, on the latent map among the 10,000 test digits. Yours are the larger, "
               "red stars. Send one from the **Draw a digit** page.")


@session_pace.fragment(run_every=LIVE_S[presenter])
def wait_for_reveal() -> None:
    """A student's page before the presenter shows the map: polls, and draws the page anew once it is shown."""
    snap = b.refresh()
    if snap.status.revealed:
        st.rerun(scope="app")
    st.info(UNAVAILABLE if snap.problem else "The presenter has not shown the class map yet. It appears here when "
            "they do.", icon=":material/hourglass_empty:")


@session_pace.fragment(run_every=LIVE_S[presenter])
def stars() -> None:
    """The layers of stars over the map (the shared one; a student's own): polled. The map under them is drawn by the
    page, once, not at every poll (its 10k points cost tens of ms to serialise, for each watching phone)."""
    snap = b.refresh()
    if not presenter and not snap.status.revealed:
        st.rerun(scope="app")  # the presenter hid it again
    with st.container(key="classmap_stars"):
        st.html(_layer(snap, (id(b), snap.version), model, thumbnails, map_px))
        if not presenter:
            me = student_id()
            mine = [d for d in _on_model(snap) if d.student == me and d.state != "hidden"]
            st.html(cr.star_marks(_backdrop(map_px).layout, mine, pictures().get(key, mine), mine=True))


@session_pace.fragment(run_every=LIVE_S[presenter])
def numbers() -> None:
    """The count, the classes and the most unusual drawings (and, for the presenter, why the database fails)."""
    snap = b.refresh()
    if snap.problem:
        if presenter:
            st.error(f"**The class map's database is not usable:** {snap.problem}. Students are told the class map "
                     "is not taking drawings; what is shown is what was stored before.", icon=":material/database:")
        else:
            st.info(UNAVAILABLE, icon=":material/info:")
    shown, held = _on_model(snap, "shown"), _on_model(snap, "held")
    counts = f"**{len(shown)}** drawing{'s' if len(shown) != 1 else ''} on the map"
    if presenter:
        counts += f" · {len(held)} waiting · {len(_on_model(snap, 'hidden'))} hidden"
        others = len(snap.drawings) - len(_on_model(snap))
        counts += f" · {others} made with other models (not shown)" if others else ""
        counts += "" if snap.status.open else " · **sending is closed**"
    st.markdown(counts, help="Updated every second or two, for everyone at once.")
    st.markdown("**What they look like** (5 nearest test digits vote)")
    st.plotly_chart(label_counts_figure(np.array([d.predicted for d in shown], dtype=np.int64), height=260),
                    key="classmap_classes", config={"displayModeBar": False, "staticPlot": True})
    if presenter and shown:
        st.markdown("**The five most unusual** (corrected score)")
        st.html(gallery_html([([d.image() / 255.0], f"#{d.id} · {d.corrected:.0f} nats")
                              for d in cr.most_unusual(shown)], px=64))


if not presenter and not b.refresh().status.revealed:
    wait_for_reveal()
    stop_page()
left, right = st.columns([2.6, 1], gap="medium")
with left:
    st.html(cr.CSS + MAP_CSS)
    with st.container(key="classmap_map"):
        st.plotly_chart(_backdrop(map_px), key="classmap_backdrop", config={"displayModeBar": False})
        stars()
with right:
    numbers()


@session_pace.fragment(run_every=2.0)
def moderation() -> None:
    """The queue of waiting drawings with Approve / Hide, and the drawings on the map to hide or show again."""
    snap = b.refresh()
    held = sorted(_on_model(snap, "held"), key=lambda d: d.id)
    threshold = hold_threshold(key, b.settings.hold_above)
    st.subheader(f"Waiting for you: {len(held)}")
    st.caption("Drawings whose corrected anomaly score is above "
               + (f"**{threshold:.0f} nats** (the Anomalies page's threshold)" if threshold is not None else
                  "the Anomalies page's threshold -- not known until this server has scored the test digits "
                  "(open the Anomalies page), so every drawing waits")
               + ". They reach the map only when you approve them.")
    if threshold is None:
        score_test_digits()
    else:
        approve_under(threshold, [d for d in held if d.corrected <= threshold])
    for d in held[:QUEUE]:
        cols = st.columns([0.6, 2, 1, 1], vertical_alignment="center")
        cols[0].html(gallery_html([([d.image() / 255.0], f"#{d.id}")], px=56))
        cols[1].markdown(f"looks like a **{d.predicted}** · corrected **{d.corrected:.0f}** nats · "
                         f"−ELBO {d.neg_elbo:.0f}")
        cols[2].button("Approve", key=f"classmap_approve_{d.id}", icon=":material/check:",
                       on_click=_act, args=(lambda i=d.id: b.set_state(i, "shown"),))
        cols[3].button("Hide", key=f"classmap_hide_{d.id}", icon=":material/visibility_off:",
                       on_click=_act, args=(lambda i=d.id: b.set_state(i, "hidden"),))
    if len(held) > QUEUE:
        st.caption(f"…and {len(held) - QUEUE} more after these.")
    shown = sorted(_on_model(snap, "shown"), key=lambda d: -d.id)
    hidden = sorted(_on_model(snap, "hidden"), key=lambda d: -d.id)
    with st.expander(f"Hide a drawing from the map ({len(shown)} shown, {len(hidden)} hidden)"):
        for d in shown[:QUEUE] + hidden[:QUEUE]:
            cols = st.columns([0.6, 2, 1], vertical_alignment="center")
            cols[0].html(gallery_html([([d.image() / 255.0], f"#{d.id}")], px=40))
            cols[1].markdown(f"{d.state} · looks like a **{d.predicted}** · corrected {d.corrected:.0f} nats")
            target = "hidden" if d.state == "shown" else "shown"
            cols[2].button("Hide" if target == "hidden" else "Show again", key=f"classmap_toggle_{d.id}",
                           on_click=_act, args=(lambda i=d.id, t=target: b.set_state(i, t),))


def score_test_digits() -> None:
    """A button that starts the shared scoring of the test digits, which sets the threshold; its progress once
    started (the fragment reruns every 2 s)."""
    specs = anomaly_scores.needed(key, ("test",))
    running = [job for job in (jobs.find(job_key) for job_key, _, _ in specs) if job and job.state != jobs.FAILED]
    if running:
        st.progress(*job_progress.status(running[-1]))
    elif specs:
        st.button("Score the test digits now, to know the threshold", key="classmap_score_tests",
                  icon=":material/calculate:", on_click=lambda: [jobs.submit(*spec) for spec in specs])


def approve_under(threshold: float, below: list) -> None:
    """One click for the drawings that waited only because the threshold was not known yet when they came."""
    if below:
        st.button(f"Approve the {len(below)} waiting at or under {threshold:.0f} nats", key="classmap_approve_under",
                  icon=":material/done_all:",
                  on_click=_act, args=(lambda: [b.set_state(d.id, "shown") for d in below],))


if presenter:
    moderation()
