"""Interpolation page in AppTest: choosing A and B by class and index, random pick, steps, mode and t change what is
shown, and a clear message without MNIST. (Picking by a click on the map is a browser test.)"""
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer import cache
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from tests.app import links
from tests.app.helpers import array, captions, run_without_mnist

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "interpolation.py")


def urls(at: AppTest) -> list[str]:
    return [i.url for img in at.get("image") for i in img.proto.imgs]


def path_on_map(at: AppTest) -> np.ndarray:
    (chart,) = at.get("plotly_chart")
    trace = next(t for t in json.loads(chart.proto.spec)["data"] if t.get("name") == "path")
    return np.column_stack([array(trace["x"]), array(trace["y"])])


def test_default_pair_strip_and_path(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    _, labels = cache.mnist("test")
    a, b = (int(np.flatnonzero(labels == d)[0]) for d in (1, 0))  # defaults: the first 1 and the first 0
    assert captions(at)[:2] == [f"test #{a}", f"test #{b}"]
    mu = cache.test_latents(ModelKey.of(DEFAULT_CHECKPOINT))[0]
    path = path_on_map(at)
    assert len(path) == 10 and np.allclose(path[0], mu[a]) and np.allclose(path[-1], mu[b])
    assert "(10 frames)" in " ".join(m.value for m in at.markdown)
    assert captions(at)[3] == "pixel blend at t = 0.50"


def test_class_and_index_choose_the_digit(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    _, labels = cache.mnist("test")
    at.selectbox(key="interp_a_digit").set_value(7).run()
    assert not at.exception
    assert captions(at)[0] == f"test #{int(np.flatnonzero(labels == 7)[0])}"
    at.number_input(key="interp_a_rank").set_value(5).run()
    assert captions(at)[0] == f"test #{int(np.flatnonzero(labels == 7)[5])}"
    # a class with fewer digits clamps the index instead of failing
    at.selectbox(key="interp_b_digit").set_value(1).run()
    at.number_input(key="interp_b_rank").set_value(1000).run()  # 1135 ones
    assert captions(at)[1] == f"test #{int(np.flatnonzero(labels == 1)[1000])}"
    at.selectbox(key="interp_b_digit").set_value(5).run()  # only 892 fives
    assert not at.exception
    assert captions(at)[1] == f"test #{int(np.flatnonzero(labels == 5)[-1])}"


def test_random_pick_changes_both_digits(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    before = captions(at)[:2]
    at.button(key="interp_random").click().run()
    assert not at.exception
    after = captions(at)[:2]
    assert after != before and after[0] != after[1]


def test_steps_and_mode_change_strip_and_path(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    strip, linear = urls(at)[-2], path_on_map(at)
    at.slider(key="interp_steps").set_value(15).run()
    assert not at.exception
    assert "(15 frames)" in " ".join(m.value for m in at.markdown)
    assert urls(at)[-2] != strip and len(path_on_map(at)) == 15

    at.slider(key="interp_steps").set_value(10)
    at.radio(key="interp_mode").set_value("spherical").run()
    curved = path_on_map(at)
    assert np.allclose(curved[[0, -1]], linear[[0, -1]]) and not np.allclose(curved, linear)
    assert "spherical path" in " ".join(m.value for m in at.markdown)


def test_t_slider_moves_the_large_frames(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    frames = urls(at)[2:4]
    at.slider(key="interp_t").set_value(0.2).run()
    assert not at.exception
    assert captions(at)[3] == "pixel blend at t = 0.20"
    assert urls(at)[2] != frames[0] and urls(at)[3] != frames[1]
    at.slider(key="interp_t").set_value(0.0).run()
    a = int(captions(at)[0].removeprefix("test #"))
    mu = cache.test_latents(ModelKey.of(DEFAULT_CHECKPOINT))[0]
    assert captions(at)[2] == f"decoded z(t) = ({mu[a, 0]:+.2f}, {mu[a, 1]:+.2f})"  # t = 0 is A's latent mean


def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.get("plotly_chart") and not at.get("image")


# ------------------------------------------------------------------------------------------------- the page's link


def opened(query: dict | None = None) -> AppTest:
    return links.opened(PAGE, query, timeout=60)


def pickers(at: AppTest) -> list:
    return [at.selectbox(key="interp_a_digit").value, at.number_input(key="interp_a_rank").value,
            at.selectbox(key="interp_b_digit").value, at.number_input(key="interp_b_rank").value]


def test_a_link_opens_its_pair_path_steps_and_t(real_data):
    _, labels = cache.mnist("test")
    at = opened({"a": "4321", "b": "17", "mode": "spherical", "steps": "7", "t": "0.2"})
    assert captions(at)[:2] == ["test #4321", "test #17"]
    a_class, b_class = int(labels[4321]), int(labels[17])  # the pickers show the indices as (class, rank)
    assert pickers(at) == [a_class, int(np.sum(labels[:4321] == a_class)), b_class, int(np.sum(labels[:17] == b_class))]
    assert at.radio(key="interp_mode").value == "spherical" and len(path_on_map(at)) == 7
    assert captions(at)[3] == "pixel blend at t = 0.20"
    assert not at.toast


def test_the_view_goes_into_the_link_and_the_link_gives_the_same_view(real_data):
    _, labels = cache.mnist("test")
    at = opened()
    a, b = (int(np.flatnonzero(labels == d)[0]) for d in (1, 0))
    assert at.query_params == {"model": "default", "a": str(a), "b": str(b), "mode": "linear", "steps": "10",
                               "t": "0.5"}
    at.selectbox(key="interp_a_digit").set_value(7)
    at.number_input(key="interp_a_rank").set_value(5)
    at.radio(key="interp_mode").set_value("spherical")
    at.slider(key="interp_steps").set_value(21).run()
    at.slider(key="interp_t").set_value(0.83).run()  # a fragment's rerun: the link follows
    seven = int(np.flatnonzero(labels == 7)[5])
    assert dict(at.query_params) == {"model": "default", "a": str(seven), "b": str(b), "mode": "spherical",
                                     "steps": "21", "t": "0.83"}
    again = opened(dict(at.query_params))
    assert pickers(again) == pickers(at) and captions(again) == captions(at)
    assert again.slider(key="interp_steps").value == 21 and again.slider(key="interp_t").value == 0.83
    assert np.allclose(path_on_map(again), path_on_map(at)) and urls(again) == urls(at)  # the same pictures


def test_bad_parameters_give_the_defaults_with_one_notice_each(real_data):
    _, labels = cache.mnist("test")
    at = opened({"a": "10000", "b": "x", "mode": "cubic", "steps": "12", "t": "-1"})
    assert len(at.toast) == 4 and all("showing the default" in t.value for t in at.toast)
    a, b = (int(np.flatnonzero(labels == d)[0]) for d in (1, 0))
    assert captions(at)[:2] == [f"test #{a}", f"test #{b}"]
    assert at.radio(key="interp_mode").value == "linear" and at.slider(key="interp_t").value == 0.5
    assert at.slider(key="interp_steps").value == 12  # the good parameter is kept


def test_a_deskewing_models_frames_take_the_slant_of_the_cross_fade_from_one_digit_to_the_other(real_data, tmp_path):
    import torch

    import vae_core as vc
    from vae_core.slant import slant

    torch.manual_seed(0)
    path = vc.save_checkpoint(tmp_path / "upright.pt", vc.VAE(vc.ModelConfig(hidden=(32,), deskew=True)).eval())
    key = ModelKey.of(path)
    images = cache.mnist("test")[0]
    a, b = 0, 1
    slants = slant(torch.from_numpy(images[[a, b]].reshape(2, -1)))
    assert abs(slants[0] - slants[1]) > 0.1  # two digits of different slant: the frames must follow
    z, frames, blend = cache.interpolation(key, a, b, 5, "linear")
    model = cache.load_model(key).model
    expected = vc.decode(model, z, like=blend.reshape(5, -1))
    assert np.allclose(frames, expected, atol=1e-6)
    assert np.allclose(frames[0], vc.reconstruct(model, images[a:a + 1])[0], atol=1e-5)  # the ends: the digits'
    assert np.allclose(frames[-1], vc.reconstruct(model, images[b:b + 1])[0], atol=1e-5)
    assert not np.allclose(frames, vc.decode(model, z), atol=1e-3)  # not the upright frames
