"""The navigation script (navigation.py) and the overview page in AppTest: renders, widgets change what is shown,
works without MNIST, and a page that stops keeps the sidebar drawn after it."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.model.choice import CHOSEN, ModelKey
from explorer.render.palette import DIGIT_COLOURS
from tests.app.helpers import strip_cells

ROOT = Path(__file__).resolve().parents[2]

APP = str(ROOT / "navigation.py")  # the Streamlit script app.py serves
OVERVIEW = str(ROOT / "pages" / "overview.py")


def test_the_app_opens_on_the_overview_with_the_sidebar(real_data):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("Variational autoencoder")
    assert [h.value for h in at.header] == ["Training curves", "Test digits and their reconstructions",
                                            "Samples from the prior"]
    assert at.selectbox(key="sidebar_checkpoint").value.endswith("default.pt")
    assert any("test −ELBO" in m.value for m in at.sidebar.markdown)
    assert [e.label for e in at.sidebar.expander] == ["Train a new model"]
    assert not at.sidebar.get("form_submit_button")  # the training form is built only once its expander opens
    cells = strip_cells(at)
    assert len(cells) == 30  # 10 test digits, 10 reconstructions, 10 prior samples
    assert all(uri.startswith("data:image/png;base64,") for uri, _ in cells)
    assert [bool(caption) for _, caption in cells] == [True] * 10 + [False] * 10 + [True] * 10  # none on the recons
    assert len(at.latex) >= 3
    assert not at.sidebar.get("plotly_chart")  # the page's own charts are the first the browser draws
    (key,) = [h for h in at.sidebar.get("html") if "digit-colour-key" in h.proto.body]
    assert [key.proto.body.index(f"background:{c}") for c in DIGIT_COLOURS] == sorted(
        key.proto.body.index(f"background:{c}") for c in DIGIT_COLOURS)  # the ten colours the maps use, 0 to 9


def captions_of(at: AppTest) -> list[str]:
    return [caption for _, caption in strip_cells(at)]


def test_overview_widgets_change_what_is_shown(real_data):
    at = AppTest.from_file(OVERVIEW, default_timeout=60).run()
    assert not at.exception, at.exception
    first = captions_of(at)
    assert [c for c in first if "#" in c][:2] == ["0  (#3)", "1  (#2)"]  # one of each digit

    curves = at.get("plotly_chart")[0].proto.spec
    at.radio(key="overview_curve_term").set_value("KL").run()
    assert at.get("plotly_chart")[0].proto.spec != curves and "KL" in at.get("plotly_chart")[0].proto.spec

    at.toggle(key="overview_one_each").set_value(False).run()
    at.number_input(key="overview_start").set_value(20).run()
    assert not at.exception
    shown = [c for c in captions_of(at) if "#" in c]
    assert shown[0].endswith("(#20)") and shown[-1].endswith("(#29)") and len(shown) == 10

    prior = [c for c in captions_of(at) if c.startswith("(")]
    at.number_input(key="overview_prior_seed").set_value(7).run()
    assert len(prior) == 10 and [c for c in captions_of(at) if c.startswith("(")] != prior


def test_overview_without_mnist_still_shows_curves_and_prior_samples(no_mnist):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    message = " ".join(w.value for w in at.warning)
    assert vc.DATA_ENV in message and vc.DOWNLOAD_COMMAND in message
    assert len(strip_cells(at)) == 10  # the prior samples: decoder only
    assert len(at.main.get("plotly_chart")) == 1  # curves come from the checkpoint


def one_d_model(directory) -> ModelKey:
    path = vc.save_checkpoint(directory / "line.pt", vc.VAE(vc.ModelConfig(latent_dim=1, hidden=(16,))),
                              vc.TrainConfig(epochs=1), history=[], metrics={"test_loss": 400.0})
    return ModelKey.of(path)


def test_a_model_with_a_1d_latent_space_has_an_overview_too(no_mnist, tmp_path):
    at = AppTest.from_file(OVERVIEW, default_timeout=60)
    at.session_state[CHOSEN] = one_d_model(tmp_path)  # what the sidebar stores when it is picked
    at.run()
    assert not at.exception, at.exception
    cells = strip_cells(at)
    assert len(cells) == 10  # ten prior samples, each captioned with its one coordinate
    assert all(caption.count(",") == 0 for _, caption in cells)


def test_a_page_that_stops_keeps_the_sidebar_drawn_after_it(no_mnist):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/latent_map.py")  # it stops: MNIST is missing
    at.run()
    assert not at.exception, at.exception
    assert any("MNIST is not available" in e.value for e in at.main.error)
    assert at.selectbox(key="sidebar_checkpoint").value.endswith("default.pt")  # the picker the visitor needs next
    assert [e.label for e in at.sidebar.expander] == ["Train a new model"]


def test_a_deskewing_model_says_so_where_the_vae_is_explained(no_mnist, tmp_path):
    path = vc.save_checkpoint(tmp_path / "upright.pt", vc.VAE(vc.ModelConfig(hidden=(16,), deskew=True)))
    at = AppTest.from_file(OVERVIEW, default_timeout=60)
    at.session_state[CHOSEN] = ModelKey.of(path)
    at.run()
    assert not at.exception, at.exception
    assert "This model deskews" in " ".join(m.value for m in at.markdown)
    at.session_state[CHOSEN] = one_d_model(tmp_path)  # a model that does not: not a word of it
    at.run()
    assert "deskews" not in " ".join(m.value for m in at.markdown)
