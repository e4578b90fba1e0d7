"""Holes page in AppTest: q(z) and p(z) side by side on one scale, the hole map with the test digits' means, the two
figures computed by vae_core.holes, the threshold slider and the log-scale toggle, and a clear message without MNIST."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from tests.app.helpers import array, captions, run_without_mnist

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "holes.py")


def spec(at: AppTest, i: int) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def ratios(texts: list[str]) -> list[float]:
    return [0.0 if t == "q/p < 0.001" else float(t.removeprefix("q/p = ")) for t in texts]


@pytest.fixture
def page(real_data) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def test_q_and_p_are_drawn_side_by_side_on_one_grid_and_one_colour_scale(page):
    q, p = spec(page, 0), spec(page, 1)
    for fig in (q, p):
        assert [t["type"] for t in fig["data"]] == ["heatmap"]
    for coord in ("x", "y"):
        assert np.array_equal(array(q["data"][0][coord], float), array(p["data"][0][coord], float))
    assert (q["data"][0]["zmin"], q["data"][0]["zmax"]) == (p["data"][0]["zmin"], p["data"][0]["zmax"])
    assert q["layout"]["xaxis"]["range"] == p["layout"]["xaxis"]["range"] == [-4, 4]
    z_prior = array(p["data"][0]["z"], float)
    assert z_prior[50, 50] == pytest.approx(-math.log10(2 * math.pi))  # log10 N(0; 0, I) at the centre of the grid


def test_the_figures_are_the_estimators_on_the_test_digits_encodings(page):
    mu, logvar = cache.test_latents(ModelKey.of(DEFAULT_CHECKPOINT))
    kl = vc.aggregate_kl(mu, logvar, n_samples=10_000, seed=0)
    share = vc.hole_share(vc.prior_density_ratio(mu, logvar, n_samples=10_000, seed=0)[1], 0.1)[0]
    values = {m.label: m.value for m in page.metric}
    assert values == {"KL(q(z) ‖ p(z))": f"{kl.value:.3f} nats", "Prior samples in holes": f"{share:.1%}"}
    assert 0 < kl.leave_one_out < kl.value < kl.mean_kl  # the bracket, below the average KL term of the ELBO
    assert any(f"leave-one-out {kl.leave_one_out:.3f}" in c.value for c in page.caption)


def test_the_hole_map_shows_the_means_the_boundary_and_the_decoded_samples(page):
    fig = spec(page, 2)
    names = [t.get("name") for t in fig["data"]]
    assert [t["type"] for t in fig["data"]] == ["heatmap", "contour", "scattergl", "scatter", "scatter"]
    assert names[1] == "q = 0.1·p" and fig["data"][1]["contours"]["start"] == pytest.approx(-1.0)
    assert len(array(fig["data"][2]["x"], float)) == 10_000  # every test digit's mean
    ratio, axis = array(fig["data"][0]["z"], float), array(fig["data"][0]["x"], float)
    outside = np.hypot(*np.meshgrid(axis, axis)) > 3.0
    assert np.isnan(ratio[outside]).all() and not np.isnan(ratio[~outside]).any()  # drawn where the prior has mass
    assert names[3] == "decoded: in a hole (16)" and names[4] == "decoded: q ≥ p (10)"
    shown = ratios(captions(page))
    assert len(shown) == 26 and max(shown[:16]) < 0.1 and min(shown[16:]) >= 1.0


def test_a_higher_threshold_finds_more_holes(page):
    before = {m.label: m.value for m in page.metric}["Prior samples in holes"]
    page.select_slider(key="holes_tau").set_value(0.5).run()
    assert not page.exception, page.exception
    after = {m.label: m.value for m in page.metric}["Prior samples in holes"]
    assert float(after.rstrip("%")) > float(before.rstrip("%"))
    assert spec(page, 2)["data"][1]["contours"]["start"] == pytest.approx(math.log10(0.5))
    assert max(ratios(captions(page))[:16]) < 0.5


def test_the_log_scale_toggle_switches_the_density_images_to_densities(page):
    page.toggle(key="holes_log_scale").set_value(False).run()
    assert not page.exception, page.exception
    q, p = spec(page, 0), spec(page, 1)
    assert q["data"][0]["zmin"] == p["data"][0]["zmin"] == 0
    assert array(p["data"][0]["z"], float)[50, 50] == pytest.approx(1 / (2 * math.pi))


def test_on_a_phone_the_colour_bars_lie_under_the_three_maps(page, monkeypatch):
    assert all(spec(page, i)["data"][0]["colorbar"].get("orientation", "v") == "v" for i in range(3))  # a desktop's
    monkeypatch.setattr("explorer.page.device.on_phone", lambda: True)  # what a phone's user agent makes it say
    phone = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not phone.exception, phone.exception
    figures = [spec(phone, i) for i in range(3)]
    assert [f["data"][0]["colorbar"]["orientation"] for f in figures] == ["h", "h", "h"]
    assert all(f["data"][0]["colorbar"]["y"] < 0 for f in figures)  # under the plot, not over its title
    assert figures[2]["layout"]["legend"]["y"] < figures[2]["data"][0]["colorbar"]["y"]  # and the legend under it


def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.get("plotly_chart") and not at.metric
