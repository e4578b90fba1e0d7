"""The shared computations' results on disk (explorer/cache/result_store.py, through explorer/cache/jobs.py): computed
once for every worker process of a room, read back safely, recomputed when damaged, bounded, never written for a
failed job. Small fake computations only: the real scoring of the 10,000 test digits takes minutes."""
from __future__ import annotations

import itertools
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import vae_core as vc
from explorer.cache import jobs, result_store
from explorer.model.choice import ModelKey
from explorer.page.job_progress import status

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 180.0  # seconds a condition may take on a busy machine (two Python processes importing torch)

# One process asking for a job: it notes each computation in COUNT, holds it until RELEASE exists when told to, and
# prints whenever it sees the job computed by another worker, then the result.
ASKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    import numpy as np
    from explorer.cache import jobs, result_store

    mode, count, release = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    result_store.register("test doubled", result_store.SCORES)

    def compute(progress):
        with open(count, "a") as f:
            f.write(f"{os.getpid()}\\n")
        while mode == "hold" and not release.exists():
            progress(1, 2)
            time.sleep(0.05)
        return {"values": np.arange(5, dtype=np.float64) * 2}

    seen = set()

    def on_update(job):
        state = (job.elsewhere, job.done, job.total)
        if job.elsewhere and state not in seen:
            seen.add(state)
            print("elsewhere", job.done, job.total, flush=True)

    job = jobs.submit(("test doubled", "same settings", 3), "Doubling", compute)
    print("result", json.dumps(jobs.wait(job, on_update, poll=0.05)["values"].tolist()), flush=True)
""")


class Asker:
    """A second Python process asking for the job; its printed lines are read as they come."""

    def __init__(self, mode: str, room: Path, count: Path, release: Path):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "VAE_ROOM_DATA_DIR": str(room)}
        self.proc = subprocess.Popen([sys.executable, "-c", ASKER, mode, str(count), str(release)], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line.strip()) for line in self.proc.stdout],
                         daemon=True).start()

    def wait_for_line(self, starts: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith(starts):
                return line
        raise AssertionError(f"no line starting {starts!r} within {DEADLINE} s (exit code {self.proc.poll()})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}"
        time.sleep(0.05)


def computations(count: Path) -> list[str]:
    return count.read_text().split() if count.exists() else []


@pytest.fixture
def askers(tmp_path):
    made = []

    def start(mode: str) -> Asker:
        made.append(Asker(mode, tmp_path / "room-data", tmp_path / "count", tmp_path / "release"))
        return made[-1]
    yield start
    for asker in made:
        asker.stop()


def test_two_processes_asking_for_the_same_job_compute_it_once_and_both_get_its_result(askers, tmp_path):
    first = askers("hold")
    wait_until(lambda: len(computations(tmp_path / "count")) == 1, "the first process computing")
    second = askers("quick")
    assert second.wait_for_line("elsewhere 1 2")  # waits for the first, showing how far it is
    (tmp_path / "release").touch()
    results = first.wait_for_line("result"), second.wait_for_line("result")
    assert results[0] == results[1] == "result [0.0, 2.0, 4.0, 6.0, 8.0]"
    assert computations(tmp_path / "count") == [str(first.proc.pid)]


def test_a_killed_computing_process_lets_another_process_take_over(askers, tmp_path):
    first = askers("hold")
    wait_until(lambda: len(computations(tmp_path / "count")) == 1, "the first process computing")
    second = askers("quick")
    second.wait_for_line("elsewhere")
    first.proc.send_signal(signal.SIGKILL)  # dies holding the lock: the OS releases it
    assert second.wait_for_line("result") == "result [0.0, 2.0, 4.0, 6.0, 8.0]"
    assert computations(tmp_path / "count") == [str(first.proc.pid), str(second.proc.pid)]
    assert not list((tmp_path / "room-data" / result_store.SUBFOLDER).glob("*.progress.json"))


# ------------------------------------------------------------------------------------------------ in one process

_kinds = itertools.count()


@pytest.fixture
def job():
    """A fresh kind of job kept on disk as score vectors, and a compute that counts its calls."""
    kind = f"test kind {next(_kinds)}"
    result_store.register(kind, result_store.SCORES)
    calls = []

    def compute(progress):
        calls.append(1)
        return {"a": np.linspace(0, 1, 7), "b": np.full(7, 3.5)}
    yield (kind, "settings", 1), compute, calls
    jobs.forget(lambda key: key[0] == kind)


def run_fresh(key, compute):
    """The job's result as a process that has not run it would get it: this process's finished jobs forgotten."""
    jobs.forget(lambda k: k == key)
    return jobs.run(key, "A test job", compute)


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_a_result_survives_forgetting_this_processs_jobs_by_loading_it_from_disk(job):
    key, compute, calls = job
    first = run_fresh(key, compute)
    again = run_fresh(key, compute)
    assert calls == [1]
    assert_same(first, again)
    assert jobs.is_done(key) and jobs.find(key).state == jobs.DONE


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "foreign", "pickled objects", "bad values"])
def test_a_damaged_or_foreign_result_file_is_ignored_and_computed_again(job, damage, tmp_path):
    key, compute, calls = job
    first = run_fresh(key, compute)
    path = result_store.entry(key).path
    marker = tmp_path / "unpickled"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "garbage":
        path.write_bytes(os.urandom(3000))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":  # a valid result of another key, copied over this one
        other = (key[0], "other settings", 2)
        run_fresh(other, compute)
        shutil.copyfile(result_store.entry(other).path, path)
        calls.pop()
    elif damage == "pickled objects":  # an object array whose unpickling would write the marker file
        np.savez(path, a=np.array([Marker(str(marker))], dtype=object), allow_pickle=True)
    else:  # the right key, but not score vectors
        entry = result_store.entry(key)
        np.savez(path, a=np.zeros((2, 2)), __key__=np.frombuffer(entry.key_text.encode(), dtype=np.uint8))
    again = run_fresh(key, compute)
    assert calls == [1, 1]
    assert_same(first, again)
    assert not marker.exists()
    assert_same(result_store.entry(key).load(), first)  # written over with a good one


class Marker:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path(self.path).touch, ())


def test_nothing_is_written_for_a_failed_job_and_it_may_be_submitted_again(job):
    key, compute, calls = job

    def fail(progress):
        progress(1, 4)
        raise ValueError("no digits today")
    with pytest.raises(ValueError, match="no digits today"):
        run_fresh(key, fail)
    folder = result_store.entry(key).folder
    assert not list(folder.glob("*.npz")) and not list(folder.glob("*.progress.json"))
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert jobs.find(key).state == jobs.FAILED
    assert_same(jobs.run(key, "A test job", compute), compute(None))


def test_the_folder_keeps_only_the_most_recently_used_results(job, monkeypatch):
    kind, _, _ = job[0]
    _, compute, _ = job
    monkeypatch.setattr(result_store, "MAX_RESULTS", 3)
    keys = [(kind, "settings", i) for i in range(4)]
    for i, key in enumerate(keys[:3]):
        run_fresh(key, compute)
        os.utime(result_store.entry(key).path, (1000 + i, 1000 + i))  # made in this order, seconds apart
    run_fresh(keys[0], compute)  # read again: now the most recently used...
    run_fresh(keys[3], compute)  # ...so a fourth result evicts the second, the least recently used
    stored = {p.stem for p in result_store.entry(keys[0]).folder.glob("*.npz")}
    assert stored == {result_store.entry(keys[i]).name for i in (0, 2, 3)}


def test_the_size_cap_evicts_results_too(job, monkeypatch):
    kind, _, _ = job[0]
    _, compute, _ = job
    run_fresh((kind, "settings", 0), compute)
    size = result_store.entry((kind, "settings", 0)).path.stat().st_size
    monkeypatch.setattr(result_store, "MAX_BYTES", int(size * 1.5))
    run_fresh((kind, "settings", 1), compute)
    assert [p.stem for p in result_store.entry((kind, "settings", 1)).folder.glob("*.npz")] == [
        result_store.entry((kind, "settings", 1)).name]


def test_a_results_key_on_disk_is_the_checkpoints_content_not_its_path(tmp_path):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    a.write_bytes(b"weights" * 100)
    shutil.copyfile(a, b)
    same = [result_store.stable_key(("iwae", ModelKey.of(p), 10)) for p in (a, b)]
    assert same[0] == same[1] is not None
    assert result_store.stable_key(("iwae", ModelKey.of(a), 100)) != same[0]  # the settings count
    key_a = ModelKey.of(a)
    b.write_bytes(b"other weights")
    assert result_store.stable_key(("iwae", ModelKey.of(b), 10)) != same[0]
    a.write_bytes(b"rewritten")
    os.utime(a, (key_a.mtime + 5, key_a.mtime + 5))
    assert result_store.stable_key(("iwae", key_a, 10)) is None  # a key of the file's former content: not stored


def test_results_are_never_kept_inside_the_checkpoint_folder(job, tmp_path, monkeypatch):
    key, compute, calls = job
    monkeypatch.setenv(vc.settings.CHECKPOINT_DIR_ENV, str(tmp_path / "ckpts"))
    monkeypatch.setenv("VAE_ROOM_DATA_DIR", str(tmp_path / "ckpts" / "room"))
    assert result_store.entry(key) is None
    assert_same(run_fresh(key, compute), compute(None))  # computed in this process, as before
    assert not (tmp_path / "ckpts").exists()


def test_the_anomaly_fit_and_iwae_results_read_back_as_they_were_computed():
    from explorer.cache import anomaly_scores, comparison  # noqa: F401 -- registers their kinds

    fit = result_store._codecs[anomaly_scores.FIT_JOB]
    complexity = vc.Complexity(levels=5, weight=0.25)
    assert fit.decode(fit.encode(complexity)) == complexity
    with pytest.raises(ValueError):
        fit.decode({"levels": np.int64(1000), "weight": np.float64(0.5)})
    number = result_store._codecs[comparison.IWAE_JOB]
    assert number.decode(number.encode(87.25)) == 87.25
    with pytest.raises(ValueError):
        number.decode({"value": np.float64(np.nan)})
    by_set = result_store.SCORES_BY_SET
    scores = {"letters": {"iwae": np.arange(3.0)}, "noise": {"iwae": np.arange(4.0)}}
    decoded = by_set.decode(by_set.encode(scores))
    assert decoded.keys() == scores.keys() and all(np.array_equal(decoded[s]["iwae"], scores[s]["iwae"])
                                                   for s in scores)


def test_a_job_computed_by_another_worker_says_so_with_its_progress():
    job = jobs.Job(("iwae", "model", 10), "IWAE (k = 10) on the 10,000 test digits", None, state=jobs.RUNNING,
                   done=2500, total=10_000, started=time.monotonic(), elsewhere=True)
    fraction, text = status(job)
    assert fraction == 0.25
    assert "computing in another worker of this room" in text and "2,500 of 10,000" in text


def test_pickle_is_what_the_damaged_file_test_would_run(tmp_path):
    """The 'pickled objects' file above is a real threat: unpickled, it writes its marker (so its absence there
    means the loader never unpickled it)."""
    marker = tmp_path / "unpickled"
    pickle.loads(pickle.dumps(Marker(str(marker))))
    assert marker.exists()
