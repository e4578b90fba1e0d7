"""The live training across a room's workers (explorer/training/live_board.py): a training one worker runs is read by
another, frame and all; its end is seen; a worker that died, a damaged or foreign file and the worker's own job are
not shown as someone else's; a second worker cannot start a training beside it; the film page of any worker draws it."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.training import live_board
from explorer.training.form import TrainingRequest
from explorer.training.job import TrainingAlreadyRunning, TrainingJob
from explorer.training.live_board import FOLDER, STALE_SECONDS, LiveBoard, board_id, shown_status
from explorer.training.status import JobStatus
from tests.app.helpers import array

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "film.py")

# Another worker: publishes a job's status (and a frame of 300 digits) to the board in `folder`, as the training
# thread of that worker does.
PUBLISH = textwrap.dedent("""
    import sys, zlib, numpy as np
    from explorer.training.status import JobStatus, LiveFrame
    from explorer.training.live_board import LiveBoard
    folder, state, index, started = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    rng = np.random.default_rng(index)
    frame = LiveFrame(index, 10 * index, f"step {10 * index} of epoch 1", rng.normal(size=(300, 2)).astype(np.float16),
                      np.arange(300) % 10, zlib.compress(np.full(336 * 336, index, np.uint8).tobytes()))
    LiveBoard(folder).publish(JobStatus(job_id=1, state=state, name="elsewhere", epoch=1, epochs=3, fraction=0.25,
                                        running_loss=180.5, history=[{"epoch": 1, "train_loss": 190.0,
                                        "test_loss": 185.0, "test_images": 2000, "lr": 0.01}], started=started,
                                        film=frame), force=True)
""")


def publish_from_another_process(folder: Path, state: str = "running", index: int = 3, started: float = 1.0):
    subprocess.run([sys.executable, "-c", PUBLISH, str(folder), state, str(index), str(started)], cwd=ROOT,
                   check=True, timeout=60)


def status_file(folder: Path) -> dict:
    return json.loads((folder / live_board.STATUS).read_text())


def test_another_workers_training_is_read_with_its_frame_and_its_end(tmp_path):
    publish_from_another_process(tmp_path, index=3)
    s = LiveBoard(tmp_path).read()
    assert s.active and s.state == "running" and s.name == "elsewhere" and (s.epoch, s.epochs) == (1, 3)
    assert s.job_id == board_id(status_file(tmp_path)["token"]) and s.job_id > 2**40  # never a worker's own counter
    assert s.history == [{"epoch": 1.0, "train_loss": 190.0, "test_loss": 185.0, "test_images": 2000.0}]
    expected = np.random.default_rng(3).normal(size=(300, 2)).astype(np.float16)
    assert s.film.index == 3 and s.film.step == 30 and s.film.caption == "step 30 of epoch 1"
    assert np.array_equal(s.film.means, expected) and list(s.film.labels[:12]) == [*range(10), 0, 1]
    assert not s.film.means.flags.writeable and (s.film.grid_picture() == 3).all()

    publish_from_another_process(tmp_path, state="succeeded", index=3)
    ended = LiveBoard(tmp_path).read()
    assert not ended.active and ended.state == "succeeded" and ended.job_id == s.job_id


def test_one_read_of_the_files_is_shared_until_they_change(tmp_path):
    publish_from_another_process(tmp_path, index=1)
    board = LiveBoard(tmp_path)
    first, again = board.read(), board.read()
    assert again.film is first.film  # the same arrays for every session of the worker: not parsed again
    publish_from_another_process(tmp_path, index=2)
    assert board.read().film.index == 2


def test_a_job_no_longer_rewritten_while_it_ran_counts_as_ended(tmp_path):
    publish_from_another_process(tmp_path)
    written = status_file(tmp_path)["written"]
    assert LiveBoard(tmp_path, clock=lambda: written + STALE_SECONDS - 1).read().active
    assert LiveBoard(tmp_path, clock=lambda: written + STALE_SECONDS + 1).read() is None  # its worker died


def test_this_workers_own_job_is_not_read_back_as_anothers(tmp_path):
    board = LiveBoard(tmp_path)
    board.publish(JobStatus(job_id=1, state="running", name="mine", epochs=2, started=5.0))
    assert status_file(tmp_path)["name"] == "mine"
    assert board.read() is None


@pytest.mark.parametrize("damage", ["not json", "unknown state", "pickled frame", "huge frame", "bad grid"])
def test_a_damaged_or_foreign_board_is_ignored_without_running_anything(tmp_path, damage):
    publish_from_another_process(tmp_path)
    status, frame = tmp_path / live_board.STATUS, tmp_path / live_board.FRAME
    marker = tmp_path / "ran"
    if damage == "not json":
        status.write_text("{running")
    elif damage == "unknown state":
        status.write_text(json.dumps({**status_file(tmp_path), "state": "exploded"}))
    elif damage == "pickled frame":
        class Bomb:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))
        np.savez(frame, means=np.array([Bomb()], dtype=object), labels=np.zeros(1, np.int64),
                 grid=np.zeros(1, np.uint8), meta=np.zeros(1, np.uint8))
    elif damage == "huge frame":
        frame.write_bytes(b"\0" * (live_board.MAX_FRAME_BYTES + 1))
    else:
        with np.load(frame, allow_pickle=False) as npz:
            arrays = dict(npz)
        np.savez(frame, **{**arrays, "grid": np.frombuffer(b"not zlib", np.uint8)})
    s = LiveBoard(tmp_path).read()
    if damage in ("not json", "unknown state"):
        assert s is None
    else:
        assert s.active and s.film is None  # the status stands, its frame is not drawn
    assert not marker.exists()


def test_the_shown_training_is_this_workers_while_it_runs_else_the_rooms_latest(tmp_path):
    board = LiveBoard(tmp_path)
    mine_running = JobStatus(job_id=1, state="running", started=200.0)
    mine_done_before = JobStatus(job_id=1, state="succeeded", started=50.0)
    mine_done_after = JobStatus(job_id=1, state="succeeded", started=300.0)
    publish_from_another_process(tmp_path, state="running", started=100.0)
    assert shown_status(mine_running, board) is mine_running
    assert shown_status(mine_done_before, board).state == "running"  # another worker's running job
    publish_from_another_process(tmp_path, state="succeeded", started=100.0)
    assert shown_status(mine_done_before, board).name == "elsewhere"  # it ended after this worker's last one
    assert shown_status(mine_done_after, board) is mine_done_after
    assert shown_status(mine_done_before, None) is mine_done_before  # a single user: no board


def test_a_worker_does_not_start_a_training_while_another_worker_runs_one(tmp_path):
    publish_from_another_process(tmp_path / "board")
    job = TrainingJob(board=lambda: LiveBoard(tmp_path / "board"))
    request = TrainingRequest("second", vc.ModelConfig(hidden=(16,)), vc.TrainConfig(epochs=1, train_subset=1000))
    with pytest.raises(TrainingAlreadyRunning, match="'elsewhere', epoch 1/3, 25% done"):
        job.start(request, directory=tmp_path / "ckpts")
    assert not job.snapshot().active and not (tmp_path / "ckpts").exists()


def test_a_real_training_publishes_its_frames_and_its_end(tmp_path, real_data):
    board = LiveBoard(tmp_path / "board")
    job = TrainingJob(board=lambda: board)
    request = TrainingRequest("published", vc.ModelConfig(hidden=(32,)),
                              vc.TrainConfig(epochs=2, train_subset=1000, test_subset=1000, snapshot_size=200))
    job.start(request, directory=tmp_path / "ckpts", evaluate_subset=1000)
    status = job.wait(timeout=120)
    assert status.state == "succeeded", status.message
    written, film = status_file(tmp_path / "board"), vc.load_checkpoint(status.path).snapshots
    assert written["state"] == "succeeded" and written["name"] == "published"
    assert written["frame"] == len(film["steps"]) - 1  # its last frame, as the checkpoint's film ends
    assert [round(h["epoch"]) for h in written["history"]] == [1, 2]
    with np.load(tmp_path / "board" / live_board.FRAME, allow_pickle=False) as npz:
        assert npz["means"].shape == (200, 2) and npz["labels"].shape == (200,)
        assert json.loads(npz["meta"].tobytes())["index"] == written["frame"]


def test_the_film_page_of_any_worker_draws_another_workers_training_live(monkeypatch, real_data):
    monkeypatch.setenv("VAE_PRESENTER_TOKEN", "t" * 32)  # room mode, the audience's view
    publish_from_another_process(Path(os.environ["VAE_ROOM_DATA_DIR"]) / FOLDER, index=4)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("Live: `elsewhere` is training" in h.value for h in at.subheader)
    live = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert live["layout"]["title"]["text"] == "step 40 of epoch 1"
    drawn = np.concatenate([array(t["x"], float) for t in live["data"][:10]])
    assert len(drawn) == 300 and np.allclose(np.sort(drawn), np.sort(
        np.random.default_rng(4).normal(size=(300, 2)).astype(np.float16)[:, 0].astype(float)), atol=1e-3)


def test_a_student_who_watched_a_training_live_is_told_when_it_is_saved(monkeypatch, real_data):
    monkeypatch.setenv("VAE_PRESENTER_TOKEN", "t" * 32)  # room mode, the audience's view
    board = Path(os.environ["VAE_ROOM_DATA_DIR"]) / FOLDER
    started = time.time()  # later than any training this process ran before (the page shows the room's latest)
    publish_from_another_process(board, index=2, started=started)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert any("Live: `elsewhere` is training" in h.value for h in at.subheader) and not at.success
    publish_from_another_process(board, state="succeeded", index=2, started=started)
    at.run()  # the page's poll: the training it showed has ended, and the page reruns
    assert not at.exception, at.exception
    assert not any("Live:" in h.value for h in at.subheader)
    assert [m.value for m in at.success] == [
        "`elsewhere` is trained and saved: pick it in the sidebar's model picker to play its film."]
    at.run()
    assert not at.success  # told once
