"""What one student can send, in AppTest (issue 16, part 1): pictures bounded before decoding and decoded once, heavy
computations shared by the whole server and started only by the presenter in room mode, no folder in the picker's
help, wrong presenter tokens limited, map selections bounded to what a person draws and to digits that exist, and
slider values off their step used as the step's value. (What a browser cannot send -- protocol messages, oversized
uploads, the canvas's websocket message, a flood of new views -- is tests/test_protocol_guards.py; the presenter link
in Chromium is tests/browser/test_hostile_in_browser.py.)"""
import base64
import io
import json
import math
import random
import threading
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from PIL import GifImagePlugin, Image, ImageDraw
from streamlit.testing.v1 import AppTest

import explorer.model.choice
import explorer.model.files
import explorer.model.picker
import vae_core as vc
from explorer import cache
from explorer.cache import jobs
from explorer.model.choice import CHOSEN, ModelKey
from explorer.model.picker import PICKER
from explorer.render.clicks import MAX_OUTLINES, MAX_VERTICES
from explorer.room import launcher, roles
from tests.app.helpers import figures, open_training_form, send_selection
from vae_core.settings import CHECKPOINT_DIR_ENV, TOKEN_ENV

PAGES = Path(__file__).resolve().parents[2] / "pages"
SIDEBAR = str(Path(__file__).with_name("sidebar_app.py"))
TOKEN = "a-presenter-token-of-24ch"


def png(image: Image.Image, fmt: str = "PNG", **save) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **save)
    return buf.getvalue()


def seven(size: int) -> Image.Image:
    im = Image.new("L", (size, size), 0)
    ImageDraw.Draw(im).line([(size // 4, size // 5), (3 * size // 4, size // 5), (size // 2, 4 * size // 5)],
                            fill=255, width=max(2, size // 12))
    return im


def send_canvas(at: AppTest, data: bytes) -> AppTest:
    """The canvas's widget state as a client sends it: its JSON and a PNG data URL (any PNG the client likes)."""
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    at.session_state["draw_canvas_0"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url},
                                         "backgroundFit": None}
    return at.run()


def send_upload(at: AppTest, data: bytes, name: str = "digit.png") -> AppTest:
    at.get("file_uploader")[0].set_value((name, data, "image/png"))
    return at.run()


@pytest.fixture
def draw_page(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(str(PAGES / "draw.py"), default_timeout=300).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def opened_pictures(monkeypatch) -> list[int]:
    """The byte length of every picture Pillow opens from now on (a decode starts with an open)."""
    seen, real_open = [], Image.open

    def counting_open(fp, *args, **kwargs):
        if isinstance(fp, io.BytesIO):
            seen.append(len(fp.getbuffer()))
        return real_open(fp, *args, **kwargs)
    monkeypatch.setattr(Image, "open", counting_open)
    return seen


# ---- 1 and 5: pictures bounded before decoding, decoded once

def test_a_canvas_picture_larger_than_the_canvas_is_refused_from_its_header(draw_page, monkeypatch):
    huge = png(Image.new("1", (6000, 6000)))  # a few kB of PNG, 36 megapixels once decoded
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda im: decoded.append(im.size) or real_load(im))
    send_canvas(draw_page, huge)
    assert not draw_page.exception, draw_page.exception
    message = " ".join(e.value for e in draw_page.error)
    assert "The drawing cannot be used" in message and "too large" in message
    assert (6000, 6000) not in decoded  # refused from the header: no pixel decoded
    assert "drawn_digit" not in draw_page.session_state


def test_the_same_canvas_picture_is_decoded_once_however_often_the_page_reruns(draw_page, opened_pictures):
    drawing = png(seven(280).convert("RGBA"), optimize=True)
    send_canvas(draw_page, drawing)
    for _ in range(3):
        draw_page.run()
    assert not draw_page.exception, draw_page.exception
    assert "drawn_digit" in draw_page.session_state
    assert opened_pictures.count(len(drawing)) == 1


def test_a_canvas_value_longer_than_the_canvas_can_send_is_refused_by_its_length_at_every_rerun(draw_page,
                                                                                                  monkeypatch):
    """18 MB of base64 (under Streamlit's message limit) stays in the widget state; each rerun refuses it by its
    length, without decoding it (b64decode) or hashing it (sha256) again."""
    import base64 as b64
    import hashlib

    decoded, hashed = [], []
    real_decode, real_sha = b64.b64decode, hashlib.sha256
    monkeypatch.setattr(b64, "b64decode", lambda data, *a, **k: decoded.append(len(data)) or real_decode(data, *a, **k))
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"", *a, **k: hashed.append(len(data)) or real_sha(data, *a, **k))
    send_canvas(draw_page, b"\0" * (18 * 2**20 // 4 * 3))
    for _ in range(2):
        draw_page.run()
    assert not draw_page.exception, draw_page.exception
    assert "larger than this canvas's largest picture" in " ".join(e.value for e in draw_page.error)
    assert max(decoded, default=0) < 2**20 and max(hashed, default=0) < 2**20  # the 18 MB never decoded or hashed
    assert "drawn_digit" not in draw_page.session_state


def test_an_upload_of_4096_by_4096_pixels_is_refused_before_decoding(draw_page):
    send_upload(draw_page, png(Image.new("1", (4096, 4096))))
    message = " ".join(e.value for e in draw_page.error)
    assert "digit.png cannot be used" in message and "too large" in message


def test_an_animated_upload_is_refused_without_reading_its_frames(draw_page, monkeypatch):
    frames = [Image.new("L", (8, 8), i % 2 * 255) for i in range(2000)]
    gif = png(frames[0], "GIF", save_all=True, append_images=frames[1:])
    seeks = []
    real_seek = GifImagePlugin.GifImageFile.seek
    monkeypatch.setattr(GifImagePlugin.GifImageFile, "seek", lambda im, frame: seeks.append(frame) or real_seek(im, frame))
    send_upload(draw_page, gif)
    assert "animated" in " ".join(e.value for e in draw_page.error)
    assert max(seeks, default=0) < 10  # the first frames, never all 2,000


def test_an_upload_is_decoded_once_however_often_the_page_reruns(draw_page, opened_pictures):
    photo = png(seven(1500).convert("RGB"))  # larger than the digit needs, but within the limits
    send_upload(draw_page, photo, "seven.png")
    for _ in range(3):
        draw_page.run()
    assert not draw_page.exception, draw_page.exception
    assert draw_page.session_state["drawn_digit_from"] == "seven.png"
    assert opened_pictures.count(len(photo)) == 1


# ---- 3: heavy computations shared by the server, started by the presenter

def tiny(seed: int) -> vc.VAE:
    torch.manual_seed(seed)
    return vc.VAE(vc.ModelConfig(hidden=(32,))).eval()


@pytest.fixture(scope="module")
def tiny_metrics(real_data, tmp_path_factory) -> dict[int, dict]:
    """Per tiny model's seed, the figures a trained checkpoint stores (`python -m vae_core train` stores them too),
    measured once for the module: the Compare page reads them rather than spending ~15 s per model and test on the
    5-NN accuracy over the training set and the trustworthiness. The IWAE, what these tests are about, is left out."""
    (test_x, test_y), train = cache.mnist("test"), cache.mnist("train")
    metrics = {}
    for seed in (0, 1):
        path = vc.save_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.pt", tiny(seed))
        fig = vc.model_figures(vc.load_checkpoint(path), test_x, test_y, 0, train=train, compute_iwae=False)
        metrics[seed] = {"n_test": len(test_x), "vae_knn_accuracy": fig["knn_accuracy"],
                         "vae_trustworthiness": fig["trustworthiness"],
                         **{name: fig[name] for name in ("test_loss", "test_reconstruction", "test_kl")}}
    return metrics


@pytest.fixture
def two_models(tmp_path, monkeypatch, tiny_metrics) -> tuple[Path, Path]:
    """A tiny default and a tiny trained model with their stored figures, new for each test (so no shared job of
    another test applies)."""
    default, other = tmp_path / "default.pt", tmp_path / "trained" / "other.pt"
    vc.save_checkpoint(default, tiny(0), metrics=tiny_metrics[0])
    vc.save_checkpoint(other, tiny(1), metrics=tiny_metrics[1])
    for module in (explorer.model.files, explorer.model.choice, explorer.model.picker):
        monkeypatch.setattr(module, "DEFAULT_CHECKPOINT", default)
    monkeypatch.setattr(explorer.model.files, "COMPARISON_CHECKPOINTS", (), raising=False)
    monkeypatch.setattr(cache.anomaly_scores, "DEFAULT_CHECKPOINT", default)
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(other.parent))
    return default, other


def compare_page(k: int = 10) -> AppTest:
    at = AppTest.from_file(str(PAGES / "compare.py"), default_timeout=300).run()
    at.select_slider(key="compare_iwae_k").set_value(k).run()
    assert not at.exception, at.exception
    return at


def iwae_row(at: AppTest) -> list[str]:
    table = at.table[0].value
    (label,) = [i for i in table.index if i.startswith("IWAE")]
    return list(table.loc[label])


def test_the_audience_cannot_start_an_iwae_and_is_told_the_presenter_can(real_data, two_models, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = compare_page()
    assert not [b for b in at.button if b.key == "compare_iwae_button"]
    assert any("The presenter can compute it" in i.value for i in at.info)
    assert iwae_row(at) == ["not computed", "not computed"]
    assert jobs.find(cache.comparison.iwae_job(ModelKey.of(two_models[0]), 10)) is None


def test_two_sessions_asking_for_the_same_iwae_share_one_computation(real_data, two_models, monkeypatch):
    """Session A asks; session B opens the page while A's IWAE runs: B offers no second computation but waits for
    the same one, and each part of the test digits is computed once."""
    calls, release, waiting = [], threading.Event(), []
    real_iwae, real_wait = vc.iwae_log_likelihood, jobs.wait

    def counted(model, images, k=1000, seed=0, **kw):
        calls.append((id(model), seed))
        release.wait(120)  # holds the shared job at its first part until B waits for it too
        return real_iwae(model, images, k=k, seed=seed, **kw)

    def noted_wait(job, *args, **kwargs):
        waiting.append(job)
        return real_wait(job, *args, **kwargs)
    monkeypatch.setattr(vc, "iwae_log_likelihood", counted)
    monkeypatch.setattr(jobs, "wait", noted_wait)
    a, b = compare_page(), compare_page()
    thread_a = threading.Thread(target=lambda: a.button(key="compare_iwae_button").click().run(), name="session A")
    thread_a.start()
    while len(waiting) < 1:  # A's page waits for its job...
        thread_a.join(0.05)
    thread_b = threading.Thread(target=b.run, name="session B")
    thread_b.start()
    while len(waiting) < 2:  # ...and B's page, opened meanwhile, for the same one
        thread_b.join(0.05)
    release.set()
    thread_a.join(300)
    thread_b.join(300)
    assert not a.exception and not b.exception, (a.exception, b.exception)
    assert iwae_row(a) == iwae_row(b) and "not computed" not in iwae_row(a)
    assert not [x for x in b.button if x.key == "compare_iwae_button"]
    assert waiting[0] is waiting[1]  # the same job
    n_parts = len(cache.mnist("test")[0]) // cache.comparison.IWAE_PART
    assert len(calls) == len(set(calls)) == 2 * n_parts  # each part of each model's IWAE, once


def test_a_computed_iwae_survives_clearing_every_cache(real_data, two_models):
    at = compare_page()
    at.button(key="compare_iwae_button").click().run()
    assert "not computed" not in iwae_row(at)
    st.cache_data.clear()  # what a client's clear_cache does (outside room mode)
    st.cache_resource.clear()
    assert iwae_row(compare_page()) == iwae_row(at)


def test_the_audience_cannot_start_scoring_another_model(real_data, cheap_anomaly_scores, two_models, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    other = ModelKey.of(two_models[1])
    for page in ("anomalies.py", "latent_map.py"):
        at = AppTest.from_file(str(PAGES / page), default_timeout=300)
        at.session_state[CHOSEN] = other
        at.run()
        if page == "latent_map.py":
            at.selectbox(key="latent_colour_by").set_value("corrected").run()
        assert not at.exception, at.exception
        assert any("The presenter can compute it" in i.value for i in at.info), page
    assert cache.anomaly_scores.needs_fit(other)  # nothing was fitted...
    assert all(jobs.find(job_key) is None for job_key, _, _ in cache.anomaly_scores.needed(other))  # ...or queued


def test_the_presenter_starts_scoring_another_model_once_for_everyone(real_data, cheap_anomaly_scores, two_models,
                                                                      monkeypatch):
    monkeypatch.setattr(cache.anomaly_scores, "N_VALIDATION", 300)
    monkeypatch.setattr(cache.anomaly_scores, "N_VALIDATION_PROBES", 30)
    other = ModelKey.of(two_models[1])
    at = AppTest.from_file(str(PAGES / "anomalies.py"), default_timeout=300)
    at.session_state[CHOSEN] = other
    at.run()  # outside room mode every session presents
    assert not at.exception, at.exception
    assert at.dataframe  # the AUROC table: scored
    assert cache.anomaly_scores.needed(other) == []
    monkeypatch.setattr(vc, "anomaly_scores", lambda *a, **k: pytest.fail("scored twice"))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # an audience session now sees the same results
    again = AppTest.from_file(str(PAGES / "anomalies.py"), default_timeout=300)
    again.session_state[CHOSEN] = other
    again.run()
    assert not again.exception, again.exception
    assert again.dataframe[0].value.equals(at.dataframe[0].value)


# ---- 7: no folder in the picker's help

def test_the_model_pickers_help_names_no_folder(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = AppTest.from_file(SIDEBAR, default_timeout=60).run()
    help_text = at.selectbox(key=PICKER).help
    assert "/" not in help_text and str(explorer.model.files.checkpoint_dir().name) not in help_text.split()


# ---- 9: the token's length and wrong guesses

def test_the_room_command_refuses_a_short_token(capsys):
    with pytest.raises(SystemExit):
        launcher.plan(["--token", "short-token"], environ={})
    assert "at least 16 characters" in capsys.readouterr().err
    assert launcher.plan(["--token", TOKEN, "--host", "192.0.2.7"], environ={}).env[TOKEN_ENV] == TOKEN


@pytest.fixture
def clean_server_tries():
    roles.forget_wrong_tries()
    yield
    roles.forget_wrong_tries()


def typed(at: AppTest, token: str) -> AppTest:
    at.text_input(key="room_token").set_value(token)
    return at.button(key="FormSubmitter:room_token_form-Present").click().run()


def offers_training(at: AppTest) -> bool:
    open_training_form(at)  # the form is built only while its expander is open
    return "FormSubmitter:sidebar_train_form-Train" in {w.key for w in at.sidebar.get("form_submit_button")}


def test_wrong_tokens_are_limited_per_session_and_then_not_compared(monkeypatch, clean_server_tries):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = AppTest.from_file(SIDEBAR, default_timeout=60).run()
    for guess in range(roles.WRONG_PER_SESSION):
        typed(at, f"guess-number-{guess}-xxxxxxxx")
        assert any("not the presenter token" in c.value for c in at.sidebar.caption)
    typed(at, TOKEN)  # even the right one: nothing is compared until the minute has passed
    assert not offers_training(at)
    assert any("Too many wrong tokens" in c.value for c in at.sidebar.caption)


def test_wrong_tokens_are_limited_for_the_whole_server(monkeypatch, clean_server_tries):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    for guess in range(roles.WRONG_PER_SERVER):  # one guess per session: many tabs
        at = AppTest.from_file(SIDEBAR, default_timeout=60)
        at.query_params["presenter"] = f"guess-number-{guess}-xxxxxxxx"
        at.run()
    fresh = AppTest.from_file(SIDEBAR, default_timeout=60)
    fresh.query_params["presenter"] = TOKEN
    fresh.run()
    assert not offers_training(fresh)
    assert any("Too many wrong tokens" in c.value for c in fresh.sidebar.caption)
    roles.forget_wrong_tries()  # the minute has passed: the right token works again
    assert offers_training(typed(fresh, TOKEN))


# ---- selections on the maps: what a person can draw, of digits that exist

def selection(points=(), lassos=()) -> dict:
    """A plotly_chart selection as a client sends it: points with customdata [test index, label], lasso outlines."""
    return {"selection": {"points": [{"curve_number": 0, "point_number": 0, "point_index": 0, "x": x, "y": y,
                                      "customdata": {"0": index, "1": 0}} for index, x, y in points],
                          "point_indices": [0] * len(points), "box": [],
                          "lasso": [{"x": list(xs), "y": list(ys)} for xs, ys in lassos]}}


def outline_paths(fig: dict) -> list[str]:
    return [s["path"] for s in fig["layout"].get("shapes", []) if s["type"] == "path"]


@pytest.fixture
def latent_page(real_data):
    at = AppTest.from_file(str(PAGES / "latent_map.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def test_a_selection_of_1000_lassos_keeps_and_draws_only_a_persons_few(latent_page):
    rnd = random.Random(0)
    triangles = [([rnd.uniform(-3, 3) for _ in range(3)], [rnd.uniform(-3, 3) for _ in range(3)]) for _ in range(1000)]
    send_selection(latent_page, "latent_vae_chart_0", selection([(i, 0, 0) for i in range(50)], triangles))
    assert not latent_page.exception, latent_page.exception
    region = latent_page.session_state["latent_region"]
    assert region["indices"].tolist() == list(range(50))
    assert len(region["outlines"]) == MAX_OUTLINES
    assert len(outline_paths(figures(latent_page)[0])) == MAX_OUTLINES


def test_a_50k_point_lasso_is_kept_thinned_evenly_to_a_persons_few_hundred_points(latent_page):
    # ~2 MB of JSON: a larger message is refused by the server's 4 MB cap (.streamlit/config.toml), AppTest's too
    turn = np.linspace(0, 2 * math.pi, 50_000)
    xs, ys = np.cos(turn).tolist(), np.sin(turn).tolist()
    send_selection(latent_page, "latent_vae_chart_0", selection([(7, 0, 0)], [(xs, ys)]))
    assert not latent_page.exception, latent_page.exception
    ((kept_x, kept_y),) = latent_page.session_state["latent_region"]["outlines"]
    assert len(kept_x) == len(kept_y) == MAX_VERTICES
    assert (kept_x[0], kept_y[0], kept_x[-1], kept_y[-1]) == (xs[0], ys[0], xs[-1], ys[-1])  # its ends kept
    np.testing.assert_allclose(np.hypot(kept_x, kept_y), 1)  # still the circle drawn...
    assert np.ptp(np.diff(np.unwrap(np.arctan2(kept_y, kept_x)))) < 1e-3  # ...its points evenly along it
    (path,) = outline_paths(figures(latent_page)[0])
    assert path.count(" L ") == MAX_VERTICES - 1


NOT_A_DIGIT = [10**6, 1e300, -1, float("nan")]


@pytest.mark.parametrize("index", NOT_A_DIGIT, ids=repr)
def test_a_click_or_lasso_on_a_digit_that_does_not_exist_leaves_the_latent_map_usable(latent_page, index):
    at = send_selection(latent_page, "latent_vae_chart_0", selection([(index, 0, 0)]))
    assert not at.exception, at.exception
    assert "latent_selected" not in at.session_state  # nothing selected (-1 is not the last digit)
    send_selection(at, "latent_vae_chart_0", selection([(index, 0, 0)], [([0, 1, 1], [0, 0, 1])]))
    assert not at.exception, at.exception
    assert at.session_state["latent_region"]["indices"].tolist() == []
    assert not at.run().exception  # and every later run works


@pytest.mark.parametrize("index", NOT_A_DIGIT, ids=repr)
def test_a_click_on_a_digit_that_does_not_exist_leaves_the_interpolation_as_it_was(real_data, index):
    at = AppTest.from_file(str(PAGES / "interpolation.py"), default_timeout=120).run()
    ends = {k: at.session_state[k] for k in ("interp_a_digit", "interp_a_rank", "interp_click_sets")}
    send_selection(at, "interp_chart", selection([(index, 0, 0)]))
    assert not at.exception, at.exception
    assert {k: at.session_state[k] for k in ends} == ends
    assert not at.run().exception


@pytest.mark.parametrize("z1", [float("nan"), float("inf")], ids=repr)
def test_a_click_on_the_decoder_grid_at_no_finite_z_leaves_the_grid_as_it_was(real_data, z1):
    at = AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=120).run()
    z = at.session_state["grid_z1"], at.session_state["grid_z2"]
    send_selection(at, "grid_chart", selection([(0, z1, 0.5)]))
    assert not at.exception, at.exception
    assert (at.session_state["grid_z1"], at.session_state["grid_z2"]) == z
    assert not at.run().exception


# ---- slider values off their step: over the protocol any number in a slider's range is accepted, each a new view

def spy(monkeypatch, name: str) -> list[tuple]:
    """The arguments of every call the page makes to explorer.cache.<name> from now on."""
    calls, real = [], getattr(cache, name)

    def record(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, name, record)
    return calls


def test_an_off_step_extent_on_the_decoder_grid_is_used_as_the_sliders_nearest_step(monkeypatch):
    pictures, grids = spy(monkeypatch, "grid_picture"), spy(monkeypatch, "decoder_grid")
    at = AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=120).run()
    at.slider(key="grid_extent").set_value(2.3719).run()  # the slider offers 0.5, 1.0, ..., 6.0
    assert not at.exception, at.exception
    assert pictures[-1][1:] == (20, -2.5, 2.5) and grids[-1][1:4] == (20, -2.5, 2.5)


def test_an_off_step_z_on_the_decoder_grid_is_decoded_at_the_sliders_nearest_step(monkeypatch):
    decoded = spy(monkeypatch, "decoded_picture")
    at = AppTest.from_file(str(PAGES / "decoder_grid.py"), default_timeout=120).run()
    at.slider(key="grid_z1").set_value(1.234567)
    at.slider(key="grid_z2").set_value(-2.0049).run()  # steps of 0.01
    assert not at.exception, at.exception
    assert decoded[-1][1:3] == (1.23, -2.0)


@pytest.mark.parametrize("kind, key, sent, used", [("gaussian", "repair_sigma", 0.4123, 0.4),
                                                    ("salt_and_pepper", "repair_p", 0.2374, 0.25)])
def test_an_off_step_noise_level_on_the_repair_page_is_used_as_the_sliders_nearest_step(real_data, monkeypatch, kind,
                                                                                          key, sent, used):
    repairs = spy(monkeypatch, "repair")
    at = AppTest.from_file(str(PAGES / "repair.py"), default_timeout=300).run()
    at.radio(key="repair_kind").set_value(kind).run()
    at.slider(key=key).set_value(sent).run()  # steps of 0.05
    assert not at.exception, at.exception
    assert repairs[-1][2] == (kind, used)


def test_an_off_step_threshold_on_the_anomalies_page_is_used_as_the_sliders_nearest_step(real_data,
                                                                                         cheap_anomaly_scores):
    at = AppTest.from_file(str(PAGES / "anomalies.py"), default_timeout=300).run()
    slider = at.slider(key="anomalies_threshold_corrected")
    step, lo = slider.proto.step, slider.proto.min
    on_step = lo + 40 * step
    slider.set_value(on_step + 0.37 * step).run()
    assert not at.exception, at.exception
    (histogram,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "anomalies_histogram" in c.proto.id]
    assert histogram["layout"]["shapes"][0]["x0"] == pytest.approx(on_step, abs=1e-9)  # the threshold's line


def test_an_off_step_extent_on_the_compare_page_is_used_as_the_sliders_nearest_step(real_data, two_models,
                                                                                    monkeypatch):
    pictures = spy(monkeypatch, "grid_picture")
    at = compare_page()
    at.slider(key="compare_grid_extent").set_value(4.2).run()
    assert not at.exception, at.exception
    assert [call[1:] for call in pictures[-2:]] == [(15, -4.0, 4.0)] * 2  # both models' grids
