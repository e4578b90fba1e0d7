"""Anomalies: how atypical the model finds each test digit, by five scores, and how well each score tells digits from
inputs that are not digits (noise, blank images, strokes, letters...), which plain likelihood gets wrong."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import math

import numpy as np
import pandas as pd
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.guards import need_mnist, page_model
from explorer.page.job_progress import await_all, may_score
from explorer.page.page_run import stop_page
from explorer.page.score_labels import PROBE_LABELS, SCORE_LABELS, SHORT_LABELS, score_explanation
from explorer.render.figures import roc_figure, score_histogram
from explorer.render.gallery import gallery_html
from explorer.room import session_pace

GALLERY = 20  # test digits in each of the two galleries
PROBE_GALLERY = 4  # most digit-like images shown per probe set: one row of a half-width column
FLAG_PERCENTILE = 99  # the threshold starts where it flags 1% of the test digits

link_slot = us.titled("Anomalies: what does the model find strange?")
st.caption("Every score below is in nats and higher means more anomalous. Pick a score, then see which test digits it "
           "finds most and least typical, and how well it tells digits from inputs that are not digits.")

key, ckpt = page_model(latent_2d=False)  # the scores need no 2-D latent space
test_x, test_y = need_mnist("test")
todo = cache.anomaly_scores.needed(key)
if cache.anomaly_scores.needs_fit(key):
    need_mnist("train")  # another model than the default fits its corrected score on training digits: say so, stop
# scored once per model for the whole server, in the background: every visitor sees the same progress bar
if not await_all(todo, may_score(key), "The anomaly scores of this model"):
    stop_page()
complexity = cache.anomaly_complexity(key)
side = ckpt.model_config.image_size

models = us.model_names()
linked = us.restore(us.anomalies_schema(models, vc.SCORES))  # the link's score (read once per session)
st.session_state.setdefault("anomalies_score", linked["score"])  # no default=: the state is the control's only source
score = st.segmented_control("Score", vc.SCORES, format_func=SCORE_LABELS.get, required=True, key="anomalies_score")
name = SCORE_LABELS[score]
st.markdown(score_explanation(score, complexity, cache.anomaly_scores.IWAE_K))
scores = cache.test_scores(key)
values = scores[score]
view = {"model": model_name(key.path), "score": score}  # the threshold: threshold_and_histogram's


def _threshold_field() -> us.Float:
    """The threshold slider as a link field: this score's range on a grid of about 1,000 round steps (so a value in
    the link is one the slider can take), starting where it flags 1% of the test digits."""
    step = _step(float(values.min()), float(values.max()))
    lo, hi = (round(f(float(v) / step) * step, 10) for f, v in ((math.floor, values.min()), (math.ceil, values.max())))
    start = min(hi, max(lo, round(float(np.percentile(values, FLAG_PERCENTILE)) / step) * step))
    return us.Float(lo, hi, start, step)


def _step(lo: float, hi: float) -> float:
    """A round slider step giving about 1,000 positions between lo and hi."""
    return 10.0 ** math.floor(math.log10(max(hi - lo, 1e-6) / 1000))


@session_pace.fragment
def threshold_and_histogram() -> None:
    """The threshold slider, the share it flags and the histogram: moving the slider reruns only this part."""
    field = _threshold_field()
    state_key = f"anomalies_threshold_{score}"
    if state_key not in st.session_state:  # this score's first view: the link's threshold if it is the link's score
        linked_threshold = us.restore(us.Schema("anomalies_threshold", {"threshold": field}))["threshold"]
        st.session_state[state_key] = linked_threshold if score == linked["score"] else field.default
    chart, controls = st.columns([3, 1], gap="large")
    with controls:
        threshold = us.stepped_slider(f"Flag test digits with {name} above", field,
                                      format="%.2f" if field.step < 0.1 else "%.1f", key=state_key,
                                      help=f"Starts at the {FLAG_PERCENTILE}th percentile: 1% of the test digits flagged.")
        flagged = values > threshold
        st.metric("Test digits flagged", f"{flagged.mean():.1%}",
                  help=f"{int(flagged.sum()):,} of the {len(values):,} test digits score above the threshold.")
        log_counts = st.toggle("Log count axis", key="anomalies_log_counts", help="Shows the thin tail of atypical "
                               "digits the threshold flags.")
    with chart:
        st.plotly_chart(score_histogram(values, threshold, name, log_counts=log_counts), key="anomalies_histogram",
                        config={"displayModeBar": False})
    # here: a moved threshold (this fragment's rerun) updates the link; after the view, as on the decoder grid
    us.publish(us.anomalies_schema(models, vc.SCORES, field), {**view, "threshold": threshold})


st.subheader(f"The {len(values):,} test digits by {name}")
threshold_and_histogram()
with link_slot:
    us.copy_link(us.anomalies_schema(models, vc.SCORES, _threshold_field()),
                 {**view, "threshold": st.session_state[f"anomalies_threshold_{score}"]})


def digit_cells(indices, reconstructions) -> list:
    return [((test_x[i], r), f"#{i} · label {test_y[i]}\n{name} {values[i]:.1f}")
            for i, r in zip(indices, reconstructions, strict=True)]


extremes = cache.extreme_digits(key, score, GALLERY)
for column, which, title in zip(st.columns(2, gap="large"), ("typical", "atypical"),
                                (f"The {GALLERY} most typical", f"The {GALLERY} most atypical"), strict=True):
    with column:
        st.markdown(f"**{title}** (lowest {name} first)" if which == "typical" else
                    f"**{title}** (highest {name} first)")
        st.caption("Each digit beside its reconstruction (decoded latent mean).")
        st.html(gallery_html(digit_cells(*extremes[which]), px=56, side=side))

st.subheader("Inputs that are not digits")
st.caption(f"{cache.anomaly_scores.N_PROBES:,} images per set, made by code (`vae_core.probes`, seed 0): noise, "
           "inverted and rotated test digits, nearly blank images, single strokes and dots, letters and symbols rendered "
           "with Pillow. "
           "AUROC of telling them from the test digits by each score: 1 = every probe scores above every digit, "
           "0.5 = chance, below 0.5 = the score finds the probes *more* typical than digits.")
aurocs = cache.probe_aurocs(key)
table = pd.DataFrame({SHORT_LABELS.get(s, SCORE_LABELS[s]): [aurocs[s][p] for p in aurocs[s]] for s in vc.SCORES},
                     index=[PROBE_LABELS.get(p, p) for p in aurocs[score]])
table.index.name = "probe set"
left, right = st.columns([1.15, 1], gap="large")
with left:
    st.dataframe(table, key="anomalies_auroc_table",
                 column_config={c: st.column_config.NumberColumn(c, format="%.3f") for c in table.columns})
    fitted_for = "the default model" if complexity == vc.Complexity() else "this model"
    st.caption(f"Corrected score: q = {complexity.levels}, w = {complexity.weight:.3g}, fitted for {fitted_for} on "
               "held-out training digits and probe sets of another seed, never on these sets. The same table as "
               "`python -m vae_core anomalies` prints.")
with right:
    st.markdown(f"**ROC curves of {name}** (AUROC in the legend)")
    st.plotly_chart(roc_figure(cache.probe_rocs(key, score), aurocs[score], PROBE_LABELS), key="anomalies_roc",
                    config={"displayModeBar": False})

st.markdown(f"**The most digit-like probes by {name}** (lowest score first), each beside its reconstruction, with "
            "the share of test digits that score higher: a large share means the score takes it for a digit.")
probe_scores, chars = cache.probe_scores(key), vc.letter_characters(cache.anomaly_scores.N_PROBES)
probe_images = cache.probe_images(key)
digit_like = cache.digit_like_probes(key, score, PROBE_GALLERY)
for column, sets in zip(st.columns(2, gap="large"), (vc.PROBE_NAMES[:4], vc.PROBE_NAMES[4:]), strict=True):
    with column:
        for probe in sets:
            index, reconstructions = digit_like[probe]
            probe_values = probe_scores[probe][score][index]
            shares = vc.share_more_anomalous(values, probe_values)
            cells = [((probe_images[probe][i], r), (f"'{chars[i]}' · " if probe == "letters" else "")
                      + f"{v:.1f}\n{share:.0%} above")
                     for i, r, v, share in zip(index, reconstructions, probe_values, shares, strict=True)]
            st.caption(PROBE_LABELS[probe])
            st.html(gallery_html(cells, px=48, side=side))
