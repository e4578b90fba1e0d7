"""Repair page in AppTest, on the default checkpoint and real MNIST: each damage and its settings, the VAE's repair and
the baselines scored as the CLI scores them, the iterations and their path on the map, the digit from the Draw page,
the view in the page's link, and a clear message without MNIST."""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.page import url_state as us
from tests.app import links
from tests.app.helpers import array, captions, run_without_mnist
from vae_core.corruption import gaussian_noise, missing_half, missing_rectangle, salt_and_pepper

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "repair.py")
DIGIT = us.DEFAULT_REPAIR[0]  # the test digit the page opens on


def path_on_map(at: AppTest) -> np.ndarray:
    (chart,) = at.get("plotly_chart")
    trace = next(t for t in json.loads(chart.proto.spec)["data"] if t.get("name") == "path")
    return np.column_stack([array(trace["x"]), array(trace["y"])])


def vae_error(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Error of the VAE's repair")


def mse(repaired, clean, scored) -> float:
    return float(((np.asarray(repaired).reshape(1, -1) - clean.reshape(1, -1)) ** 2)[scored].mean())


def baseline_errors(at: AppTest) -> dict[str, float]:
    """The figures under the baselines' digits, "method: error"."""
    return {method: float(error) for method, error in (c.rsplit(": ", 1) for c in captions(at)[-3:])}


@pytest.fixture
def page(real_data):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    return at


# ---- the default

def test_the_default_is_a_test_digit_missing_its_top_half_that_the_vae_repairs_better_than_the_baselines(page):
    _, labels = cache.mnist("test")
    assert [h.value for h in page.subheader] == [f"Repairing test #{DIGIT} (label {labels[DIGIT]})"]
    assert (page.radio(key="repair_kind").value, page.radio(key="repair_half").value) == ("half", "top")
    errors = baseline_errors(page)
    assert list(errors) == ["VAE", "mean fill", "KNNImputer (5-NN of 2,000)"]
    assert errors["VAE"] < min(errors["mean fill"], errors["KNNImputer (5-NN of 2,000)"])


# ---- noise

def test_gaussian_noise_is_repaired_by_one_pass_through_the_code(page, default_model):
    page.radio(key="repair_kind").set_value("gaussian").run()
    clean = cache.mnist("test")[0][DIGIT]
    noisy, _ = gaussian_noise(clean[None], 0.4, seed=0)
    repaired = vc.denoise(default_model, noisy)
    assert vae_error(page) == f"{mse(repaired, clean, np.ones((1, 784), bool)):.4f}"
    assert captions(page)[:3] == ["damaged", "repaired by the VAE", "original"]
    mean_image = cache.mnist("train")[0].mean(0)
    assert captions(page)[-3:] == [f"VAE: {mse(repaired, clean, np.ones((1, 784), bool)):.4f}",
                                   f"median filter 3×3: {mse(vc.median_filter(noisy), clean, np.ones((1, 784), bool)):.4f}",
                                   f"mean image: {mse(mean_image, clean, np.ones((1, 784), bool)):.4f}"]
    path = path_on_map(page)  # the clean digit's code, then the noisy one's
    np.testing.assert_allclose(path, vc.encode(default_model, np.concatenate([clean[None], noisy]))[0], atol=1e-5)


def test_new_noise_draws_another_sample_and_salt_and_pepper_takes_its_p(page):
    page.radio(key="repair_kind").set_value("gaussian").run()
    first = vae_error(page)
    page.button(key="repair_new_noise").click().run()
    assert page.session_state["repair_seed"] == 1 and vae_error(page) != first
    page.radio(key="repair_kind").set_value("salt_and_pepper").run()
    page.slider(key="repair_p").set_value(0.3).run()
    assert not page.exception, page.exception
    clean = cache.mnist("test")[0][DIGIT]
    hit, _ = salt_and_pepper(clean[None], 0.3, seed=1)
    assert "median filter 3×3: " + f"{mse(vc.median_filter(hit), clean, np.ones((1, 784), bool)):.4f}" in captions(page)


# ---- missing pixels

def test_a_missing_half_is_filled_by_iterations_that_never_change_the_seen_pixels(page, default_model):
    page.radio(key="repair_kind").set_value("half").run()
    page.radio(key="repair_half").set_value("left").run()
    page.slider(key="repair_iters").set_value(6).run()
    assert not page.exception, page.exception
    clean = cache.mnist("test")[0][DIGIT]
    damaged, observed = missing_half(clean[None], "left")
    fill = vc.impute(default_model, damaged, observed, 6)
    missing = ~observed
    assert vae_error(page) == f"{mse(fill['images'], clean, missing):.4f}"
    np.testing.assert_allclose(path_on_map(page), fill["latents"][:, 0], atol=1e-5)  # 7 codes: the fill, 6 rounds
    assert "#### The 6 iterations" in [m.value for m in page.markdown]
    r = cache.repair(ModelKey.of(DEFAULT_CHECKPOINT), clean, ("half", "left"), 6, 0)
    assert np.array_equal(r["vae"][observed[0]], clean[observed[0]])  # seen pixels exactly as they were
    mean_image = cache.mnist("train")[0].mean(0)
    assert f"mean fill: {mse(vc.mean_fill(damaged, observed, mean_image), clean, missing):.4f}" in captions(page)
    knn = vc.knn_fill(damaged, observed, cache.mnist("train")[0][:cache.KNN_POOL])
    assert f"KNNImputer (5-NN of 2,000): {mse(knn, clean, missing):.4f}" in captions(page)


def test_the_rectangle_sliders_choose_the_missing_pixels(page):
    page.radio(key="repair_kind").set_value("rectangle").run()
    page.slider(key="repair_rows").set_value((4, 13)).run()
    page.slider(key="repair_cols").set_value((10, 14)).run()
    assert not page.exception, page.exception
    assert "the 50 missing pixels" in " ".join(c.value for c in page.caption)  # 10 rows x 5 columns
    clean = cache.mnist("test")[0][DIGIT]
    _, observed = missing_rectangle(clean[None], 4, 10, 10, 5)
    r = cache.repair(ModelKey.of(DEFAULT_CHECKPOINT), clean, ("rectangle", 4, 10, 10, 5), 10, 0)
    assert np.array_equal(r["observed"], observed[0])


# ---- which digit

def test_a_test_digit_is_chosen_by_number_or_at_random(page):
    page.number_input(key="repair_index").set_value(1234).run()
    _, labels = cache.mnist("test")
    assert f"Repairing test #1234 (label {labels[1234]})" in [h.value for h in page.subheader]
    page.button(key="repair_random").click().run()
    assert not page.exception, page.exception
    index = page.session_state["repair_index"]
    assert [h.value for h in page.subheader] == [f"Repairing test #{index} (label {labels[index]})"]


def test_the_digit_drawn_on_the_draw_page_can_be_repaired(page, default_model):
    assert "repair_source" not in [r.key for r in page.radio]  # nothing drawn yet: no choice to offer
    drawn = cache.mnist("test")[0][42][::-1].copy()  # any 784 values in [0, 1]
    page.session_state["drawn_digit"], page.session_state["drawn_digit_from"] = drawn, "drawing"
    page.run()
    page.radio(key="repair_source").set_value("drawn").run()
    assert not page.exception, page.exception
    assert [h.value for h in page.subheader] == ["Repairing your drawing"]
    damaged, observed = missing_half(drawn[None], "top")
    repaired = vc.impute(default_model, damaged, observed, 10)["images"]
    assert vae_error(page) == f"{mse(repaired, drawn, ~observed):.4f}"
    del page.session_state["drawn_digit"]  # cleared on the Draw page: back to the test digits
    page.run()
    assert not page.exception, page.exception
    assert [h.value for h in page.subheader] == [f"Repairing test #{DIGIT} (label 2)"]


# ---- the page's link

def opened(query: dict | None = None) -> AppTest:
    return links.opened(PAGE, query, timeout=300)


def test_a_link_to_test_digit_17_missing_its_right_half_reopens_that_view(real_data, default_model):
    at = opened({"digit": "17", "damage": "half", "half": "right", "iters": "6"})
    _, labels = cache.mnist("test")
    assert [h.value for h in at.subheader] == [f"Repairing test #17 (label {labels[17]})"] and not at.toast
    assert (at.radio(key="repair_kind").value, at.radio(key="repair_half").value) == ("half", "right")
    assert at.slider(key="repair_iters").value == 6
    clean = cache.mnist("test")[0][17]
    damaged, observed = missing_half(clean[None], "right")
    assert vae_error(at) == f"{mse(vc.impute(default_model, damaged, observed, 6)['images'], clean, ~observed):.4f}"


def test_the_view_goes_into_the_link_and_the_link_gives_the_same_view(real_data):
    at = opened()
    assert at.query_params == {"model": "default", "digit": str(DIGIT), "damage": "half", "sigma": "0.4", "p": "0.2",
                               "rows": "8-19", "cols": "8-19", "half": "top", "iters": "10", "seed": "0"}
    at.number_input(key="repair_index").set_value(17).run()
    at.radio(key="repair_kind").set_value("rectangle").run()
    at.slider(key="repair_rows").set_value((4, 13)).run()
    at.slider(key="repair_iters").set_value(3).run()
    assert {k: at.query_params[k] for k in ("digit", "damage", "rows", "cols", "iters")} == {
        "digit": "17", "damage": "rectangle", "rows": "4-13", "cols": "8-19", "iters": "3"}
    again = opened(dict(at.query_params))
    assert again.slider(key="repair_rows").value == (4, 13) and vae_error(again) == vae_error(at)
    assert [h.value for h in again.subheader] == [h.value for h in at.subheader]


def test_a_links_noise_sample_gives_the_same_noise(real_data):
    at = opened({"damage": "gaussian", "sigma": "0.6"})
    at.button(key="repair_new_noise").click().run()
    assert at.query_params["seed"] == "1" and at.query_params["sigma"] == "0.6"
    assert vae_error(opened(dict(at.query_params))) == vae_error(at)


def test_a_bad_or_stale_link_falls_back_to_the_defaults_with_a_one_line_notice_each(real_data):
    at = opened({"digit": "10000", "damage": "blur", "rows": "19-8", "iters": "12"})
    notices = [t.value for t in at.toast]
    assert len(notices) == 3 and all("\n" not in n and "showing the default" in n for n in notices)
    assert any("digit=10000" in n for n in notices) and any("rows=19-8" in n for n in notices)
    assert at.number_input(key="repair_index").value == DIGIT and at.radio(key="repair_kind").value == "half"
    assert at.slider(key="repair_iters").value == 12  # the good parameters are kept
    assert at.query_params["digit"] == str(DIGIT) and at.query_params["rows"] == "8-19"  # the link names the view


def test_the_copy_link_button_gives_the_link_of_the_view(real_data):
    at = opened({"digit": "17"})
    assert not at.get("code")  # closed: no link made
    at.session_state[us.COPY.format(page="repair")] = True
    at.radio(key="repair_half").set_value("left").run()
    (code,) = at.get("code")
    assert code.value.startswith("http://localhost:8501/repair?model=default&digit=17&damage=half")
    assert "half=left" in code.value


# ---- what the page needs

def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.get("plotly_chart") and not at.get("image")
