"""Settings precedence and the shipped defaults file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vtembed.errors import UsageError
from vtembed.settings import Settings, default_cache_dir, default_toml, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("VTEMBED_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _as_toml_values(value: object) -> object:
    if isinstance(value, dict):
        return {k: _as_toml_values(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def test_default_toml_equals_the_model_defaults() -> None:
    shipped = tomllib.loads((ROOT / "config" / "default.toml").read_text())
    defaults = _as_toml_values(Settings.model_construct().model_dump())
    assert isinstance(defaults, dict)
    assert defaults.pop("cache_dir") == str(default_cache_dir())
    assert shipped.pop("cache_dir") == ""
    assert shipped == defaults


def test_every_default_setting_has_a_comment() -> None:
    """Each setting (or block of a model's limits) is preceded by a comment line."""
    lines = (ROOT / "config" / "default.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        is_setting = "=" in line and not line.startswith("#")
        in_model_table = any(ln.startswith("[models.") for ln in lines[max(0, i - 4) : i])
        if is_setting and not in_model_table:
            assert lines[i - 1].startswith("#"), f"setting without a comment: {line}"


def test_installed_package_ships_the_defaults() -> None:
    assert default_toml().read_text() == (ROOT / "config" / "default.toml").read_text()


def test_precedence_cli_env_dotenv_config_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "mine.toml"
    config.write_text(
        'sink = "jsonl:from-config"\nembedder = "from-config"\n'
        'max_pause_sec = 9.0\nprogress = "plain"\n[whisper]\nbeam_size = 3\n'
    )
    (tmp_path / ".env").write_text(
        "VTEMBED_SINK=jsonl:from-dotenv\nVTEMBED_EMBEDDER=from-dotenv\nVTEMBED_MAX_PAUSE_SEC=7\n"
    )
    monkeypatch.setenv("VTEMBED_SINK", "jsonl:from-env")
    monkeypatch.setenv("VTEMBED_WHISPER__BEAM_SIZE", "2")
    s = load_settings({"sink": "jsonl:from-cli"}, config)
    assert s.sink == "jsonl:from-cli"  # CLI beats env
    assert s.whisper.beam_size == 2  # env beats config
    assert s.embedder == "from-dotenv" and s.max_pause_sec == 7.0  # .env beats config
    assert s.progress == "plain"  # config beats default
    assert s.whisper.compute_type == "int8"  # default fills the rest of a nested table
    assert s.models["Marengo-retrieval-2.7"].text_token_limit == 77


def test_config_can_add_a_model(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text(
        '[models."my-model"]\ndim = 8\ntext_token_limit = 20\naudio_segment_sec = 5\n'
    )
    s = load_settings(None, config)
    assert s.models["my-model"].dim == 8
    assert "marengo3.0" in s.models


def test_bad_values_are_one_line_usage_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('max_pause_sec = "soon"\n')
    with pytest.raises(UsageError, match="max_pause_sec"):
        load_settings(None, config)
    with pytest.raises(UsageError, match="not found"):
        load_settings(None, tmp_path / "missing.toml")
