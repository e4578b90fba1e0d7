"""Latent map page in AppTest: both maps and their metrics, toggles change the figure, the selected digit's details,
colouring by an anomaly score, the digits drawn on the maps, a box or lasso selection and its CSV, the view in the
link, and a clear message without MNIST. (AppTest cannot click or lasso a Plotly chart: a selection is sent as the
browser sends it, as the chart's widget state; the click and the lasso themselves are browser tests, the event ->
indices mapping is unit-tested in test_clicks.py.)"""
import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.page import url_state as us
from explorer.render import digits_picture
from explorer.render.clicks import selected_index, selected_indices
from explorer.render.palette import DIGIT_COLOURS as TAB10_HEX
from tests.app.helpers import array, run_without_mnist, send_selection
from vae_core.atlas import frame_colours

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "latent_map.py")
TAB10 = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in TAB10_HEX], dtype=np.uint8)


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
    at = run_without_mnist(PAGE)
    message = " ".join(e.value for e in at.error)
    assert f"…/{no_mnist.name}" in message
    assert str(no_mnist) not in message  # the folder by its name: no absolute path in the browser
    assert not at.get("plotly_chart")


def test_the_pca_map_uses_the_stored_baseline_or_fits_one(real_data, tmp_path):
    """The default checkpoint stores the PCA its scores used; an older one without it gets the same PCA fitted."""
    train_x, test_x = cache.mnist("train")[0], cache.mnist("test")[0]
    expected = vc.pca_codes(None, train_x, test_x)
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
    assert selected_index({"selection": {"points": [point]}}, 10_000) == int(np.argmax(
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


# ------------------------------------------------------------------------------------------------ digits on the maps


def picture(image: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(image["source"].split(",", 1)[1])))


def test_show_digits_draws_one_undistorted_picture_over_each_map(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not spec(at, 0)["layout"].get("images") and not spec(at, 1)["layout"].get("images")
    at.toggle(key="latent_show_digits").set_value(True).run()
    assert not at.exception, at.exception
    drawn = [c.value for c in at.caption if "digits drawn" in c.value]
    assert len(drawn) == 2
    for i, fig in enumerate((spec(at, 0), spec(at, 1))):
        (image,) = fig["layout"]["images"]
        assert (image["xref"], image["yref"], image["sizing"], image["layer"]) == ("x", "y", "stretch", "above")
        x_range, y_range = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
        assert fig["layout"]["yaxis"]["scaleanchor"] == "x"  # equal scale: a square in z stays square on screen
        # the picture covers the axes (whole cells, a little beyond on the shorter axis) ...
        assert image["x"] <= x_range[0] + 1e-9 and image["x"] + image["sizex"] >= x_range[1] - 1e-9
        assert image["y"] >= y_range[1] - 1e-9 and image["y"] - image["sizey"] <= y_range[0] + 1e-9
        pic = picture(image)
        # ... with square pixels in data units, so tiles are not stretched, and whole 28 px digits (no resampling)
        assert pic.width / pic.height == pytest.approx(image["sizex"] / image["sizey"], rel=1e-9)
        assert pic.mode == "P" and "transparency" in pic.info
        assert pic.width % 35 == 0 and pic.height % 35 == 0  # cells of 35 px, tiles of 28
        n = int(drawn[i].split()[0])
        assert 300 <= n <= 600  # the "about 300-600 digits"


def test_the_map_picture_draws_the_spread_picks_in_class_coloured_frames(real_data):
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    mu = cache.test_latents(key)[0]
    x_range, y_range = (-4.0, 5.0), (-5.0, 5.0)
    uri, extent, n = cache.map_digits(key, "vae", x_range, y_range)
    extent_again, cells = digits_picture.digits_grid(x_range, y_range)
    assert extent == extent_again and max(cells) == digits_picture.DIGIT_CELLS
    assert n == len(vc.spread_picks(mu, extent, cells, digits_picture.DIGIT_SPACING))
    pic = np.asarray(picture({"source": uri}).convert("RGBA"))
    assert pic.shape[:2] == (cells[1] * 35, cells[0] * 35)
    opaque = pic[..., 3] > 0
    assert opaque.mean() == pytest.approx(n * 28 * 28 / opaque.size, rel=0.02)  # n whole tiles, none overlapping
    frames = {tuple(c) for c in pic[opaque][:, :3].tolist() if len(set(c)) > 1}  # the coloured pixels: frames only
    assert frames and frames <= {tuple(c) for c in frame_colours(TAB10).tolist()}
    subset = np.flatnonzero(cache.mnist("test")[1] == 1)
    _, _, n_ones = cache.map_digits(key, "vae", x_range, y_range, subset)
    assert 0 < n_ones < n


# ------------------------------------------------------------------------------------------------------- selection


def box_event(codes: np.ndarray, labels: np.ndarray, box) -> dict:
    """What st.plotly_chart returns for a box drawn over `box` = (x0, x1, y0, y1) (its shape copied from a browser)."""
    x0, x1, y0, y1 = box
    inside = np.flatnonzero((codes[:, 0] >= x0) & (codes[:, 0] <= x1) & (codes[:, 1] >= y0) & (codes[:, 1] <= y1))
    points = [{"curve_number": int(labels[i]), "point_index": 0, "x": float(codes[i, 0]), "y": float(codes[i, 1]),
               "customdata": {"0": int(i), "1": int(labels[i])}} for i in inside]
    return {"selection": {"points": points, "point_indices": [0] * len(points),
                          "box": [{"xref": "x", "yref": "y", "x": [x0, x1], "y": [y0, y1]}], "lasso": []}}


def selecting(at: AppTest, event: dict, where: str = "vae") -> AppTest:
    """A box on `where`: AppTest cannot draw one, so the map's selection is sent as a browser sends it, and the
    page's on_select callback makes the region."""
    return send_selection(at, f"latent_{where}_chart_0", event)


def test_a_box_selection_shows_its_size_labels_and_digits_and_the_other_map_highlights_them(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    mu, labels = cache.test_latents(key)[0], cache.mnist("test")[1]
    event = box_event(mu, labels, (0.5, 2.0, -1.0, 0.5))
    chosen = selected_indices(event, len(labels))
    assert 100 < len(chosen) < 10_000
    selecting(at, event)
    assert not at.exception, at.exception
    assert f"Selection: {len(chosen):,} digits on the VAE map" in [h.value for h in at.subheader]
    counts = spec(at, 2)  # the bar chart under the maps
    assert array(counts["data"][0]["y"]).tolist() == np.bincount(labels[chosen], minlength=10).tolist()
    assert counts["data"][0]["marker"]["color"] == list(TAB10_HEX)
    gallery = " ".join(h.proto.body for h in at.get("html"))
    assert gallery.count("<img") == 100 and f"#{chosen[0]} · {labels[chosen[0]]}" in gallery
    vae, pca = spec(at, 0), spec(at, 1)
    for fig in (vae, pca):  # the same digits on both maps, the rest faded
        assert fig["data"][-1]["name"] == "selected"
        assert array(fig["data"][-1]["customdata"])[:, 0].tolist() == chosen.tolist()
        assert all(t["marker"]["opacity"] < 0.2 for t in fig["data"][:-1])
    pca_codes = cache.pca_test_codes(key)
    np.testing.assert_allclose(array(pca["data"][-1]["x"]), pca_codes[chosen, 0], rtol=1e-6)
    outline = [s for s in vae["layout"]["shapes"] if s["type"] == "path"]
    assert len(outline) == 1 and outline[0]["path"].startswith("M 0.5,-1 L 2,-1")  # the box where it was drawn
    assert not [s for s in pca["layout"].get("shapes", []) if s["type"] == "path"]
    assert {"Download selection (CSV)", "Download whole map (CSV)"} <= {b.label for b in at.get("download_button")}

    at.toggle(key="latent_show_digits").set_value(True).run()  # the digits drawn are the selection's, on both maps
    assert all("from the selection" in c.value for c in at.caption if "digits drawn" in c.value)

    at.button(key="latent_clear_region").click().run()
    assert not at.exception, at.exception
    assert not [h for h in at.subheader if h.value.startswith("Selection")]
    assert [t["name"] for t in spec(at, 1)["data"]] == [str(d) for d in range(10)]


def test_an_empty_box_says_so(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    selecting(at, box_event(np.zeros((1, 2)), np.zeros(1, dtype=int), (5.0, 6.0, 5.0, 6.0)), where="pca")
    assert not at.exception, at.exception
    assert "Selection: 0 digits on the PCA map" in [h.value for h in at.subheader]
    assert any("holds no digits" in i.value for i in at.info)


def test_the_csv_of_a_selection_or_the_whole_map_opens_in_pandas(real_data, cheap_anomaly_scores):
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    chosen = np.array([3, 17, 4242, 9999])
    table = pd.read_csv(io.StringIO(cache.map_csv(key, chosen)))
    assert list(table.columns) == ["test_index", "label", "z1", "z2", "sigma1", "sigma2", "pc1", "pc2"]
    assert table["test_index"].tolist() == chosen.tolist()
    mu, logvar = cache.test_latents(key)
    np.testing.assert_array_equal(table[["z1", "z2"]].to_numpy(np.float32), mu[chosen])
    np.testing.assert_allclose(table[["sigma1", "sigma2"]].to_numpy(), np.exp(0.5 * logvar[chosen]), rtol=1e-6)
    np.testing.assert_array_equal(table[["pc1", "pc2"]].to_numpy(np.float32), cache.pca_test_codes(key)[chosen])
    assert len(pd.read_csv(io.StringIO(cache.map_csv(key, None)))) == 10_000

    scores = cache.test_scores(key)  # now this server has them, the CSVs carry them
    assert cache.test_scores_ready(key)
    table = pd.read_csv(io.StringIO(cache.map_csv(key, chosen, with_scores=True)))
    assert list(table.columns)[8:] == list(vc.SCORES)
    np.testing.assert_array_equal(table["corrected"].to_numpy(), scores["corrected"][chosen])


def test_the_page_offers_the_scores_for_its_csvs_until_they_are_computed(real_data, cheap_anomaly_scores):
    cache.jobs.forget(lambda job_key: job_key[0] == "anomaly test scores")  # a server that has not scored them
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    assert not cache.test_scores_ready(key)
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not any("hold the anomaly scores" in c.value for c in at.caption)
    assert at.button(key="latent_csv_scores").label == "Add the anomaly scores to the CSVs"
    at.button(key="latent_csv_scores").click().run()
    assert not at.exception, at.exception
    assert cache.test_scores_ready(key)
    assert not [b for b in at.button if b.key == "latent_csv_scores"]
    assert any("hold the anomaly scores" in c.value for c in at.caption)


# ----------------------------------------------------------------------------------------------------- the link


def opened(query: dict, timeout: float = 300) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=timeout)
    at.query_params.update(query)
    return at.run()


def test_a_link_restores_the_digit_the_colouring_and_the_digits(real_data, cheap_anomaly_scores):
    at = opened({"model": "default", "digit": "1234", "colour_by": "kl", "show_digits": "true"})
    assert not at.exception, at.exception
    assert not at.toast
    assert at.selectbox(key="latent_colour_by").value == "kl" and at.toggle(key="latent_show_digits").value
    assert [c for img in at.get("image") for c in img.captions][0] == "test #1234"
    assert spec(at, 0)["layout"]["images"] and spec(at, 0)["data"][0]["marker"]["colorbar"]
    assert at.query_params["digit"] == "1234" and at.query_params["colour_by"] == "kl"


def test_the_link_follows_the_view(real_data):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert at.query_params["colour_by"] == "label" and at.query_params["show_digits"] == "false"
    assert "digit" not in at.query_params  # nothing selected yet
    assert not at.get("code")  # the Copy link popover is closed: no link made
    at.session_state["latent_selected"] = 77  # a click
    at.session_state[us.COPY.format(page="latent_map")] = True  # the popover opened
    at.toggle(key="latent_show_digits").set_value(True).run()
    assert at.query_params["digit"] == "77" and at.query_params["show_digits"] == "true"
    (code,) = at.get("code")
    assert code.value == "http://localhost:8501/latent_map?model=default&digit=77&colour_by=label&show_digits=true"


def test_a_bad_link_falls_back_with_one_notice_per_parameter(real_data):
    at = opened({"digit": "10000", "colour_by": "rainbow", "show_digits": "maybe"}, timeout=120)
    assert not at.exception, at.exception
    notices = [t.value for t in at.toast]
    assert len(notices) == 3 and all(n.count("\n") == 0 for n in notices)
    assert "digit=10000" in notices[0] and "rainbow" in notices[1] and "maybe" in notices[2]
    assert at.selectbox(key="latent_colour_by").value == "label" and not at.toggle(key="latent_show_digits").value
    assert any("Click a dot" in i.value for i in at.info)  # no digit selected
    assert at.query_params["colour_by"] == "label" and "digit" not in at.query_params
