"""The large figures are built once per model and view and reused by every rerun and every session (explorer.cache.
figures): a click costs no rebuild of a map or a grid, and what Streamlit serialises of them is made once too. The
digit pictures those pages show are encoded once as well (explorer.cache.digit_pictures)."""
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from explorer.cache import figures as figure_cache
from explorer.cache import holes as holes_cache
from explorer.cache import models as cache_models
from explorer.render import figures
from explorer.render.figures import digit_scatter, frozen, posterior_closeup
from tests.app.helpers import strip_cells

PAGES = Path(__file__).resolve().parents[2] / "pages"


def counted_calls(monkeypatch, module, names: dict[str, str]) -> dict[str, int]:
    """From now on, how often `module` calls each of its functions named in `names` (function -> what it counts)."""
    made = dict.fromkeys(names.values(), 0)
    for function, counted in names.items():
        original = getattr(module, function)

        def call(*args, _original=original, _counted=counted, **kwargs):
            made[_counted] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, function, call)
    return made


@pytest.fixture
def builds(monkeypatch):
    """How often the figure cache called each builder; the caches start empty."""
    counts = counted_calls(monkeypatch, figure_cache, {name: name for name in ("decoder_grid_figure", "digit_scatter")})
    for cached in (figure_cache.decoder_grid, figure_cache._latent_map, figure_cache._latent_map_with_region,
                   figure_cache.interpolation_map):
        cached.clear()
    return counts


def specs(at: AppTest) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def test_the_decoder_grid_is_built_once_for_every_rerun_and_session(real_data, builds):
    first = AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=90).run()
    assert not first.exception, first.exception
    assert builds["decoder_grid_figure"] == 1
    before = specs(first)
    first.slider(key="grid_z1").set_value(1.5).run()  # what a click on a cell does: new z, same grid
    second = AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=90).run()
    assert builds["decoder_grid_figure"] == 1
    assert specs(first) == before == specs(second)
    first.slider(key="grid_size").set_value(8).run()  # another view is another figure
    assert builds["decoder_grid_figure"] == 2


def test_a_click_on_the_latent_map_rebuilds_neither_map(real_data, builds):
    first = AppTest.from_file(str(PAGES / "latent_map.py"), default_timeout=120).run()
    assert not first.exception, first.exception
    assert builds["digit_scatter"] == 2  # the VAE map and the PCA map
    maps = specs(first)[:2]
    first.session_state["latent_selected"] = 1234  # what a click on test digit 1234 stores
    first.run()
    second = AppTest.from_file(str(PAGES / "latent_map.py"), default_timeout=120).run()
    assert builds["digit_scatter"] == 2
    assert specs(first)[:2] == maps == specs(second)[:2]
    first.toggle(key="latent_show_prior").set_value(False).run()  # the VAE map without its circles: a new figure
    assert builds["digit_scatter"] == 3


def test_the_holes_figures_are_built_once_for_every_rerun_and_session(real_data, monkeypatch):
    builds = counted_calls(monkeypatch, holes_cache, {"density_images": "densities", "hole_map": "hole_map"})
    holes_cache.holes_density_figures.clear()
    holes_cache.holes_map_figure.clear()
    first = AppTest.from_file(str(PAGES / "holes.py"), default_timeout=300).run()
    assert not first.exception, first.exception
    assert builds == {"densities": 1, "hole_map": 1}
    before = specs(first)
    first.run()
    second = AppTest.from_file(str(PAGES / "holes.py"), default_timeout=300).run()
    assert builds == {"densities": 1, "hole_map": 1}
    assert specs(first) == before == specs(second)
    first.select_slider(key="holes_tau").set_value(0.5).run()  # another threshold: another hole map, same heatmaps
    assert builds == {"densities": 1, "hole_map": 2}
    first.toggle(key="holes_log_scale").set_value(False).run()
    assert builds == {"densities": 2, "hole_map": 2}


def test_a_map_built_on_every_run_takes_its_class_labels_places_made_once_per_model(real_data, monkeypatch):
    # Repair (and Compare) build their map on every run; the class labels' places are the same for every run and
    # session of a model, so they are made once (explorer.cache.class_label_places), not on each rerun
    cache_models.class_label_places.clear()
    placed = counted_calls(monkeypatch, cache_models, {"label_places": "cached"})
    placed |= counted_calls(monkeypatch, figures, {"label_places": "in the figure"})
    first = AppTest.from_file(str(PAGES / "repair.py"), default_timeout=300).run()
    assert not first.exception, first.exception
    first.run()
    second = AppTest.from_file(str(PAGES / "repair.py"), default_timeout=300).run()
    assert not second.exception, second.exception
    assert placed == {"cached": 1, "in the figure": 0}, placed
    notes = [a for a in json.loads(specs(second)[0])["layout"]["annotations"] if a.get("name", "").startswith("class")]
    assert len(notes) == 10, notes


def test_a_frozen_figure_serialises_as_the_figure_it_was():
    rng = np.random.default_rng(0)
    fig = digit_scatter(rng.normal(size=(500, 2)), rng.integers(0, 10, 500), title="map")
    expected = pio.to_json(fig, validate=False)
    shared = frozen(fig)
    assert isinstance(shared, figures.FrozenFigure)
    assert shared.to_dict() is shared.to_dict()  # made once, not a deep copy per st.plotly_chart
    assert pio.to_json(shared, validate=False) == expected


def test_the_closeup_built_without_validation_is_a_valid_plotly_figure():
    rng = np.random.default_rng(1)
    codes, labels = rng.normal(size=(2000, 2)), rng.integers(0, 10, 2000)
    fig = posterior_closeup(codes, labels, 7, np.array([0.1, 0.05]))
    validated = go.Figure(fig.to_dict())  # raises on a property Plotly does not know
    assert json.loads(pio.to_json(fig)) == json.loads(pio.to_json(validated))
    assert len(validated.layout.shapes) == 2 and validated.layout.xaxis.title.text == "z₁"


def test_the_overview_makes_its_curves_and_digits_once_for_every_rerun_and_session(real_data, monkeypatch):
    from explorer.cache import overview

    made = counted_calls(monkeypatch, overview, {"loss_curves": "curves", "digit": "digits"})
    for cached in (overview.overview_curves, overview.overview_digits, overview.overview_prior_samples):
        cached.clear()
    first = AppTest.from_file(str(PAGES / "overview.py"), default_timeout=90).run()
    assert not first.exception, first.exception
    assert made == {"curves": 1, "digits": 30}  # ten test digits, their reconstructions, ten prior samples
    images = [uri for uri, _ in strip_cells(first)]
    assert len(images) == 30 and all(uri.startswith("data:image/png") for uri in images)
    first.run()
    second = AppTest.from_file(str(PAGES / "overview.py"), default_timeout=90).run()
    assert made == {"curves": 1, "digits": 30}
    assert [uri for uri, _ in strip_cells(second)] == images
    second.number_input(key="overview_prior_seed").set_value(1).run()  # other samples: ten new pictures only
    assert made == {"curves": 1, "digits": 40}


@pytest.fixture
def encoded(monkeypatch):
    """How many digit pictures and strips explorer.cache.digit_pictures encoded; its caches start empty."""
    from explorer.cache import digit_pictures

    made = counted_calls(monkeypatch, digit_pictures, {"digit": "digits", "strip": "strips"})
    for cached in (digit_pictures.test_digit_picture, digit_pictures.reconstruction_picture,
                   digit_pictures.decoded_picture, digit_pictures.interpolation_strips,
                   digit_pictures.interpolation_frame):
        cached.clear()
    return made


def pictures(at: AppTest) -> list[str]:
    """Every st.image's picture of the run (its URL: here a data URI), in page order."""
    return [picture.url for img in at.get("image") for picture in img.proto.imgs]


def test_the_interpolation_encodes_its_pictures_once_for_every_rerun_and_session(real_data, encoded):
    first = AppTest.from_file(str(PAGES / "interpolation.py"), default_timeout=90).run()
    assert not first.exception, first.exception
    assert encoded == {"digits": 4, "strips": 2}  # A and B, the frame at t and its blend; the two strips
    shown = pictures(first)
    assert len(shown) == 6 and all(url.startswith("data:image/png") for url in shown)
    t = first.slider(key="interp_t").value
    first.slider(key="interp_t").set_value(0.73).run()  # another frame: its two pictures only
    assert encoded == {"digits": 6, "strips": 2}
    first.slider(key="interp_t").set_value(t).run()
    second = AppTest.from_file(str(PAGES / "interpolation.py"), default_timeout=90).run()
    assert encoded == {"digits": 6, "strips": 2}
    assert pictures(first) == shown == pictures(second)


def test_the_decoder_grid_and_the_latent_map_encode_a_chosen_digit_once_for_every_session(real_data, encoded):
    sessions = [AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=90).run() for _ in range(2)]
    assert encoded["digits"] == 1  # the cell at the default z, shared by both
    for at in sessions:
        at.slider(key="grid_z1").set_value(1.5).run()  # what a click on a cell does: a new z
    assert encoded["digits"] == 2
    assert pictures(sessions[0]) == pictures(sessions[1])
    maps = [AppTest.from_file(str(PAGES / "latent_map.py"), default_timeout=120) for _ in range(2)]
    for at in maps:
        at.session_state["latent_selected"] = 1234  # what a click on test digit 1234 stores
        at.run()
        assert not at.exception, at.exception
    assert encoded["digits"] == 4  # the test digit and its reconstruction, once
    assert pictures(maps[0])[:2] == pictures(maps[1])[:2]


def test_the_maps_grid_closeup_and_curves_leave_room_for_their_axes_so_the_browser_draws_them_once():
    """With Plotly's automargin the browser draws a chart, finds its tick labels need more margin than given and
    draws it again; these figures set margins wide enough instead, and turn automargin off on every axis."""
    rng = np.random.default_rng(2)
    codes, labels = rng.normal(size=(500, 2)), rng.integers(0, 10, 500)
    history = [{"epoch": e, **{f"{s}_loss": 150.0 - e for s in ("train", "test")}} for e in (1, 2, 3)]
    built = {
        "latent map": digit_scatter(codes, labels, title="map"),
        "scored map": digit_scatter(codes, labels, values=rng.normal(size=500), value_name="score"),
        "decoder grid": figures.decoder_grid_figure("data:image/png;base64,", 10, (-3.0, 3.0)),
        "close-up": posterior_closeup(codes, labels, 3, np.array([0.1, 0.2])),
        "loss curves": figures.loss_curves(history),
    }
    for name, fig in built.items():
        layout = go.Figure(fig.to_dict()).layout
        assert layout.xaxis.automargin is False and layout.yaxis.automargin is False, name
        assert layout.margin.l >= 60 and layout.margin.b >= 60, name


def test_loss_curves_say_when_the_early_test_figures_are_on_a_sample():
    rows = [{"epoch": e, "train_loss": 150.0 - e, "test_loss": 151.0 - e, "test_images": n}
            for e, n in ((1, 2000), (2, 2000), (3, 10_000))]
    sampled = figures.loss_curves(rows).data[1]
    assert "2,000 digits until the last epoch" in sampled.name and list(sampled.customdata) == [2000, 2000, 10_000]
    whole = figures.loss_curves([{**r, "test_images": 10_000} for r in rows]).data[1]
    assert whole.name == "test" and whole.customdata is None
