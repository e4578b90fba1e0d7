"""One file per model: a plain dict of tensors and primitives, published atomically, loaded without running code.

Format versions. `format_version` says how to read the dict. A new field that an older reader would misread (or
drop while claiming to have read the file) bumps FORMAT_VERSION. A reader refuses versions newer than its own
(CheckpointError, reason "version") and migrates older ones on load, one version at a time (`_MIGRATIONS`), into the current
layout, so nothing past `load_checkpoint` sees an old layout. Adding version N+1 is one `_vN_to_vN+1` function.
  1: format, model_config, train_config, state_dict, history, metrics, snapshots, created, command. Files written
     late in version 1 also carry pca and test_latents (added without a bump); in older ones they become {}.
  2: pca and test_latents are always present ({} when not stored) and checked like every other field.
  3: snapshots are a training film (film.py: frames inside epoch 1 and after every epoch, float16 means, compressed
     decoded grids). Version 2's per-epoch float32 means are dropped on load: such files load without a film.

Loading refuses a hostile or broken file as early and as cheaply as it can, in this order:
  1. the path is a regular file (symlinks followed) no bigger than MAX_FILE_BYTES -- nothing read yet;
  2. it is a zip as torch.save writes it: a small central directory, every entry stored (not compressed), the
     entries' declared sizes within MAX_FILE_BYTES and the pickle within MAX_PICKLE_BYTES -- nothing unpickled yet;
  3. torch.load(weights_only=True, mmap=True): no code runs, tensors stay in the page cache until used;
  4. the config is valid (ModelConfig checks its own limits) before any model exists; no stored tensor claims more
     elements than its bytes; the weights match a model built on the meta device in names, shapes and dtypes;
     every other field has the type and shape the app reads;
  5. only then is the model allocated and the weights copied in.
Each way a file can be unusable is a CheckpointError with its own `reason` (CheckpointError.REASONS).
"""
from __future__ import annotations

import errno
import math
import numbers
import os
import pickle
import re
import reprlib
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

from .config import ModelConfig, TrainConfig
from .film import FILM_KEYS
from .limits import LIMITS
from .model import VAE

FORMAT = "vae-latent-explorer"  # marks a file as ours
FORMAT_VERSION = 3

# The pickled dict without its tensors: 15 KB in the default (120 epochs of history is most of it). 1 MiB holds
# ~8,000 epochs of history and bounds the Python objects a hostile pickle can make (a few bytes each in the pickle).
MAX_PICKLE_BYTES = 2**20
# Refuse bigger files unread. The largest checkpoint the config limits allow: 5M float32 weights (20 MB), 64 MiB of
# snapshot means, the 10,000 test digits' encodings and snapshot indices at the widest latent (1.4 MB), the pickle,
# and 1 MiB for the zip's own headers and alignment: 86 MiB. The shipped default is 12.9 MB.
MAX_FILE_BYTES = (4 * LIMITS.max_parameters + LIMITS.snapshot_bytes + 10_000 * (2 * 4 * LIMITS.latent_dim[1] + 2 * 8)
                  + MAX_PICKLE_BYTES + 2**20)
# torch.save's zip directory: 1.8 KB for the default's 29 entries. zipfile builds an object per entry, so a 60 MB
# directory of empty entries would cost ~0.5 GB before any other check could run.
MAX_ZIP_DIRECTORY_BYTES = 2**20
HISTORY_KEYS = ("train_loss", "test_loss", "train_reconstruction", "test_reconstruction", "train_kl", "test_kl")
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# tempfile.mkstemp(prefix=".<name>.", suffix=".tmp") adds 8 characters from [a-z0-9_]
_TEMP_NAME = re.compile(r"\..+\.pt\.[a-z0-9_]{8}\.tmp")


class CheckpointError(Exception):
    """The checkpoint at a path cannot be used (or written). `reason` says why, one of REASONS; `field` names the
    stored field that is missing or malformed (reason "field"), `problems` lists what is wrong with a stored config
    (reason "config")."""

    REASONS = {
        "not_found": "no file at the path (or a symlink to a missing file)",
        "not_a_file": "a folder, pipe or device where a checkpoint file was expected",
        "unreadable": "the operating system would not let us read the file (permissions, I/O error)",
        "corrupt": "truncated or garbage bytes",
        "unsupported": "not a zip as torch.save writes it (a legacy torch file, a bare pickle, a re-compressed "
                       "archive); refused unread",
        "unsafe": "the file asks to import or call code (a pickle payload); it was refused, not run",
        "too_large": "reading the file would take more memory than any checkpoint we write: refused before it is read",
        "not_ours": "a readable file, but not a VAE Latent Explorer checkpoint",
        "config": "the stored model or training config is invalid",
        "field": "a stored field is missing or has the wrong type or shape",
        "version": "the file's format version is newer than this code, or not a version at all",
        "mismatch": "the weights do not fit the model config stored beside them",
        "exists": "save_checkpoint(overwrite=False) found a file at the path; it was left untouched",
        "disk_full": "the disk (or the user's quota) ran out while saving; nothing was changed",
    }

    def __init__(self, message: str, reason: str, *, field: str | None = None, problems: list[str] | None = None):
        if reason not in self.REASONS:
            raise ValueError(f"unknown checkpoint error reason {reason!r}")
        super().__init__(message)
        self.reason, self.field, self.problems = reason, field, list(problems or [])


class CheckpointExistsError(CheckpointError, FileExistsError):
    """save_checkpoint(overwrite=False) found a file at the path; it was left untouched (the training job and the CLI
    catch it to say so)."""

    def __init__(self, message: str):
        super().__init__(message, "exists")


class CheckpointDiskFullError(CheckpointError, OSError):
    """The disk (or the user's quota) ran out while saving; nothing was changed (the training job catches it)."""

    def __init__(self, message: str):
        super().__init__(message, "disk_full")


@dataclass
class Checkpoint:
    model: VAE
    model_config: ModelConfig
    train_config: TrainConfig | None
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    snapshots: dict = field(default_factory=dict)
    pca: dict = field(default_factory=dict)  # the PCA baseline its VAE-vs-PCA scores used: {"mean", "components"}
    test_latents: dict = field(default_factory=dict)  # `encodings_to_store` of its test set: {"mu", "logvar", "digest"}
    created: str = ""
    command: str = ""
    path: Path | None = None


# ---------------------------------------------------------------------------------------------------- writing


def save_checkpoint(path: str | Path, model: VAE, train_config: TrainConfig | None = None,
                    history: list[dict] | None = None, metrics: dict | None = None,
                    snapshots: dict | None = None, command: str = "", pca: dict | None = None,
                    test_latents: dict | None = None, *, overwrite: bool = False) -> Path:
    """Write the checkpoint to a temp file beside `path`, fsync it, then publish it in one step.

    overwrite=False (the default) never replaces a file: CheckpointExistsError if `path` exists, even if it
    appeared during the write. A full disk is CheckpointDiskFullError. On any failure `path` is as it was and the
    temp file is gone. Fields are checked as `load_checkpoint` checks them (ValueError), so what is written loads.
    pca: the fitted PCA baseline (`fit_pca`) that metrics compare against, stored so it need not be refitted.
    test_latents: `encodings_to_store(model, test images)`, so the app can draw the latent map without encoding."""
    path = Path(path)
    if not overwrite and os.path.lexists(path):  # cheap early answer; the publish step below is the real guard
        raise CheckpointExistsError(f"{path} already exists; nothing was written (pass overwrite=True to replace it)")
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "train_config": train_config.to_dict() if train_config else None,
        "state_dict": {k: _cpu_tensor(v) for k, v in model.state_dict().items()},
        "history": [{k: _plain(v) for k, v in row.items()} if isinstance(row, dict) else row for row in history or []],
        "metrics": {k: _plain(v) for k, v in (metrics or {}).items()},
        "snapshots": {k: _cpu_tensor(v) for k, v in (snapshots or {}).items()},
        "pca": {k: _cpu_tensor(v) for k, v in (pca or {}).items()},
        "test_latents": {k: v if isinstance(v, str) else _cpu_tensor(v) for k, v in (test_latents or {}).items()},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "torch_version": str(torch.__version__),
    }
    try:
        _check_fields(payload, model.config)
    except _Malformed as e:
        raise ValueError(f"refusing to write {path}: {e}") from None
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a checkpoint is an ordinary file
        _publish(tmp, path, overwrite)
    except OSError as e:
        if isinstance(e, CheckpointError):
            raise
        if e.errno in _DISK_FULL:
            raise CheckpointDiskFullError(f"disk full: {path.name} could not be written into {path.parent} "
                                          f"({e.strerror or e}); nothing was changed") from e
        raise
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def _cpu_tensor(value) -> torch.Tensor:
    """A contiguous CPU copy: the loader trusts a tensor only as far as its own bytes reach."""
    if not isinstance(value, torch.Tensor) and not hasattr(value, "__array__"):
        return value  # left for _check_fields to name
    return torch.as_tensor(value).detach().cpu().clone(memory_format=torch.contiguous_format)


def _plain(value):
    """NumPy and other number types as Python int/float: weights_only loading refuses any other class."""
    if isinstance(value, bool):
        return value  # refused by the checks: no field holds a bool
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _publish(tmp: str, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic and fails if path exists: no window in which a reader sees a partial file
    except FileExistsError:
        raise CheckpointExistsError(f"{path} appeared while saving; it was left untouched, nothing was written") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        # a filesystem without hard links (FAT, some network shares): claim the name, then rename over the claim
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise CheckpointExistsError(f"{path} appeared while saving; it was left untouched") from None
        try:
            os.replace(tmp, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable too; best effort (Windows cannot open a folder, some filesystems refuse)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temp_files(directory: str | Path, older_than_seconds: float = 3600.0) -> list[Path]:
    """Delete `.<name>.pt.XXXXXXXX.tmp` files that save_checkpoint left when killed mid-write; returns them.

    Only regular files of exactly that pattern, last modified more than `older_than_seconds` ago (a save in
    progress rewrites its temp file within a second or two; an hour is far past any live one)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    now = time.time()
    for entry in entries:
        try:
            if (_TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > older_than_seconds):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:  # removed meanwhile by someone else
            continue
    return removed


# ---------------------------------------------------------------------------------------------------- reading


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint onto the CPU; raises a CheckpointError whose `reason` says how it is unusable."""
    path = Path(path)
    try:
        return _load(path)
    except CheckpointError:
        raise
    except MemoryError as e:
        raise CheckpointError(f"{path} needs more memory to load than there is; refused", "too_large") from e
    except Exception as e:  # noqa: BLE001 -- a value no check foresaw (e.g. a 100,000-deep list): still only a bad file
        raise CheckpointError(f"{path} is malformed ({type(e).__name__}: {_first_line(e)})", "not_ours") from e


def _load(path: Path) -> Checkpoint:
    _check_container(path)
    ckpt = _migrate(path, _unpickle(path))
    model_config, train_config = _configs(path, ckpt)
    state_dict = ckpt["state_dict"]
    if not isinstance(state_dict, dict):
        raise CheckpointError(f"{path} is malformed: field 'state_dict' is not a dict", "field", field="state_dict")
    _check_tensor_bytes(path, ckpt)
    skeleton = _model_on_meta(path, model_config)
    _check_weights(path, model_config, skeleton, state_dict)
    try:
        _check_fields(ckpt, model_config)
    except _Malformed as e:
        raise CheckpointError(f"{path} is malformed: {e}", "field", field=e.field) from None
    # Allocated only now: the meta model takes copies of the stored tensors (copies, so it does not keep the file
    # mapped). Not skeleton.to_empty(): on meta tensors it imports sympy, 0.5 s on the first load in a process.
    model = skeleton
    model.load_state_dict({k: v.clone() for k, v in state_dict.items()}, assign=True)
    model.eval()
    tensors = lambda d: {k: v.clone() for k, v in d.items()}  # clones: nothing returned keeps the file mapped
    arrays = lambda d: {k: v.clone().numpy() if isinstance(v, torch.Tensor) else v for k, v in d.items()}
    return Checkpoint(model, model_config, train_config, ckpt["history"], ckpt["metrics"], tensors(ckpt["snapshots"]),
                      arrays(ckpt["pca"]), arrays(ckpt["test_latents"]), ckpt["created"], ckpt["command"], path)


def _check_container(path: Path) -> None:
    """Steps 1 and 2 of the module docstring: what the bytes on disk are, before any of them is unpickled."""
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (it is refused as not a regular file)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        dangling = " (a symlink to a missing file)" if os.path.islink(path) else ""
        raise CheckpointError(f"no checkpoint file at {path}{dangling}", "not_found") from None
    except IsADirectoryError:  # Windows; POSIX opens a folder and fstat says so below
        raise CheckpointError(f"{path} is a folder, not a checkpoint file", "not_a_file") from None
    except OSError as e:
        raise CheckpointError(f"{path} cannot be read: {e.strerror or e}", "unreadable") from e
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise CheckpointError(f"{path} is a folder, not a checkpoint file", "not_a_file")
        raise CheckpointError(f"{path} is not a regular file (a pipe, socket or device); refused unread", "not_a_file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > MAX_FILE_BYTES:
            raise CheckpointError(f"{path} is {st.st_size / 2**20:.0f} MiB; checkpoints are at most "
                                  f"{MAX_FILE_BYTES // 2**20} MiB, so it was refused unread", "too_large")
        try:
            _check_zip(path, f)
        except CheckpointError:
            raise
        except OSError as e:
            raise CheckpointError(f"{path} cannot be read: {e.strerror or e}", "unreadable") from e
        except Exception as e:  # noqa: BLE001 -- zipfile/struct on hostile bytes: any failure means damaged
            raise CheckpointError(f"{path} is truncated or damaged ({_first_line(e)})", "corrupt") from e


def _check_zip(path: Path, f) -> None:
    if f.read(4) != b"PK\x03\x04":  # what torch.load itself looks at to choose its zip reader
        raise CheckpointError(f"{path} is not a zip-format PyTorch file (an old torch format, a bare "
                              "pickle, or damaged bytes); it was refused unread", "unsupported")
    end = zipfile._EndRecData(f)  # the directory's size as ZipFile will read it (stdlib helper, stable since 2.x)
    if end is None:
        raise CheckpointError(f"{path} is truncated or damaged (its zip directory is missing)", "corrupt")
    if end[zipfile._ECD_SIZE] > MAX_ZIP_DIRECTORY_BYTES:
        raise CheckpointError(f"{path} lists a {end[zipfile._ECD_SIZE]:,}-byte zip directory; torch.save "
                              "writes a few KB. Refused unread", "too_large")
    f.seek(0)
    with zipfile.ZipFile(f) as z:
        entries = z.infolist()
    compressed = [e.filename for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if compressed:
        raise CheckpointError(f"{path} has compressed entries ({compressed[0]}), which torch.save never "
                              "writes; refused unread (a compressed entry can inflate without bound)", "unsupported")
    declared = sum(e.file_size for e in entries)
    if declared > MAX_FILE_BYTES:
        raise CheckpointError(f"{path} declares {declared:,} bytes of content, over the "
                              f"{MAX_FILE_BYTES // 2**20} MiB limit; refused unread", "too_large")
    if any(e.file_size != e.compress_size for e in entries):
        raise CheckpointError(f"{path} is damaged: a stored zip entry's two sizes disagree", "corrupt")
    pickled = sum(e.file_size for e in entries if e.filename.endswith("/data.pkl"))
    if pickled > MAX_PICKLE_BYTES:
        raise CheckpointError(f"{path} holds a {pickled:,}-byte pickle; ours are a few KB "
                              f"(limit {MAX_PICKLE_BYTES:,}). Refused unread", "too_large")


def _unpickle(path: Path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as e:
        if "global" in str(e).lower():  # the pickle names a function or class to import: code, refused
            raise CheckpointError(f"{path} asks to run code when loaded; it was refused ({_first_line(e)})",
                                  "unsafe") from e
        raise CheckpointError(f"{path} is not a readable checkpoint: garbage or damaged bytes", "corrupt") from e
    except MemoryError as e:
        raise CheckpointError(f"{path} needs more memory to read than there is; refused", "too_large") from e
    except Exception as e:  # noqa: BLE001 -- torch raises many types on damaged bytes; all mean "cannot be read"
        raise CheckpointError(f"{path} is truncated or damaged ({_first_line(e)})", "corrupt") from e


def _first_line(e: Exception) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    unsupported = [ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln]
    return (unsupported or lines or [type(e).__name__])[0].strip()[:200]


def _v1_to_v2(ckpt: dict) -> dict:
    # version 1 readers defaulted every field but the config and weights; pca/test_latents came late in version 1
    defaults = {"train_config": None, "history": [], "metrics": {}, "snapshots": {}, "created": "", "command": ""}
    absent = {name: {} for name in ("pca", "test_latents") if ckpt.get(name) is None}
    return {**defaults, **ckpt, **absent, "format_version": 2}


def _v2_to_v3(ckpt: dict) -> dict:
    # version 2 kept only per-epoch means (no steps, no grids): not a film, so it is not shown as one
    return {**ckpt, "snapshots": {}, "format_version": 3}


_MIGRATIONS = {1: _v1_to_v2, 2: _v2_to_v3}  # version -> function returning the dict in the next version's layout


def _migrate(path: Path, ckpt) -> dict:
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not a VAE Latent Explorer checkpoint", "not_ours")
    version = ckpt.get("format_version")
    if type(version) is not int or version < 1:
        raise CheckpointError(f"{path} has an unknown format version {reprlib.repr(version)}; "
                              f"this code reads versions 1 to {FORMAT_VERSION}", "version")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {version}, written by a newer version of this "
                              f"code; this code reads versions 1 to {FORMAT_VERSION}: update it to load the file",
                              "version")
    while ckpt["format_version"] < FORMAT_VERSION:
        ckpt = _MIGRATIONS[ckpt["format_version"]](ckpt)
    missing = [k for k in ("model_config", "train_config", "state_dict", "history", "metrics", "snapshots", "pca",
                           "test_latents", "created", "command") if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} is malformed: field {missing[0]!r} is missing", "field", field=missing[0])
    return ckpt


def _configs(path: Path, ckpt: dict) -> tuple[ModelConfig, TrainConfig | None]:
    """Both configs, validated by their own classes before anything is built from them."""
    def build(cls, stored, name):
        try:
            if not isinstance(stored, dict) or not all(isinstance(k, str) for k in stored):
                raise TypeError(f"{name} is not a dict of settings")
            return cls(**stored)
        except Exception as e:  # noqa: BLE001 -- ConfigError, or anything a hostile value makes the checks raise
            problems = [str(p) for p in getattr(e, "problems", None) or [f"{type(e).__name__}: {_first_line(e)}"]]
            raise CheckpointError(f"{path} has an invalid {name}: {'; '.join(problems)}", "config",
                                  problems=problems) from None

    model_config = build(ModelConfig, ckpt["model_config"], "model config")
    stored = ckpt["train_config"]
    if isinstance(stored, dict) and "data_bias" not in stored:
        stored = {**stored, "data_bias": False}  # written before the field existed: those runs started at zero bias
    return model_config, (build(TrainConfig, stored, "training config") if stored is not None else None)


def _tensors(ckpt: dict):
    for name in ("state_dict", "snapshots", "pca", "test_latents"):
        if isinstance(ckpt[name], dict):
            yield from ((f"{name}[{reprlib.repr(k)}]", v) for k, v in ckpt[name].items() if isinstance(v, torch.Tensor))


def _check_tensor_bytes(path: Path, ckpt: dict) -> None:
    """A stored tensor may declare any shape over any strides: (10**9,) with stride 0 over 4 bytes of file.
    Each must be a plain CPU tensor no bigger than its own bytes, and all together within MAX_FILE_BYTES, so that
    copying them can cost no more memory than the (capped) file is big."""
    total = 0
    for name, t in _tensors(ckpt):
        if t.layout != torch.strided or t.device.type != "cpu" or t.is_quantized or t.dtype.is_complex:
            raise CheckpointError(f"{path} is malformed: {name} is not a plain CPU tensor", "field", field=name)
        nbytes = t.numel() * t.element_size()
        if nbytes > t.untyped_storage().nbytes():
            raise CheckpointError(f"{path}: {name} claims {tuple(t.shape)} elements over "
                                  f"{t.untyped_storage().nbytes():,} stored bytes; refused", "too_large")
        total += nbytes
    if total > MAX_FILE_BYTES:
        raise CheckpointError(f"{path} holds {total:,} bytes of tensors, over the "
                              f"{MAX_FILE_BYTES // 2**20} MiB limit; refused", "too_large")


def _model_on_meta(path: Path, config: ModelConfig) -> VAE:
    """The model with shapes but no memory (meta device): what the weights must match."""
    try:
        with torch.device("meta"):
            return VAE(config)
    except (TypeError, ValueError, RuntimeError, OverflowError) as e:
        raise CheckpointError(f"{path} has an invalid model config: {e}", "config", problems=[str(e)]) from None


def _check_weights(path: Path, config: ModelConfig, skeleton: VAE, state_dict: dict) -> None:
    expected = skeleton.state_dict()
    problem = None
    if state_dict.keys() != expected.keys():
        missing = sorted(expected.keys() - state_dict.keys())
        extra = sorted(map(str, state_dict.keys() - expected.keys()))
        problem = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
    else:
        for k, want in expected.items():
            got = state_dict[k]
            if not isinstance(got, torch.Tensor):
                problem = f"{k} is a {type(got).__name__}, not a tensor"
            elif got.shape != want.shape or got.dtype != want.dtype:
                problem = f"{k} is {tuple(got.shape)} {got.dtype}, the config needs {tuple(want.shape)} {want.dtype}"
            if problem:
                break
    if problem:
        raise CheckpointError(f"{path}: the weights do not match its model config ({config}): {problem}", "mismatch")


class _Malformed(Exception):
    def __init__(self, field: str, why: str):
        super().__init__(f"field {field!r} {why}")
        self.field = field


def _number(value) -> bool:
    """A Python int or float that is finite or NaN (NaN marks 'not measured'; inf is never a real score)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or not math.isinf(value)


def _tensor(d: dict, field_name: str, key: str, shape: tuple, kind: str) -> torch.Tensor:
    """d[key] must be a tensor of `kind` ("float"/"int") whose shape matches `shape` (None = any size)."""
    t = d[key]
    if not isinstance(t, torch.Tensor):
        raise _Malformed(field_name, f"entry {key!r} is a {type(t).__name__}, not a tensor")
    ok_kind = t.is_floating_point() if kind == "float" else not (t.is_floating_point() or t.dtype == torch.bool)
    if not ok_kind or t.dim() != len(shape) or any(w is not None and w != s for w, s in zip(shape, t.shape, strict=True)):
        want = "(" + ", ".join("n" if w is None else str(w) for w in shape) + ")"
        raise _Malformed(field_name, f"entry {key!r} is {tuple(t.shape)} {t.dtype}, expected {kind} {want}")
    return t


def _keys(d, field_name: str, keys: set[str]) -> bool:
    """True if d holds exactly `keys`, False if d is {} (not stored), else malformed."""
    if not isinstance(d, dict):
        raise _Malformed(field_name, f"is a {type(d).__name__}, not a dict")
    if d and d.keys() != keys:
        raise _Malformed(field_name, f"has keys {sorted(map(str, d))}, expected {sorted(keys)} or none")
    return bool(d)


def _check_film(s: dict, latent: int) -> None:
    """The film's shapes agree (film.py's layout); its grids' bytes are checked when a frame is decompressed."""
    n = len(_tensor(s, "snapshots", "indices", (None,), "int"))
    _tensor(s, "snapshots", "labels", (n,), "int")
    frames = len(_tensor(s, "snapshots", "steps", (None,), "int"))
    _tensor(s, "snapshots", "epochs", (frames,), "float")
    _tensor(s, "snapshots", "means", (frames, n, latent), "float")
    grids = _tensor(s, "snapshots", "grids", (None,), "int")
    offsets = _tensor(s, "snapshots", "grid_offsets", (frames + 1,), "int")
    if grids.dtype != torch.uint8 or int(offsets[0]) != 0 or int(offsets[-1]) != len(grids) or (
            frames and bool((offsets[1:] < offsets[:-1]).any())):
        raise _Malformed("snapshots", "its grid offsets do not cut its uint8 grid bytes into frames")
    if frames and bool((s["steps"][1:] < s["steps"][:-1]).any()):
        raise _Malformed("snapshots", "its frames' steps are not in order")


def _check_fields(ckpt: dict, config: ModelConfig) -> None:
    """Every field besides the configs and weights has the type and shape the app and CLI read."""
    metrics = ckpt["metrics"]
    if not isinstance(metrics, dict):
        raise _Malformed("metrics", f"is a {type(metrics).__name__}, not a dict")
    for k, v in metrics.items():
        if not isinstance(k, str) or not _number(v):
            raise _Malformed("metrics", f"entry {reprlib.repr(k)} is {reprlib.repr(v)}, not a finite or NaN number")
    history = ckpt["history"]
    if not isinstance(history, list):
        raise _Malformed("history", f"is a {type(history).__name__}, not a list")
    for i, row in enumerate(history):
        if not isinstance(row, dict) or type(row.get("epoch")) is not int:
            raise _Malformed("history", f"row {i} is not a dict with an integer 'epoch'")
        bad = [k for k in HISTORY_KEYS if not _number(row.get(k))]
        if bad:
            raise _Malformed("history", f"row {i} has no number for {bad[0]!r}")
    latent = config.latent_dim
    if _keys(ckpt["snapshots"], "snapshots", set(FILM_KEYS)):
        _check_film(ckpt["snapshots"], latent)
    if _keys(ckpt["pca"], "pca", {"mean", "components"}):
        _tensor(ckpt["pca"], "pca", "mean", (config.n_pixels,), "float")
        _tensor(ckpt["pca"], "pca", "components", (2, config.n_pixels), "float")
    if _keys(ckpt["test_latents"], "test_latents", {"mu", "logvar", "digest"}):
        t = ckpt["test_latents"]
        n = len(_tensor(t, "test_latents", "mu", (None, latent), "float"))
        _tensor(t, "test_latents", "logvar", (n, latent), "float")
        if not isinstance(t["digest"], str):
            raise _Malformed("test_latents", "entry 'digest' is not a string")
    for name in ("created", "command"):
        if not isinstance(ckpt[name], str):
            raise _Malformed(name, f"is a {type(ckpt[name]).__name__}, not a string")
