"""Compare page in AppTest, on the shipped default.pt and beta4.pt: one table with a column per model and a row per
figure (stored figures read, the rest computed, the better value starred), IWAE computed on demand, both latent maps
on the same axes, prior samples from the same z, and clear messages where a view cannot be drawn."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import explorer.model.files
import vae_core as vc
from explorer import cache
from tests.app import links
from tests.app.helpers import run_without_mnist, strip_cells
from vae_core.comparison import active_units, iwae_nll
from vae_core.metrics import trust
from vae_core.settings import CHECKPOINT_DIR_ENV, DEFAULT_CHECKPOINT, SHIPPED_DIR

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "compare.py")
BETA4 = SHIPPED_DIR / "beta4.pt"


@pytest.fixture
def models(monkeypatch, tmp_path) -> None:
    """The page lists the shipped default and beta4, with the figures the CLI stored in them (not conv, and no
    trained model)."""
    monkeypatch.setattr(explorer.model.files, "COMPARISON_CHECKPOINTS", (BETA4,))
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path / "trained"))


@pytest.fixture(scope="module")
def unscored_beta4(tmp_path_factory) -> Path:
    """beta4's model without the figures the CLI stored in it, as a model trained in the app's sidebar: its figures
    are computed by the page. Made once for the module, so the page's caches hit across tests."""
    ckpt = vc.load_checkpoint(BETA4)
    return vc.save_checkpoint(tmp_path_factory.mktemp("trained") / "beta4.pt", ckpt.model, ckpt.train_config,
                              ckpt.history)


@pytest.fixture
def unscored(unscored_beta4, monkeypatch) -> Path:
    """The page lists the shipped default (its stored figures) and the unscored beta4 (a trained model)."""
    monkeypatch.setattr(explorer.model.files, "COMPARISON_CHECKPOINTS", ())
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(unscored_beta4.parent))
    return unscored_beta4


def tiny_3d() -> vc.VAE:
    """A random tiny VAE with a 3-D latent (no shipped model has one)."""
    torch.manual_seed(2)
    return vc.VAE(vc.ModelConfig(hidden=(32,), latent_dim=3)).eval()


def page(k: int | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    if k is not None:
        at.select_slider(key="compare_iwae_k").set_value(k).run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest):
    return at.table[0].value


def row(at: AppTest, name: str) -> list[str]:
    text = next(text for n, text, _ in vc.COMPARED_FIGURES if n == name)
    (label,) = [i for i in table(at).index if i.startswith(text)]
    return list(table(at).loc[label])


def samples(at: AppTest) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(caption, image url) of each prior sample: model A's row, then model B's."""
    shown = [(caption, uri) for uri, caption in strip_cells(at)]
    return shown[:len(shown) // 2], shown[len(shown) // 2:]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


# ------------------------------------------------------------------------------------------------------ the table


def test_the_table_has_a_column_per_model_and_a_row_per_figure(real_data, models):
    at = page()
    df = table(at)
    assert not at.dataframe  # a static table, whose cells wrap to a phone's width (a data grid's scroll sideways)
    assert list(df.columns) == ["A: default (shipped)", "B: beta4 (shipped)"]  # the sidebar's model, then beta4
    for _, text, _ in vc.COMPARED_FIGURES:
        assert sum(label.startswith(text) for label in df.index) == 1, text
    assert any(label.startswith("Var of E[z_u | x]") for label in df.index)


def test_stored_figures_are_shown_as_stored_and_the_rest_is_computed(real_data, unscored):
    at = page()
    stored = vc.load_checkpoint(DEFAULT_CHECKPOINT).metrics  # what the CLI stored for A on the 10,000 test digits
    assert row(at, "test_loss")[0].removesuffix(" ★") == f"{stored['test_loss']:.2f}"
    assert row(at, "knn_accuracy")[0].removesuffix(" ★") == f"{stored['vae_knn_accuracy']:.4f}"
    test_x, test_y = cache.mnist("test")
    b = vc.load_checkpoint(unscored).model
    elbo = vc.per_image_elbo(b, test_x)
    assert row(at, "test_loss")[1].removesuffix(" ★") == f"{elbo['loss'].mean():.2f}"
    assert row(at, "test_kl")[1] == f"{elbo['kl'].mean():.2f}"  # KL has no better side: never starred
    assert row(at, "trustworthiness")[1].removesuffix(" ★") == f"{trust(test_x, vc.encode(b, test_x)[0]):.4f}"
    a = vc.load_checkpoint(DEFAULT_CHECKPOINT).model
    assert row(at, "active_units") == [f"{active_units(vc.encode(m, test_x)[0])[0]} of 2" for m in (a, b)]


def test_the_better_value_of_each_row_is_starred(real_data, models):
    at = page()
    for name, better in (("test_loss", min), ("trustworthiness", max)):
        values = [float(cell.removesuffix(" ★")) for cell in row(at, name)]
        assert values[0] != values[1], name
        assert [cell.endswith(" ★") for cell in row(at, name)] == [v == better(values) for v in values], name


# ------------------------------------------------------------------------------------------------------------ IWAE


def test_iwae_is_computed_on_demand_for_the_model_without_one_and_kept_for_other_sessions(real_data, unscored):
    stored = vc.load_checkpoint(DEFAULT_CHECKPOINT).metrics
    at = page(k=stored["iwae_k"])  # A's stored k (1000): shown as stored; B has none
    assert row(at, "iwae_nll") == [f"{stored['iwae_nll']:.2f}", "not computed"]
    assert at.button(key="compare_iwae_button").label == f"Compute IWAE (k = {stored['iwae_k']}) for B: beta4"
    at = page(k=10)  # a few samples, computed for both in a minute
    assert at.button(key="compare_iwae_button").label == "Compute IWAE (k = 10) for A: default (shipped) and B: beta4"
    at.button(key="compare_iwae_button").click().run()
    assert not at.exception, at.exception
    value = float(row(at, "iwae_nll")[1].removesuffix(" ★"))
    test_x = cache.mnist("test")[0]
    assert value == pytest.approx(iwae_nll(vc.load_checkpoint(unscored).model, test_x, 10), abs=0.5)  # other draws
    for model in (0, 1):  # IWAE is the tighter bound
        assert float(row(at, "iwae_nll")[model].removesuffix(" ★")) <= float(
            row(at, "test_loss")[model].removesuffix(" ★")) + 0.5
    fresh = page(k=10)  # another session: the values are there, no button
    assert row(fresh, "iwae_nll") == row(at, "iwae_nll")
    assert not [b for b in fresh.button if b.key == "compare_iwae_button"]


def test_an_iwae_stored_with_another_k_is_not_shown_for_this_k(real_data, models):
    at = page(k=100)
    assert row(at, "iwae_nll") == ["not computed", "not computed"]
    assert at.button(key="compare_iwae_button").label == (
        "Compute IWAE (k = 100) for A: default (shipped) and B: beta4 (shipped)")


# ------------------------------------------------------------------------------------------- maps, grids, samples


def test_both_latent_maps_share_their_axis_ranges_and_cover_both_models(real_data, models):
    at = page()
    maps = [c for c in charts(at) if c["data"] and c["data"][0].get("type") == "scattergl"]
    assert len(maps) == 2
    assert maps[0]["layout"]["xaxis"]["range"] == maps[1]["layout"]["xaxis"]["range"]
    assert maps[0]["layout"]["yaxis"]["range"] == maps[1]["layout"]["yaxis"]["range"]
    test_x = cache.mnist("test")[0]
    a, b = (vc.encode(vc.load_checkpoint(f).model, test_x)[0] for f in (DEFAULT_CHECKPOINT, BETA4))
    codes = np.concatenate([a, b])
    (x0, x1), (y0, y1) = maps[0]["layout"]["xaxis"]["range"], maps[0]["layout"]["yaxis"]["range"]
    assert x0 <= codes[:, 0].min() and codes[:, 0].max() <= x1 and y0 <= codes[:, 1].min() and codes[:, 1].max() <= y1
    # the two models' codes span different extents, so at least one map's axes were widened to the other's
    assert a.max() > b.max() or a.min() < b.min() or b.max() > a.max() or b.min() < a.min()
    grids = [c for c in charts(at) if c["layout"].get("images")]
    assert len(grids) == 2 and grids[0]["layout"]["xaxis"]["range"] == grids[1]["layout"]["xaxis"]["range"]


def test_prior_samples_use_the_same_z_for_both_models_and_new_ones_on_request(real_data, models):
    at = page()
    a, b = samples(at)
    assert len(a) == len(b) == 10 and [c for c, _ in a] == [c for c, _ in b]  # the same z...
    z, _ = vc.sample_prior(vc.load_checkpoint(DEFAULT_CHECKPOINT).model, 10, seed=0)
    assert a[0][0] == f"z = ({z[0, 0]:+.2f}, {z[0, 1]:+.2f})"
    assert all(url_a != url_b for (_, url_a), (_, url_b) in zip(a, b, strict=True))  # ... through two decoders
    at.button(key="compare_new_samples").click().run()
    assert not at.exception
    new_a, new_b = samples(at)
    assert [c for c, _ in new_a] != [c for c, _ in a] and [c for c, _ in new_a] == [c for c, _ in new_b]


# ------------------------------------------------------------------------------------------------- the page's link


def opened(query: dict) -> AppTest:
    return links.opened(PAGE, query)


def test_the_two_models_go_into_the_link_and_the_link_gives_the_same_pair(real_data, models):
    at = page()
    assert (at.query_params["a"], at.query_params["b"]) == ("default", "beta4")
    swapped = opened({"model": "default", "a": "beta4", "b": "default"})
    assert list(table(swapped).columns) == ["A: beta4 (shipped)", "B: default (shipped)"] and not swapped.toast
    assert dict(swapped.query_params) == {"model": "default", "a": "beta4", "b": "default"}
    assert table(opened(dict(swapped.query_params))).equals(table(swapped))


def test_a_model_the_link_names_but_this_server_lacks_falls_back_to_the_default_pair(real_data, models):
    at = opened({"a": "beta4", "b": "conv"})  # no conv here
    assert list(table(at).columns) == ["A: beta4 (shipped)", "B: default (shipped)"]
    (notice,) = at.toast
    assert "`b=conv`" in notice.value and "not a known model" in notice.value
    assert at.query_params["b"] == "default"


# --------------------------------------------------------------------------------------------------- the messages


def test_a_model_without_a_2d_latent_is_explained_and_still_in_the_table(real_data, models, tmp_path, monkeypatch):
    three_d = vc.save_checkpoint(tmp_path / "three_d.pt", tiny_3d())  # a model trained in the app
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["compare_model_b"] = str(three_d)
    at.run()
    assert not at.exception, at.exception
    assert list(table(at).columns) == ["A: default (shipped)", "B: three_d"]
    assert row(at, "active_units")[1].endswith(" of 3")
    assert any("3-D latent space" in i.value for i in at.info)
    assert sum(1 for c in charts(at) if c["data"] and c["data"][0].get("type") == "scattergl") == 1  # A's map only
    a, b = samples(at)  # samples still drawn, from draws of different sizes
    assert len(b) == 10 and b[0][0].endswith(", …)") and not a[0][0].endswith(", …)")


def test_with_only_one_model_the_page_says_so(models, monkeypatch, tmp_path):
    monkeypatch.setattr(explorer.model.files, "COMPARISON_CHECKPOINTS", ())  # the default alone
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))  # no model trained
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("Only one model is available" in i.value for i in at.info)
    assert not at.table and not at.get("plotly_chart")


def test_without_mnist_the_page_says_what_is_missing(models, no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.table


def test_a_deskewing_model_is_flagged_its_elbo_being_of_each_digit_given_its_slant(real_data, models, tmp_path,
                                                                                   monkeypatch):
    torch.manual_seed(3)
    upright = vc.save_checkpoint(tmp_path / "upright.pt", vc.VAE(vc.ModelConfig(hidden=(32,), deskew=True)).eval())
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["compare_model_b"] = str(upright)
    at.run()
    assert not at.exception, at.exception
    (notice,) = [i.value for i in at.info if "deskews" in i.value]
    assert notice.startswith("**B: upright deskews:**") and "given its slant" in notice
    for name in ("test_loss", "test_reconstruction", "iwae_nll"):  # not comparable: no star on either side
        assert not any(cell.endswith("★") for cell in row(at, name)), name
    assert any(cell.endswith("★") for cell in row(at, "knn_accuracy"))
    at.session_state["compare_model_b"] = str(BETA4)  # two models that code their digits' slant: nothing to flag
    at.run()
    assert not [i for i in at.info if "deskews" in i.value]
