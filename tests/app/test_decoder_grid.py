"""Decoder grid page in AppTest: one picture with a clickable cell layer, grid size / extent / overlay change the
figure, the z sliders change the decoded digit, the PNG download, and the page works without MNIST."""
import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.model.choice import CHOSEN, ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from tests.app import links
from tests.app.helpers import array

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "decoder_grid.py")


def figure(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def picture(fig: dict) -> Image.Image:
    (img,) = fig["layout"]["images"]
    return Image.open(io.BytesIO(base64.b64decode(img["source"].split(",", 1)[1])))


def cell_layer(fig: dict) -> dict:
    return fig["data"][-1]


def n_cells(fig: dict) -> int:
    return len(array(cell_layer(fig)["x"]))


def test_default_grid_is_one_picture_with_20x20_clickable_cells(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    fig = figure(at)
    assert picture(fig).size[0] % (20 * 28) == 0  # 20 digits of 28 px, upscaled by a whole factor (crisp)
    assert n_cells(fig) == 400 and cell_layer(fig)["hovertemplate"].startswith("z = ")
    assert fig["layout"]["xaxis"]["range"] == pytest.approx([-3 - 3 / 19, 3 + 3 / 19])
    assert at.markdown[0].value == "### z = (+0.00, +0.00)"
    assert at.get("download_button")


def test_grid_size_extent_and_overlay_change_the_figure(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    before = figure(at)
    at.slider(key="grid_size").set_value(8).run()
    assert not at.exception
    fig = figure(at)
    assert n_cells(fig) == 64 and picture(fig).size[0] % (8 * 28) == 0
    assert picture(fig).tobytes() != picture(before).tobytes()

    at.slider(key="grid_extent").set_value(1.5).run()
    assert figure(at)["layout"]["xaxis"]["range"] == pytest.approx([-1.5 - 1.5 / 7, 1.5 + 1.5 / 7])

    assert len(figure(at)["data"]) == 1
    at.toggle(key="grid_overlay").set_value(True).run()
    assert not at.exception
    data = figure(at)["data"]
    assert [t["type"] for t in data] == ["scattergl"] * 10 + ["scatter"]  # test digits under the click layer
    assert all(t.get("hoverinfo") == "skip" for t in data[:10])  # so clicks still land on cells


def test_z_sliders_change_the_decoded_digit(real_data):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    first = at.get("image")[0].proto.imgs[0].url
    at.slider(key="grid_z1").set_value(1.0)
    at.slider(key="grid_z2").set_value(-2.0).run()
    assert not at.exception
    assert at.markdown[0].value == "### z = (+1.00, -2.00)"
    assert at.get("image")[0].proto.imgs[0].url != first


def test_download_is_the_grid_as_png():
    # the bytes the download button serves (AppTest does not expose a download's payload)
    _, png = cache.grid_picture(ModelKey.of(DEFAULT_CHECKPOINT), 10, -3.0, 3.0)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size[0] == img.size[1] >= 1000 and img.size[0] % 280 == 0


def test_without_mnist_the_grid_works_and_the_overlay_says_why_not(no_mnist):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert not at.error
    assert n_cells(figure(at)) == 400
    assert at.toggle(key="grid_overlay").disabled
    why = " ".join(c.value for c in at.caption)
    assert "Overlay unavailable" in why and vc.DATA_ENV in why and vc.DOWNLOAD_COMMAND in why


def test_a_model_with_a_1d_latent_space_is_explained_not_crashed_on(no_mnist, tmp_path):
    path = vc.save_checkpoint(tmp_path / "line.pt", vc.VAE(vc.ModelConfig(latent_dim=1, hidden=(16,))))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[CHOSEN] = ModelKey.of(path)
    at.run()
    assert not at.exception, at.exception
    assert "1-D latent space" in at.warning[0].value and "line" in at.warning[0].value
    assert not at.get("plotly_chart")


# ------------------------------------------------------------------------------------------------- the page's link


def opened(query: dict | None = None) -> AppTest:
    return links.opened(PAGE, query, timeout=60)


def test_a_link_opens_its_grid_and_its_chosen_z(real_data):
    at = opened({"grid": "8", "extent": "1.5", "z1": "1.25", "z2": "-2", "overlay": "true"})
    fig = figure(at)
    assert n_cells(fig) == 64 and fig["layout"]["xaxis"]["range"] == pytest.approx([-1.5 - 1.5 / 7, 1.5 + 1.5 / 7])
    assert len(fig["data"]) == 11  # the overlay's ten classes and the cells
    assert at.markdown[0].value == "### z = (+1.25, -2.00)"
    assert not at.toast


def test_the_view_goes_into_the_link_and_the_link_gives_the_same_view(real_data):
    at = opened()
    assert at.query_params == {"model": "default", "grid": "20", "extent": "3.0", "z1": "0.0", "z2": "0.0",
                               "overlay": "false"}  # every field, defaults too
    at.slider(key="grid_size").set_value(12)
    at.slider(key="grid_extent").set_value(4.5).run()
    at.slider(key="grid_z1").set_value(-0.37)
    at.slider(key="grid_z2").set_value(2.5).run()  # a fragment's rerun, as a click on a cell: the link follows
    assert {k: at.query_params[k] for k in ("grid", "extent", "z1", "z2")} == {"grid": "12", "extent": "4.5",
                                                                               "z1": "-0.37", "z2": "2.5"}
    again = opened(dict(at.query_params))
    assert [again.slider(key=k).value for k in ("grid_size", "grid_extent", "grid_z1", "grid_z2")] == [12, 4.5, -0.37, 2.5]
    assert again.markdown[0].value == at.markdown[0].value == "### z = (-0.37, +2.50)"
    assert again.get("image")[0].proto.imgs[0].url == at.get("image")[0].proto.imgs[0].url  # the same picture
    assert picture(figure(again)).tobytes() == picture(figure(at)).tobytes()


def test_bad_parameters_give_the_defaults_with_one_notice_each(real_data):
    at = opened({"grid": "abc", "extent": "nan", "z1": "99", "z2": "0.5", "overlay": "maybe", "model": "gone"})
    assert len(at.toast) == 5 and all("showing the default" in t.value for t in at.toast)
    assert [at.slider(key=k).value for k in ("grid_size", "grid_extent", "grid_z1", "grid_z2")] == [20, 3.0, 0.0, 0.5]
    assert at.markdown[0].value == "### z = (+0.00, +0.50)"  # the good parameter is kept
    assert at.query_params["grid"] == "20" and at.query_params["model"] == "default"  # the link now names the view


def test_the_copy_link_button_gives_the_link_of_the_chosen_z(real_data):
    at = opened({"z1": "1.5"})
    at.slider(key="grid_z2").set_value(-1.0).run()
    at.session_state["url_state_copy_decoder_grid"] = True
    at.run()
    (code,) = at.get("code")
    assert code.value == ("http://localhost:8501/decoder_grid?model=default&grid=20&extent=3.0&z1=1.5&z2=-1.0"
                          "&overlay=false")
