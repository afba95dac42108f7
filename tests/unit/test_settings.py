"""Settings precedence and the shipped defaults file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vtembed.errors import UsageError
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry
from vtembed.settings import Settings, default_cache_dir, default_toml, load_settings

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("clean_env")


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
    for section in build_registry(build_manager()).settings_sections():  # built-in plugins
        values = section.model().model_dump()
        defaults[section.name] = {k: v for k, v in values.items() if v is not None}
    assert defaults.pop("cache_dir") == str(default_cache_dir())
    assert shipped.pop("cache_dir") == ""
    assert shipped == defaults


def test_every_default_setting_has_a_comment() -> None:
    """Each setting is preceded by a comment line; a model table is commented as a whole."""
    lines = (ROOT / "config" / "default.toml").read_text().splitlines()
    table = ""
    for i, line in enumerate(lines):
        if line.startswith("["):
            table = line
        is_setting = "=" in line and not line.startswith("#")
        if is_setting and not table.startswith("[models."):
            assert lines[i - 1].startswith("#"), f"setting without a comment: {line}"


def test_plugin_sections_take_env_aliases_below_prefixed_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sections = build_registry(build_manager()).settings_sections()
    monkeypatch.setenv("TWELVELABS_API_KEY", "k-123")
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:9/v1.3")
    s = load_settings(None, None, sections)
    assert s.twelvelabs.api_key.get_secret_value() == "k-123"  # type: ignore[attr-defined]
    assert "k-123" not in repr(s) and "k-123" not in str(s.model_dump())
    assert s.twelvelabs.base_url == "http://127.0.0.1:9/v1.3"  # type: ignore[attr-defined]
    monkeypatch.setenv("VTEMBED_TWELVELABS__MAX_IN_FLIGHT", "3")
    cli = load_settings({"twelvelabs": {"base_url": "http://cli/v1.3"}}, None, sections)
    assert cli.twelvelabs.base_url == "http://cli/v1.3"  # type: ignore[attr-defined]
    assert cli.twelvelabs.max_in_flight == 3  # type: ignore[attr-defined]


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
    assert s.models == {}  # the embedders declare their models; the table only overrides them


def test_config_can_add_a_model(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text(
        '[models."my-model"]\ndim = 8\ntext_token_limit = 20\naudio_segment_sec = 5\n'
    )
    s = load_settings(None, config)
    assert s.models["my-model"].dim == 8
    assert list(s.models) == ["my-model"]  # declared models are not copied into the settings


def test_bad_values_are_one_line_usage_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('max_pause_sec = "soon"\n')
    with pytest.raises(UsageError, match="max_pause_sec"):
        load_settings(None, config)
    with pytest.raises(UsageError, match="not found"):
        load_settings(None, tmp_path / "missing.toml")


def test_the_in_process_executor_is_threads_and_its_old_name_still_works() -> None:
    assert load_settings().executor == "threads"
    assert load_settings({"executor": "local"}).executor == "threads"
    with pytest.raises(UsageError, match="executor"):
        load_settings({"executor": "cluster"})
