"""The training film page in AppTest: one animated figure (map, grid and loss cursor per frame, axes fixed over the
film, a slider labelled by the frames' captions), a clear message for a checkpoint without a film, and a sidebar
training's latest frame drawn live while it runs -- from a job that exposes only that frame."""
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.model.choice import CHOSEN, ModelKey
from explorer.model.files import checkpoint_dir
from explorer.render.palette import DIGIT_COLOURS
from explorer.training.form import TrainingRequest
from explorer.training.job import shared_job
from tests.app.helpers import array, stop

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "film.py")


@pytest.fixture(scope="module")
def film_run():
    """A real film of a tiny model on random blobs: 2 epochs of 32 steps -> frames at steps 0, 10, 30, 32, 64."""
    g = torch.Generator().manual_seed(0)
    data = ((torch.rand(256, 784, generator=g) > 0.7).float(), (torch.rand(64, 784, generator=g) > 0.7).float(),
            torch.randint(0, 10, (64,), generator=g))
    tc = vc.TrainConfig(epochs=2, batch_size=8, snapshot_size=40)
    return vc.train(vc.ModelConfig(hidden=(16,)), tc, data=data, show_bar=False), tc


def saved(result, tc, name: str, film: bool = True) -> Path:
    """The run saved into the test's checkpoint folder (VAE_CHECKPOINT_DIR, a tmp dir)."""
    return vc.save_checkpoint(checkpoint_dir() / f"{name}.pt", result.model, tc, result.history, {},
                              result.snapshots if film else {})


def run_page(path: Path) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[CHOSEN] = ModelKey.of(path)  # what the sidebar's picker stores
    at.run()
    assert not at.exception, at.exception
    return at


def specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_film_is_one_animation_of_map_grid_and_loss_cursor_with_a_captioned_slider(film_run):
    result, tc = film_run
    at = run_page(saved(result, tc, "filmed"))
    fig, = specs(at)
    film = result.snapshots
    assert len(fig["frames"]) == len(film["steps"]) == 5
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == [
        "untrained", "step 10 of epoch 1", "step 30 of epoch 1", "epoch 1", "epoch 2"]
    assert [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause", "▷ Resume"]
    digits = fig["data"][:10]
    assert [t["name"] for t in digits] == [str(d) for d in range(10)]
    assert [t["marker"]["color"] for t in digits] == list(DIGIT_COLOURS)
    labels = film["labels"].numpy()
    for f, frame in enumerate(fig["frames"]):
        means = film["means"][f].float().numpy()
        for d in range(10):  # frame f moves digit d's points to its means at that frame
            assert np.allclose(array(frame["data"][d]["x"], float), means[labels == d, 0])
            assert np.allclose(array(frame["data"][d]["y"], float), means[labels == d, 1])
        assert frame["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
        assert array(frame["data"][10]["x"], float) == pytest.approx([float(film["epochs"][f])] * 2)  # the loss cursor
        assert "xaxis" not in frame["layout"] and "yaxis" not in frame["layout"]  # axes fixed over the film
    assert len({frame["layout"]["images"][0]["source"] for frame in fig["frames"]}) == 5  # a grid per frame
    extent = fig["layout"]["xaxis"]["range"][1]
    assert fig["layout"]["xaxis"]["range"] == fig["layout"]["yaxis"]["range"] == [-extent, extent]
    assert extent >= np.abs(film["means"].float().numpy()).max()  # every frame's points inside the fixed axes
    assert fig["frames"][0]["data"][10]["x"] != fig["frames"][-1]["data"][10]["x"]
    # it opens on the last frame, the trained model's map, its grid and the cursor at the last epoch; Play starts
    # from the first frame and Resume from where it was paused
    assert fig["layout"]["sliders"][0]["active"] == 4
    assert all(array(fig["data"][d]["x"], float).tolist() == array(fig["frames"][-1]["data"][d]["x"], float).tolist()
               for d in range(10))
    assert fig["layout"]["images"][0]["source"] == fig["frames"][-1]["layout"]["images"][0]["source"]
    assert array(fig["data"][-1]["x"], float) == pytest.approx([float(film["epochs"][-1])] * 2)
    play, _, resume = (b["args"][1].get("fromcurrent") for b in fig["layout"]["updatemenus"][0]["buttons"])
    assert (play, resume) == (False, True)
    assert at.get("download_button")[0].proto.label.startswith("Training film as a GIF")


def test_a_checkpoint_without_a_film_says_so_clearly(film_run):
    result, tc = film_run
    at = run_page(saved(result, tc, "old-style", film=False))
    assert not at.get("plotly_chart") and not at.get("download_button")
    assert "old-style has no training film" in at.info[0].value
    assert "every training started there is filmed" in at.info[0].value


# -------------------------------------------------------------------------------------------------------- live


@pytest.fixture
def live_job(real_data):
    """A sidebar training (the process's shared job) with a film, long enough to be watched; cancelled at the end."""
    job = shared_job()
    request = TrainingRequest("live-film", vc.ModelConfig(hidden=(64, 32)),
                              vc.TrainConfig(epochs=200, train_subset=1000, test_subset=1000, snapshot_size=500))
    job.start(request)
    yield job
    stop(job)


def next_frame(job, after: int = -1, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = job.snapshot()
        if s.film is not None and s.film.index > after:
            return s
        assert s.active, s.message
        time.sleep(0.05)
    raise AssertionError(f"no film frame after #{after} within {timeout} s")


def test_a_running_training_exposes_only_its_latest_frame(live_job):
    first = next_frame(live_job).film
    second = next_frame(live_job, first.index).film
    assert second.index > first.index and second.step > first.step
    assert first.means.shape == (500, 2) and first.means.dtype == np.float16 and not first.means.flags.writeable
    assert second.labels is first.labels  # copied once per job, shared by every frame and every session
    assert not np.array_equal(first.means, second.means)
    assert second.grid_picture().shape == (336, 336) and second.grid_picture().dtype == np.uint8
    assert second.caption == vc.frame_caption({"steps": [second.step], "epochs": [second.step / 8]}, 0)


def test_the_page_draws_a_running_sidebar_training_live(live_job, film_run):
    result, tc = film_run
    next_frame(live_job, 1)  # a frame of the trained model, past the untrained one
    at = run_page(saved(result, tc, "shown"))
    assert any("Live: `live-film` is training" in h.value for h in at.subheader)
    live, stored = specs(at)  # the live frame above the stored film
    assert [t["name"] for t in live["data"][:10]] == [str(d) for d in range(10)]
    assert sum(len(array(t["x"], float)) for t in live["data"][:10]) == 500
    assert live["layout"]["title"]["text"].startswith(("step", "epoch"))
    half = live["layout"]["xaxis"]["range"][1]
    drawn = np.concatenate([array(t[axis], float) for t in live["data"][:10] for axis in ("x", "y")])
    assert live["layout"]["yaxis"]["range"] == [-half, half] and 4.0 <= half and np.abs(drawn).max() <= half
    assert any(c.startswith("Decoded grid over") for img in at.get("image") for c in img.captions)
    assert "frames" in stored
