"""Anomalies page in AppTest, on the default checkpoint and real MNIST (scored cheaply: cheap_anomaly_scores): the
histogram and its threshold, the galleries, the probe sets' AUROC table and ROC curves, a clear message without MNIST;
and the corrected score's constants, shipped for the default model and fitted for any other."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.cache import anomaly_scores
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.page import url_state as us
from explorer.page.score_labels import PROBE_LABELS
from tests.app import links
from tests.app.helpers import array, run_without_mnist

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "anomalies.py")


def spec(at: AppTest, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if key in c.proto.id).proto.spec)


def histogram(at: AppTest) -> dict:
    return spec(at, "anomalies_histogram")


def flagged(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Test digits flagged")


@pytest.fixture
def page(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    return at


def scores_of(score: str) -> np.ndarray:
    return cache.test_scores(ModelKey.of(DEFAULT_CHECKPOINT))[score]


# ---- the test digits

def test_the_histogram_counts_every_test_digit_and_the_threshold_starts_at_one_percent_flagged(page):
    bars = histogram(page)["data"][0]
    assert bars["type"] == "bar" and array(bars["y"]).sum() == 10_000
    assert page.button_group(key="anomalies_score").value == "corrected"
    assert flagged(page) == f"{np.mean(scores_of('corrected') > page.slider(key='anomalies_threshold_corrected').value):.1%}"
    assert abs(float(flagged(page).rstrip("%")) - 1.0) <= 0.1


def test_moving_the_threshold_changes_the_flagged_share(page):
    values = scores_of("corrected")
    slider = page.slider(key="anomalies_threshold_corrected")
    median = us.Float(slider.proto.min, slider.proto.max, None, slider.proto.step).snap(float(np.median(values)))
    slider.set_value(median).run()  # the slider's step nearest the median
    assert not page.exception, page.exception
    assert flagged(page) == f"{np.mean(values > median):.1%}"
    assert abs(float(flagged(page).rstrip("%")) - 50.0) < 1.0
    assert histogram(page)["layout"]["shapes"][0]["x0"] == pytest.approx(median)


def test_choosing_another_score_redraws_the_histogram_with_its_own_threshold(page):
    before = histogram(page)
    page.button_group(key="anomalies_score").set_value("kl").run()
    assert not page.exception, page.exception
    after = histogram(page)
    assert after["layout"]["xaxis"]["title"]["text"] == "KL (nats)"
    assert not np.array_equal(array(after["data"][0]["x"]), array(before["data"][0]["x"]))
    kl = scores_of("kl")
    assert kl.min() <= page.slider(key="anomalies_threshold_kl").value <= kl.max()
    assert any("KL" in m.value and "prior" in m.value for m in page.markdown)  # the score's explanation


def test_the_galleries_show_the_most_typical_and_most_atypical_test_digits(page):
    values = scores_of("corrected")
    typical, atypical = (h.proto.body for h in page.get("html")[:2])
    order = np.argsort(values, kind="stable")
    assert typical.count("<figure") == atypical.count("<figure") == 20
    assert typical.count("<img") == 40  # each digit beside its reconstruction
    first = [int(i) for i in re.findall(r"#(\d+) ·", typical)]
    last = [int(i) for i in re.findall(r"#(\d+) ·", atypical)]
    assert first == list(order[:20]) and last == list(order[::-1][:20])


# ---- the probe sets

def test_the_auroc_table_has_one_row_per_probe_set_and_one_column_per_score(page):
    table = page.dataframe[0].value
    assert list(table.index) == [PROBE_LABELS[p] for p in vc.PROBE_NAMES]
    assert len(table.columns) == len(vc.SCORES)
    aurocs = cache.probe_aurocs(ModelKey.of(DEFAULT_CHECKPOINT))
    np.testing.assert_allclose(table["corrected"].to_numpy(), [aurocs["corrected"][p] for p in vc.PROBE_NAMES])
    # noise is far from any digit by every score of fit, even at k = 2 (the KL alone need not be: the tanh default
    # encodes noise near the prior)
    assert table.loc["uniform noise"].drop("KL").min() > 0.9


def test_the_corrected_scores_weight_reads_to_three_significant_digits(page):
    """The explanation of the chosen score (corrected, at first) and the caption under the table both give it."""
    texts = [e.value for e in (*page.markdown, *page.caption) if "w = " in e.value]
    weights = [re.search(r"w = ([\d.]+)", text).group(1).rstrip(".") for text in texts]
    assert len(weights) == 2 and all(len(w.replace(".", "").lstrip("0")) <= 3 for w in weights), weights


def test_the_roc_curves_show_one_curve_per_probe_set_and_follow_the_chosen_score(page):
    curves = spec(page, "anomalies_roc")["data"][1:]  # after the chance diagonal
    assert [c["name"].split(" (")[0] for c in curves] == [PROBE_LABELS[p] for p in vc.PROBE_NAMES]
    page.button_group(key="anomalies_score").set_value("neg_elbo").run()
    aurocs = cache.probe_aurocs(ModelKey.of(DEFAULT_CHECKPOINT))["neg_elbo"]
    names = [c["name"] for c in spec(page, "anomalies_roc")["data"][1:]]
    assert names == [f"{PROBE_LABELS[p]} ({aurocs[p]:.3f})" for p in vc.PROBE_NAMES]


def test_each_probe_set_shows_its_most_digit_like_images_with_their_reconstructions(page):
    probes = page.get("html")[2:]
    assert len(probes) == len(vc.PROBE_NAMES)
    assert all(h.proto.body.count("<figure") == 4 and h.proto.body.count("<img") == 8 for h in probes)
    letters = probes[-1].proto.body  # the letters come with their characters
    assert re.search(r"&#x27;[A-Za-z]&#x27; · ", letters)


# ---- the page's link

def opened(query: dict) -> AppTest:
    return links.opened(PAGE, query, timeout=300)


def test_the_score_and_threshold_go_into_the_link_and_the_link_gives_the_same_view(page):
    assert page.query_params["score"] == "corrected"
    assert float(page.query_params["threshold"]) == pytest.approx(page.slider(key="anomalies_threshold_corrected").value)
    page.button_group(key="anomalies_score").set_value("kl").run()
    slider = page.slider(key="anomalies_threshold_kl")
    median = round(slider.min + round((np.median(scores_of("kl")) - slider.min) / slider.step) * slider.step, 10)
    slider.set_value(median).run()  # a value the slider can take; the fragment's rerun: the link follows
    assert page.query_params["score"] == "kl" and float(page.query_params["threshold"]) == pytest.approx(median)
    again = opened(dict(page.query_params))
    assert again.button_group(key="anomalies_score").value == "kl" and not again.toast
    assert again.slider(key="anomalies_threshold_kl").value == pytest.approx(float(page.query_params["threshold"]))
    assert flagged(again) == flagged(page) and histogram(again) == histogram(page)


def test_a_bad_score_or_threshold_falls_back_with_a_notice(real_data, cheap_anomaly_scores):
    at = opened({"score": "elbo", "threshold": "1e6"})
    assert at.button_group(key="anomalies_score").value == "corrected"
    assert len(at.toast) == 2 and "score=elbo" in at.toast[0].value and "threshold=1e6" in at.toast[1].value
    assert abs(float(flagged(at).rstrip("%")) - 1.0) <= 0.1  # the threshold's start: 1% flagged
    at = opened({"score": "kl", "threshold": "many"})
    assert at.button_group(key="anomalies_score").value == "kl" and "not a number" in at.toast[0].value


# ---- what the page needs

def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.get("plotly_chart") and not at.dataframe


def test_the_default_model_uses_the_shipped_constants_and_another_model_gets_them_fitted(real_data, tmp_path,
                                                                                     monkeypatch):
    assert cache.anomaly_complexity(ModelKey.of(DEFAULT_CHECKPOINT)) == vc.Complexity()
    monkeypatch.setattr(anomaly_scores, "IWAE_K", 2)
    monkeypatch.setattr(anomaly_scores, "N_VALIDATION", 300)
    monkeypatch.setattr(anomaly_scores, "N_VALIDATION_PROBES", 30)
    other = vc.save_checkpoint(tmp_path / "other.pt", vc.VAE(vc.ModelConfig(hidden=(32,))))
    model = vc.load_checkpoint(other).model
    expected = vc.calibrate(model, cache.mnist("train")[0], 2, n_validation=300, n_probes=30)[0]
    assert cache.anomaly_complexity(ModelKey.of(other)) == expected
