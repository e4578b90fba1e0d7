"""Which model files the picker lists: the shipped models first (default, beta4, conv), regular *.pt files of the
checkpoint folder newest first; links, dangling links and directories are skipped, so one odd entry cannot break every
page. Shipped models are neither deleted nor overwritten."""
import os

import pytest

from explorer.model.files import (
    DEFAULT_CHECKPOINT,
    SHIPPED_DIR,
    checkpoint_dir,
    delete_model,
    list_checkpoints,
    name_problem,
    shipped_checkpoints,
)
from vae_core.settings import CHECKPOINT_DIR_ENV

SHIPPED = shipped_checkpoints()


def test_checkpoint_dir_comes_from_the_environment(tmp_path, monkeypatch, tiny_checkpoint):
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    assert checkpoint_dir() == tmp_path
    tiny_checkpoint(tmp_path / "b.pt")
    listed = list_checkpoints()
    assert listed == [*SHIPPED, tmp_path / "b.pt"]


def test_links_dangling_links_and_directories_are_not_listed(tmp_path, tiny_checkpoint):
    tiny_checkpoint(tmp_path / "real.pt")
    (tmp_path / "dangling.pt").symlink_to(tmp_path / "gone.pt")
    (tmp_path / "link.pt").symlink_to(tmp_path / "real.pt")
    (tmp_path / "folder.pt").mkdir()
    (tmp_path / "notes.txt").write_text("not a model")
    assert list_checkpoints(tmp_path) == [*SHIPPED, tmp_path / "real.pt"]


def test_newest_first_and_a_missing_folder_lists_only_the_default(tmp_path, tiny_checkpoint):
    for age, name in ((300, "old"), (0, "new")):
        path = tiny_checkpoint(tmp_path / f"{name}.pt")
        os.utime(path, (path.stat().st_mtime - age,) * 2)
    assert [p.name for p in list_checkpoints(tmp_path)] == [*(p.name for p in SHIPPED), "new.pt", "old.pt"]
    assert list_checkpoints(tmp_path / "nowhere") == SHIPPED


def test_the_repository_ships_the_default_and_two_models_to_compare_it_with():
    assert [p.name for p in SHIPPED] == ["default.pt", "beta4.pt", "conv.pt"] and SHIPPED[0] == DEFAULT_CHECKPOINT


def test_the_shipped_folder_lists_each_shipped_model_once(monkeypatch):
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(SHIPPED_DIR))  # the app's default: trained models beside shipped ones
    assert list_checkpoints()[:len(SHIPPED)] == SHIPPED and len(set(list_checkpoints())) == len(list_checkpoints())


@pytest.mark.parametrize("name", ["default", "beta4", "conv", "BETA4"])
def test_shipped_models_are_neither_deleted_nor_overwritten(tmp_path, name):
    with pytest.raises(PermissionError, match="shipped model"):
        delete_model(SHIPPED_DIR / f"{name.lower()}.pt", tmp_path)
    assert "is the shipped model" in name_problem(name, tmp_path)
