"""Which model files the picker lists: the shipped default first, regular *.pt files of the checkpoint folder newest
first; links, dangling links and directories are skipped, so one odd entry cannot break every page."""
import os

from explorer.model_files import CHECKPOINT_DIR_ENV, DEFAULT_CHECKPOINT, checkpoint_dir, list_checkpoints


def test_checkpoint_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    assert checkpoint_dir() == tmp_path
    (tmp_path / "b.pt").write_bytes(b"x")
    listed = list_checkpoints()
    assert listed[0].name == "default.pt" and listed[1] == tmp_path / "b.pt"


def test_links_dangling_links_and_directories_are_not_listed(tmp_path):
    (tmp_path / "real.pt").write_bytes(b"x")
    (tmp_path / "dangling.pt").symlink_to(tmp_path / "gone.pt")
    (tmp_path / "link.pt").symlink_to(tmp_path / "real.pt")
    (tmp_path / "folder.pt").mkdir()
    (tmp_path / "notes.txt").write_text("not a model")
    assert list_checkpoints(tmp_path) == [DEFAULT_CHECKPOINT, tmp_path / "real.pt"]


def test_newest_first_and_a_missing_folder_lists_only_the_default(tmp_path):
    for age, name in ((300, "old"), (0, "new")):
        path = tmp_path / f"{name}.pt"
        path.write_bytes(b"x")
        os.utime(path, (path.stat().st_mtime - age,) * 2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["default.pt", "new.pt", "old.pt"]
    assert list_checkpoints(tmp_path / "nowhere") == [DEFAULT_CHECKPOINT]
