"""One training at a time per checkpoint folder: the lock is exclusive across processes and threads, says who holds
it, and is released however its holder ends."""
import os
import subprocess
import sys
import textwrap

import pytest

import vae_core as vc

# loads file_lock.py alone: importing the vae_core package would import torch (~3 s per process)
HOLDER = textwrap.dedent("""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("file_lock", sys.argv[2])
    file_lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(file_lock)
    with file_lock.training_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.readline()  # hold until the test closes our stdin
""")


@pytest.fixture
def other_process(tmp_path):
    """A second Python process holding the folder's lock until the test lets go."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), vc.file_lock.__file__],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_folder_locked_by_another_process_is_busy_and_names_it(tmp_path, other_process):
    with pytest.raises(vc.FolderBusyError, match="another training is writing into") as e:
        with vc.training_lock(tmp_path):
            pytest.fail("acquired a lock another process holds")
    assert e.value.holder_pid == other_process.pid and f"process {other_process.pid}" in str(e.value)
    assert e.value.directory == tmp_path


def test_the_lock_is_free_once_the_other_process_exits(tmp_path, other_process):
    other_process.stdin.close()
    other_process.wait(timeout=30)
    with vc.training_lock(tmp_path) as lock_file:
        assert lock_file.read_text().strip() == str(os.getpid())


def test_a_killed_holder_leaves_no_stale_lock(tmp_path, other_process):
    other_process.kill()
    other_process.wait(timeout=30)
    with vc.training_lock(tmp_path):
        pass


def test_a_second_job_in_the_same_process_is_busy_too(tmp_path):
    with vc.training_lock(tmp_path), pytest.raises(vc.FolderBusyError, match="another training is writing into"):
        with vc.training_lock(tmp_path):
            pass


def test_the_lock_is_released_after_the_block_even_on_error(tmp_path):
    with pytest.raises(vc.TrainingDiverged, match="the loss became NaN"), vc.training_lock(tmp_path):
        raise vc.TrainingDiverged("the loss became NaN")
    with vc.training_lock(tmp_path) as lock_file:
        pass
    assert lock_file.read_text() == ""  # the pid is cleared when released


def test_other_folders_are_independent_and_created_if_missing(tmp_path):
    with vc.training_lock(tmp_path / "a"), vc.training_lock(tmp_path / "new" / "b"):
        assert (tmp_path / "new" / "b" / ".training.lock").is_file()


def test_try_lock_says_at_once_whether_the_file_is_free(tmp_path):
    from vae_core.file_lock import try_lock

    path = tmp_path / "job.lock"
    with try_lock(path) as mine:
        assert mine
        with try_lock(path) as again:  # another open of it, even in this process: busy, without waiting
            assert not again
    with try_lock(path) as mine:
        assert mine


def test_a_lock_file_deleted_by_its_holder_is_never_held_twice(tmp_path, monkeypatch):
    """A process that opened the file just before its holder deleted it must not lock the deleted file while another
    holds the new one: try_lock finds its file gone from the path and takes the file now there."""
    from vae_core import file_lock

    path = tmp_path / "job.lock"
    with file_lock.try_lock(path):
        stale = os.open(path, os.O_RDWR)  # a slow process opens it, as it is...
        path.unlink()  # ...deleted by its holder (a bounded folder removes old lock files so)
    real_open, opened = os.open, []

    def slow_open(*args, **kwargs):  # the slow process's first open is the one made before the deletion
        opened.append(args[0])
        return stale if len(opened) == 1 else real_open(*args, **kwargs)
    with file_lock.try_lock(path) as holder:  # a third process locks the new file
        assert holder
        monkeypatch.setattr(os, "open", slow_open)
        with file_lock.try_lock(path) as slow:
            assert not slow  # not True on the deleted file
        monkeypatch.setattr(os, "open", real_open)
    assert len(opened) == 2
