"""Latent map page in AppTest: both maps and their metrics, toggles change the figure, the selected digit's details,
colouring by an anomaly score, and a clear message without MNIST. (AppTest cannot click a Plotly chart: the click
itself is a browser test; the click -> index mapping is unit-tested in test_clicks.py.)"""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.clicks import selected_index
from explorer.model_choice import ModelKey
from explorer.model_files import DEFAULT_CHECKPOINT
from tests.app.plotly_json import array

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "latent_map.py")


def spec(at: AppTest, i: int) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def test_both_maps_with_their_metrics_and_a_prompt_to_click(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    vae, pca = spec(at, 0), spec(at, 1)
    for fig in (vae, pca):
        assert [t["name"] for t in fig["data"]] == [str(d) for d in range(10)]  # one legend entry per digit
        assert all(t["type"] == "scattergl" for t in fig["data"])
        assert "customdata[0]" in fig["data"][0]["hovertemplate"]
    colours = [t["marker"]["color"] for t in vae["data"]]
    assert colours == [t["marker"]["color"] for t in pca["data"]] and len(set(colours)) == 10
    assert [m.label for m in at.metric] == ["5-NN accuracy", "Trustworthiness"] * 2
    stored = vc.load_checkpoint(DEFAULT_CHECKPOINT).metrics
    assert at.metric[0].value == f"{stored['vae_knn_accuracy']:.1%}"
    assert at.metric[2].value == f"{stored['pca_knn_accuracy']:.1%}"
    assert any("Click a dot" in i.value for i in at.info)


def test_prior_toggle_changes_the_vae_map(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert len(spec(at, 0)["layout"]["shapes"]) == 3  # 1σ, 2σ, 3σ circles
    at.toggle(key="latent_show_prior").set_value(False).run()
    assert not at.exception
    assert not spec(at, 0)["layout"].get("shapes")


def test_selected_digit_shows_image_reconstruction_label_z_sigma_and_a_closeup(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    maps_before = spec(at, 0), spec(at, 1)
    at.session_state["latent_selected"] = 1234  # what a click on test digit 1234 stores
    at.run()
    assert not at.exception, at.exception
    _, labels = cache.mnist("test")
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    mu, logvar = cache.test_latents(key)
    pca_test = cache.pca_codes(key)[1]
    captions = [c for img in at.get("image") for c in img.captions]
    assert captions == ["test #1234", "reconstruction (decoded μ)"]
    values = {m.label: m.value for m in at.metric}
    assert values["Label"] == str(labels[1234])
    assert values["z = μ(x)"] == f"({mu[1234, 0]:+.2f}, {mu[1234, 1]:+.2f})"
    sigma = np.exp(0.5 * logvar[1234])
    assert values["σ = exp(½·log σ²)"] == f"({sigma[0]:.3f}, {sigma[1]:.3f})"
    assert values["PCA-2D"] == f"({pca_test[1234, 0]:+.2f}, {pca_test[1234, 1]:+.2f})"
    # a selection leaves both 10k-point maps as they were, so a click does not send them again
    assert (spec(at, 0), spec(at, 1)) == maps_before
    closeup = spec(at, 2)
    shapes = closeup["layout"]["shapes"]
    assert len(shapes) == 2  # the 1σ and 2σ posterior ellipses
    assert shapes[0]["x0"] == pytest.approx(mu[1234, 0] - sigma[0], abs=1e-4)
    assert shapes[1]["y1"] == pytest.approx(mu[1234, 1] + 2 * sigma[1], abs=1e-4)
    x_range = closeup["layout"]["xaxis"]["range"]
    assert x_range[0] < mu[1234, 0] < x_range[1]

    at.toggle(key="latent_show_ellipse").set_value(False).run()
    assert not spec(at, 2)["layout"].get("shapes")

    at.session_state["latent_selected"] = 7
    at.run()
    assert [c for img in at.get("image") for c in img.captions][0] == "test #7"


def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    message = " ".join(e.value for e in at.error)
    assert vc.DATA_ENV in message and vc.DOWNLOAD_COMMAND in message and f"…/{no_mnist.name}" in message
    assert str(no_mnist) not in message  # the folder by its name: no absolute path in the browser
    assert not at.get("plotly_chart")


def test_the_pca_map_uses_the_stored_baseline_or_fits_one(real_data, tmp_path):
    """The default checkpoint stores the PCA its scores used; an older one without it gets the same PCA fitted."""
    train_x, test_x = cache.mnist("train")[0], cache.mnist("test")[0]
    expected = vc.pca_2d(train_x, test_x)
    stored = cache.pca_codes(ModelKey.of(DEFAULT_CHECKPOINT))
    without = vc.save_checkpoint(tmp_path / "no_pca.pt", vc.VAE(vc.ModelConfig(hidden=(32,))))
    assert vc.load_checkpoint(without).pca == {}
    fitted = cache.pca_codes(ModelKey.of(without))
    for codes in (stored, fitted):
        np.testing.assert_allclose(codes[0], expected[0], atol=1e-3)
        np.testing.assert_allclose(codes[1], expected[1], atol=1e-3)


def test_colouring_by_a_score_draws_each_map_as_one_trace_on_a_colour_scale(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert at.selectbox(key="latent_colour_by").value == "label"
    at.selectbox(key="latent_colour_by").set_value("corrected").run()
    assert not at.exception, at.exception
    scores = cache.test_scores(ModelKey.of(DEFAULT_CHECKPOINT))["corrected"]
    for fig in (spec(at, 0), spec(at, 1)):
        assert len(fig["data"]) == 1 and fig["data"][0]["type"] == "scattergl"
        trace = fig["data"][0]
        marker = trace["marker"]
        assert marker["colorscale"] and marker["colorbar"]["title"]["text"] == "corrected score"
        index = array(trace["customdata"])[:, 0]  # still the test index, so a click finds its digit
        assert sorted(index) == list(range(10_000))
        colours = array(marker["color"])
        np.testing.assert_allclose(colours, scores[index], rtol=1e-6)
        assert (np.diff(colours) >= 0).all()  # the most anomalous drawn last, on top
        assert marker["cmin"] == pytest.approx(np.percentile(scores, 1), rel=1e-5)
    assert "corrected score" in spec(at, 0)["data"][0]["hovertemplate"]


def test_a_click_on_a_score_coloured_map_still_selects_that_test_digit(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="latent_colour_by").set_value("kl").run()
    trace = spec(at, 0)["data"][0]
    point = {"x": 0.0, "y": 0.0, "customdata": array(trace["customdata"])[-1].tolist()}
    assert selected_index({"selection": {"points": [point]}}) == int(np.argmax(
        cache.test_scores(ModelKey.of(DEFAULT_CHECKPOINT))["kl"]))


def test_colouring_by_label_again_brings_back_the_ten_digit_traces(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="latent_colour_by").set_value("neg_elbo").run()
    assert len(spec(at, 0)["data"]) == 1
    at.selectbox(key="latent_colour_by").set_value("label").run()
    assert not at.exception, at.exception
    for fig in (spec(at, 0), spec(at, 1)):
        assert [t["name"] for t in fig["data"]] == [str(d) for d in range(10)]
        assert "colorscale" not in fig["data"][0]["marker"]
