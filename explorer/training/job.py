"""Retraining in a background thread: run vae_core.train on a TrainingRequest, publish the checkpoint without
overwriting anything -- one job at a time, per process and per checkpoint folder.

No Streamlit here: the server process has one job, `shared_job()` -- a module-level singleton, not a Streamlit cache
entry, so no cache clearing (any websocket client can send one) can make a second job run beside the first. A lock
file in the checkpoint folder (vae_core.training_lock) keeps a second server process or the CLI from training into the
same folder at once. The sidebar polls `snapshot()`; tests drive the same object directly. In a room, the job's
status goes to the room's board (explorer.training.live_board) for the other workers, and `room_status()` is what
this worker's pages show: its own job, or another worker's.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import vae_core as vc
from explorer.model.files import checkpoint_dir, trained_models
from explorer.training.form import FULL_TRAIN, TrainingRequest
from explorer.training.live_board import room_board, shown_status
from explorer.training.status import JobStatus, live_frame
from vae_core.settings import MAX_MODELS_ENV, TRAINING_ENV, max_models, training_enabled


class TrainingAlreadyRunning(RuntimeError):
    """Another training (from any browser session) is under way."""


class TrainingDisabled(RuntimeError):
    """This server runs with VAE_TRAINING=off."""


class ModelQuotaReached(RuntimeError):
    """The checkpoint folder holds VAE_MAX_MODELS app-trained models already."""


class NotYourTraining(PermissionError):
    """Only the session that started a training, or the presenter, may cancel it."""




class TrainingJob:
    """At most one training per process. `start` returns at once; the work runs in a daemon thread."""

    def __init__(self, board=None) -> None:
        """board: a callable giving the explorer.training.live_board.LiveBoard that this job's status is published to
        for a room's other workers, or None when nobody else watches (live_board.room_board: in room mode only)."""
        self._board = board or (lambda: None)
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._cancelled: set[int] = set()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> JobStatus:
        with self._lock:
            return replace(self._status, history=[dict(h) for h in self._status.history])

    def start(self, request: TrainingRequest, directory: Path | None = None, evaluate_subset: int = 0,
              owner: str = "") -> int:
        """Start training `request`; returns the job id. Raises TrainingAlreadyRunning if one is under way and
        ModelQuotaReached if the folder holds VAE_MAX_MODELS trained models already."""
        if not training_enabled():
            raise TrainingDisabled(f"training is off on this server ({TRAINING_ENV}=off)")
        directory = checkpoint_dir() if directory is None else Path(directory)
        board = self._board()
        other = board.read() if board is not None else None  # another worker of the room
        if other is not None and other.active:
            raise TrainingAlreadyRunning(f"a training is already running ({other.name!r}, epoch "
                                         f"{other.epoch}/{other.epochs}, {other.fraction:.0%} done); wait "
                                         "for it or cancel it")
        with self._lock:
            if self._status.active:
                s = self._status
                raise TrainingAlreadyRunning(f"a training is already running ({s.name!r}, epoch {s.epoch}/{s.epochs}, "
                                             f"{s.fraction:.0%} done); wait for it or cancel it")
            if len(trained_models(directory)) >= max_models():
                raise ModelQuotaReached(f"there are {max_models()} trained models already, the most this server keeps "
                                        f"({MAX_MODELS_ENV}); delete one first")
            job_id = self._status.job_id + 1
            self._status = JobStatus(job_id=job_id, state="running", name=request.name, owner=owner,
                                     epochs=request.train_config.epochs, started=time.time())
            self._thread = threading.Thread(target=self._run, args=(job_id, request, directory, evaluate_subset),
                                            name=f"vae-training-{job_id}", daemon=True)
            self._thread.start()
        self._publish()
        return job_id

    def cancel(self, job_id: int, by: str = "", presenter: bool = True) -> bool:
        """Ask training `job_id` to stop at its next progress report (nothing is saved). Only its owner (`by`) or
        the presenter may; a late click for a job that has ended does nothing (False), whatever runs next."""
        with self._lock:
            s = self._status
            if s.job_id != job_id or not s.active:
                return False
            if not presenter and by != s.owner:
                raise NotYourTraining("only the session that started this training, or the presenter, can cancel it")
            self._cancelled.add(job_id)
            return True

    def wait(self, timeout: float | None = None) -> JobStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.snapshot()

    def _update(self, job_id: int, **changes) -> None:
        with self._lock:
            if self._status.job_id != job_id:
                return
            for k, v in changes.items():
                setattr(self._status, k, v)
        self._publish()

    def _publish(self) -> None:
        board = self._board()
        if board is not None:
            board.publish(self.snapshot())

    def _finish(self, job_id: int, state: str, message: str, **changes) -> None:
        self._update(job_id, state=state, message=message, **changes)

    def _run(self, job_id: int, request: TrainingRequest, directory: Path, evaluate_subset: int) -> None:
        tc = request.train_config
        steps = math.ceil((tc.train_subset or FULL_TRAIN) / tc.batch_size)

        published = {"frames": 0, "labels": None}  # film frames handed to the sessions; the labels, copied once

        def progress(p: vc.Progress) -> bool:
            frame = {}
            if p.film is not None and len(p.film.steps) != published["frames"]:
                if published["labels"] is None:
                    published["labels"] = p.film.labels.numpy().copy()
                    published["labels"].flags.writeable = False
                frame["film"] = live_frame(p.film, published["labels"])
                published["frames"] = len(p.film.steps)
            self._update(job_id, epoch=p.epoch, fraction=p.fraction, running_loss=p.running_loss,
                         history=[dict(h) for h in p.history], **frame)
            return job_id not in self._cancelled

        path = directory / f"{request.name}.pt"
        kept = "nothing was saved, the previous model stays in use"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with vc.training_lock(directory):
                result = vc.train(request.model_config, tc, progress=progress, progress_every=max(1, steps // 40),
                                  show_bar=False)
                if job_id in self._cancelled:
                    raise vc.TrainingCancelled("training cancelled before saving")
                self._update(job_id, state="saving", fraction=1.0, history=[dict(h) for h in result.history])
                metrics, test_latents = self._evaluate_on_test(result.model, evaluate_subset)
                vc.save_checkpoint(path, result.model, tc, result.history, metrics, result.snapshots,
                                   command=f"trained in the app as {request.name!r}", test_latents=test_latents)
            last = result.history[-1]
            self._finish(job_id, "succeeded", f"Trained {request.name!r} in {result.seconds:.0f} s: "
                                              f"test −ELBO {last['test_loss']:.1f} nats/image.", path=str(path))
        except vc.TrainingCancelled as e:  # also the time budget (its message says how to raise it)
            self._finish(job_id, "cancelled", f"{str(e)[:1].upper()}{str(e)[1:]}; {kept}.")
        except vc.TrainingDiverged as e:
            self._finish(job_id, "failed", f"Training diverged: {e}. The previous model stays in use.")
        except vc.MnistNotFoundError as e:
            self._finish(job_id, "failed", f"Cannot train without MNIST: {e}")
        except vc.CheckpointExistsError:
            self._finish(job_id, "failed", f"A model called {request.name!r} appeared while training (saved by "
                                           f"someone else); nothing was overwritten and this training was not saved.")
        except vc.CheckpointDiskFullError as e:
            self._finish(job_id, "failed", f"Not saved: {e}. Every existing model is intact.")
        except vc.FolderBusyError as e:
            self._finish(job_id, "failed", f"Not started: {e}.")
        except Exception as e:  # noqa: BLE001 -- anything else is reported in the UI, never kills the server
            self._finish(job_id, "failed", f"Training failed ({type(e).__name__}: {e}); nothing was saved.")
        finally:
            self._cancelled.discard(job_id)

    @staticmethod
    def _evaluate_on_test(model: vc.VAE, limit: int) -> tuple[dict, dict]:
        """Test -ELBO on the test set (one z sample per image) -- the cheap part of `evaluate_model` -- and the
        test digits' encodings, which the checkpoint stores for the latent map.

        The embedding scores (5-NN, trustworthiness, PCA) are left to the latent-map page, which computes
        them on the full data on first view and caches them; on a small training subset scoring them here
        would double the wait and fit kNN/PCA on the subset.
        """
        test_x, _ = vc.load_mnist("test", limit=limit)
        elbo = vc.per_image_elbo(model, test_x)
        return ({"n_test": len(test_x), "test_loss": float(elbo["loss"].mean()),
                 "test_reconstruction": float(elbo["reconstruction"].mean()), "test_kl": float(elbo["kl"].mean())},
                vc.encodings_to_store(model, test_x))


_SHARED: TrainingJob | None = None
_SHARED_LOCK = threading.Lock()


def shared_job() -> TrainingJob:
    """The one training job of this server process, shared by every browser session. Created with the process's
    first call, which also clears temp files a killed save left in the checkpoint folder."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            try:
                vc.remove_stale_temp_files(checkpoint_dir())
            except OSError:
                pass  # an unreadable folder is reported where it is used
            _SHARED = TrainingJob(board=room_board)
        return _SHARED


def room_status() -> JobStatus:
    """The training this worker's pages show: its own job while it runs, else the room's latest (live_board)."""
    return shown_status(shared_job().snapshot(), room_board())
