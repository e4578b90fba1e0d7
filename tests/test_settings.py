"""One module reads every environment variable: the README's table is its list, and each accessor reads the
environment when called."""
import re
from pathlib import Path

import pytest

from vae_core import settings
from vae_core.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([ROOT / "app.py", ROOT / "navigation.py", *(ROOT / "pages").glob("*.py"),
                  *(ROOT / "explorer").rglob("*.py"), *(ROOT / "vae_core").rglob("*.py")])


def test_the_readme_settings_table_is_the_settings_module_s():
    section = (ROOT / "README.md").read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == settings.settings_table()


def test_every_vae_variable_named_in_the_code_is_a_listed_setting():
    listed = {s.name for s in settings.SETTINGS}
    named = {name for path in SOURCES for name in re.findall(r"\bVAE_[A-Z_]+\b", path.read_text())}
    assert named == listed


def test_only_the_settings_module_reads_the_environment():
    readers = [p.relative_to(ROOT).as_posix() for p in SOURCES
               if re.search(r"os\.environ\.get|os\.getenv|environ\[", p.read_text())]
    assert readers == ["vae_core/settings.py"]


def test_the_accessors_read_the_environment_when_called(monkeypatch, tmp_path):
    for name in (s.name for s in settings.SETTINGS):
        monkeypatch.delenv(name, raising=False)
    assert settings.data_dir() == Path("./data") and settings.checkpoint_dir() == settings.SHIPPED_DIR
    assert settings.max_models() == 20 and settings.max_train_minutes() == 20.0
    assert settings.warm_anomaly_scores() and settings.presenter_token() == "" == settings.audience_url()
    assert settings.cache_dir() == Path.home() / ".cache" / "vae-latent-explorer"
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path))
    monkeypatch.setenv(settings.CHECKPOINT_DIR_ENV, str(tmp_path / "models"))
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(settings.MAX_MODELS_ENV, "0")
    monkeypatch.setenv(settings.WARM_ANOMALY_ENV, "0")
    monkeypatch.setenv(settings.TOKEN_ENV, "s3cret")
    monkeypatch.setenv(settings.AUDIENCE_URL_ENV, "http://192.0.2.7:8501/")
    assert settings.data_dir() == tmp_path and settings.checkpoint_dir() == tmp_path / "models"
    assert settings.cache_dir() == tmp_path / "cache"
    assert settings.max_models() == 1 and not settings.warm_anomaly_scores()  # at least one model
    assert settings.presenter_token() == "s3cret" and settings.audience_url() == "http://192.0.2.7:8501/"
    monkeypatch.setenv(settings.MAX_MODELS_ENV, "many")
    assert settings.max_models() == 20


def test_the_warm_up_scoring_waits_the_delay_asked_for_and_never_a_negative_or_odd_one(monkeypatch):
    monkeypatch.delenv(settings.WARM_ANOMALY_DELAY_ENV, raising=False)
    assert settings.warm_anomaly_delay() == settings.DEFAULT_WARM_ANOMALY_DELAY == 20.0
    for value, delay in (("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("soon", 20.0), ("nan", 20.0), ("inf", 20.0)):
        monkeypatch.setenv(settings.WARM_ANOMALY_DELAY_ENV, value)
        assert settings.warm_anomaly_delay() == delay, value


def test_a_bad_training_budget_is_a_config_error(monkeypatch):
    monkeypatch.setenv(settings.BUDGET_ENV, "soon")
    with pytest.raises(ConfigError, match="VAE_MAX_TRAIN_MINUTES: must be a number of minutes > 0"):
        settings.max_train_minutes()


def test_the_project_root_holds_the_app_and_the_shipped_default():
    assert (settings.PROJECT_ROOT / "app.py").is_file() and settings.DEFAULT_CHECKPOINT.is_file()
