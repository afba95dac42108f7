"""Mistakes in settings are found when settings load: one UsageError naming the source and the
nearest real name, never a traceback and never silently dropped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import vtembed.settings as settings_module
from vtembed.errors import UsageError
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry
from vtembed.settings import PluginSection, load_settings


class ToySettings(BaseModel):
    depth: int = Field(2, ge=1)
    colour: str = "blue"
    token: str = ""


TOY = PluginSection("toy", ToySettings, env={"TOY_TOKEN": "token"})


@pytest.fixture(scope="module")
def builtin_sections() -> list[PluginSection]:
    """Built before any test sets VTEMBED_PLUGINS, which the plugin manager reads."""
    return build_registry(build_manager()).settings_sections()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.upper().startswith(("VTEMBED_", "TWELVELABS_", "TOY_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _toml(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(UsageError) as caught:
        load_settings(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# Files that are not TOML


def test_malformed_config_names_the_file_line_and_column(tmp_path: Path) -> None:
    config = _toml(tmp_path, "a_key = 1\nsink = 'x'\nwhisp er = 3\n", "bad.toml")
    assert _error(None, config) == (
        f"config {config}: not valid TOML "
        "(Expected '=' after a key in a key/value pair (at line 3, column 7))"
    )


def test_config_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "latin.toml"
    config.write_bytes('since = "\xe9t\xe9"\n'.encode("latin-1"))
    assert _error(None, config) == f"config {config}: not valid TOML (not UTF-8 text)"


def test_a_broken_shipped_file_is_a_usage_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = _toml(tmp_path, "[whisper\nbeam_size = 5\n", "default.toml")
    monkeypatch.setattr(settings_module, "default_toml", lambda: shipped)
    assert _error() == (
        f"shipped config {shipped}: not valid TOML "
        "(Expected ']' at the end of a table declaration (at line 1, column 9))"
    )


# Unknown names in a config file


def test_unknown_section_suggests_the_nearest(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[whisperr]\nbeam_size = 3\n")
    assert _error(None, config) == (
        f"config {config}: unknown section [whisperr] (did you mean [whisper]?)"
    )


def test_unknown_section_with_nothing_near_has_no_suggestion(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[qqq]\nx = 1\n")
    assert _error(None, config) == f"config {config}: unknown section [qqq]"


def test_unknown_key_in_a_known_section(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[whisper]\nbeam_sise = 3\n")
    assert _error(None, config) == (
        f"config {config}: unknown setting whisper.beam_sise (did you mean whisper.beam_size?)"
    )


def test_unknown_top_level_key_and_a_key_outside_its_table(tmp_path: Path) -> None:
    config = _toml(tmp_path, 'sinkk = "jsonl:x"\nbeam_size = 3\n')
    assert _error(None, config) == (
        f"config {config}: unknown setting sinkk (did you mean sink?); "
        f"config {config}: unknown setting beam_size (did you mean whisper.beam_size?)"
    )


def test_keys_inside_a_table_are_case_sensitive_as_pydantic_reads_them(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[WHISPER]\nBEAM_SIZE = 3\n")  # the table name matches in any case
    assert _error(None, config) == (
        f"config {config}: unknown setting whisper.BEAM_SIZE (did you mean whisper.beam_size?)"
    )
    assert load_settings(None, _toml(tmp_path, "[WHISPER]\nbeam_size = 3\n")).whisper.beam_size == 3


def test_model_tables_take_any_name_but_only_model_fields(tmp_path: Path) -> None:
    good = '[models."my.model"]\ndim = 8\ntext_token_limit = 20\naudio_segment_sec = 5\n'
    assert load_settings(None, _toml(tmp_path, good)).models["my.model"].dim == 8
    config = _toml(tmp_path, good.replace("dim =", "dims ="), "typo.toml")
    assert _error(None, config) == (
        f'config {config}: unknown setting models."my.model".dims '
        '(did you mean models."my.model".dim?)'
    )


def test_plugin_section_keys_are_known_and_checked(tmp_path: Path) -> None:
    ok = load_settings(None, _toml(tmp_path, "[toy]\ndepth = 4\n"), [TOY])
    assert ok.toy.depth == 4  # type: ignore[attr-defined]
    config = _toml(tmp_path, "[toy]\ncolor = 'red'\n", "typo.toml")
    assert _error(None, config, [TOY]) == (
        f"config {config}: unknown setting toy.color (did you mean toy.colour?)"
    )
    assert _error(None, _toml(tmp_path, "[toyy]\n", "t.toml"), [TOY]).endswith(
        "unknown section [toyy] (did you mean [toy]?)"
    )


def test_tables_of_plugins_this_call_leaves_out_are_accepted(tmp_path: Path) -> None:
    """A search leaves the sources' tables out: one config file still serves every command."""
    shipped_table = _toml(tmp_path, "[url]\nmax_redirects = 3\n")
    assert load_settings(None, shipped_table, []).sink  # [url] is a shipped table
    theirs = _toml(tmp_path, "[toy]\nwhatever = 1\n", "theirs.toml")
    assert load_settings(None, theirs, [], other_sections=["toy"]).sink
    assert "unknown section [toy]" in _error(None, theirs, [])


# Unknown names in the environment and in .env


def test_unknown_variable_suggests_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTEMBED_WHISPER__BEAM_SISE", "3")
    assert _error() == (
        "environment variable VTEMBED_WHISPER__BEAM_SISE: unknown setting whisper.beam_sise "
        "(did you mean VTEMBED_WHISPER__BEAM_SIZE?)"
    )


def test_variables_match_in_any_case_as_pydantic_settings_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("vtembed_Whisper__Beam_Size", "2")
    assert load_settings().whisper.beam_size == 2
    monkeypatch.setenv("vtembed_whisper__beam_sise", "2")
    assert _error() == (
        "environment variable vtembed_whisper__beam_sise: unknown setting whisper.beam_sise "
        "(did you mean VTEMBED_WHISPER__BEAM_SIZE?)"
    )


@pytest.mark.parametrize(
    ("variable", "guess"),
    [
        ("VTEMBED_SERVE__API_KEY", "VTEMBED_SERVE_API_KEY"),  # one underscore too many
        ("VTEMBED_WHISPER_BEAM_SIZE", "VTEMBED_WHISPER__BEAM_SIZE"),  # one too few
        ("VTEMBED_BEAM_SIZE", "VTEMBED_WHISPER__BEAM_SIZE"),  # the table left out
        ("VTEMBED_PLUGIN", "VTEMBED_PLUGINS"),
        ("VTEMBED_SINK__PATH", "VTEMBED_SINK"),  # a value has no keys
        ("VTEMBED_TOY__DEPTHH", "VTEMBED_TOY__DEPTH"),  # a plugin's table
    ],
)
def test_variable_typos_suggest_settings_and_known_variables(
    variable: str, guess: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "1")
    message = _error(None, None, [TOY])
    assert message.startswith(f"environment variable {variable}: unknown setting ")
    assert message.endswith(f"(did you mean {guess}?)")


def test_variables_that_are_not_settings_are_allowed(
    builtin_sections: list[PluginSection], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "VTEMBED_PLUGINS",
        "VTEMBED_LOAD_PLUGINS",
        "VTEMBED_TRACE_PLUGINS",
        "VTEMBED_SERVE_API_KEY",
    ):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("VTEMBED_TWELVELABS__MAX_IN_FLIGHT", "3")  # a plugin section key
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:9/v1.3")  # an alias, not ours
    s = load_settings(None, None, builtin_sections)
    assert s.twelvelabs.max_in_flight == 3  # type: ignore[attr-defined]
    assert s.twelvelabs.base_url == "http://127.0.0.1:9/v1.3"  # type: ignore[attr-defined]


def test_plugin_env_alias_fills_its_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOY_TOKEN", "t-1")
    assert load_settings(None, None, [TOY]).toy.token == "t-1"  # type: ignore[attr-defined]


def test_a_variable_for_a_whole_table_is_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTEMBED_WHISPER", '{"beam_size": 2}')
    assert load_settings().whisper.beam_size == 2
    monkeypatch.setenv("VTEMBED_WHISPER", '{"beam_sise": 2}')
    assert _error() == (
        "environment variable VTEMBED_WHISPER: unknown setting whisper.beam_sise "
        "(did you mean whisper.beam_size?)"
    )
    monkeypatch.setenv("VTEMBED_WHISPER", "fast")
    assert _error() == (
        "environment variable VTEMBED_WHISPER: whisper is a table: "
        "give a JSON object or set VTEMBED_WHISPER__KEY"
    )


def test_dotenv_keys_follow_the_same_rule(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "OTHER_TOOL=1\nVTEMBED_TRACE_PLUGINS=1\nVTEMBED_SINK=jsonl:from-dotenv\n"
    )
    assert load_settings().sink == "jsonl:from-dotenv"
    (tmp_path / ".env").write_text("VTEMBED_WHISPER__BEAM_SISE=3\n")
    assert _error() == (
        "VTEMBED_WHISPER__BEAM_SISE in .env: unknown setting whisper.beam_sise "
        "(did you mean VTEMBED_WHISPER__BEAM_SIZE?)"
    )


# Unknown names in flags and keyword arguments


def test_unknown_override_keys(builtin_sections: list[PluginSection]) -> None:
    assert _error({"whisper": {"beam_sise": 3}}) == (
        "unknown setting whisper.beam_sise (did you mean whisper.beam_size?)"
    )
    assert _error({"whisperr": {"model": "x"}}) == (
        "unknown setting whisperr.model (did you mean whisper.model?)"
    )
    given = {"twelvelabs": {"max_in_flight": 2}, "whisper": {"model": "x"}}
    s = load_settings(given, None, builtin_sections)
    assert s.twelvelabs.max_in_flight == 2 and s.whisper.model == "x"  # type: ignore[attr-defined]


def test_every_mistake_of_every_source_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VTEMBED_EMBEDER", "local")
    config = _toml(tmp_path, "[serv]\nport = 1\n")
    assert _error({"limitt": 3}, config) == (
        "unknown setting limitt (did you mean limit?); "
        "environment variable VTEMBED_EMBEDER: unknown setting embeder "
        "(did you mean VTEMBED_EMBEDDER?); "
        f"config {config}: unknown section [serv] (did you mean [serve]?)"
    )


# Values out of range


def _at_least(n: int) -> str:
    return f"Input should be greater than or equal to {n}"


ABOVE_0 = "Input should be greater than 0"


@pytest.mark.parametrize(
    ("variable", "value", "name", "problem"),
    [
        ("WHISPER__BEAM_SIZE", "0", "whisper.beam_size", _at_least(1)),
        ("WHISPER__WINDOW_SEC", "0", "whisper.window_sec", ABOVE_0),
        ("WHISPER__CPU_THREADS", "-1", "whisper.cpu_threads", _at_least(0)),
        ("MAX_PAUSE_SEC", "-0.5", "max_pause_sec", _at_least(0)),
        ("EMBED_BATCH_SIZE", "0", "embed_batch_size", _at_least(1)),
        ("SERVE__PORT", "65536", "serve.port", "Input should be less than or equal to 65535"),
        ("SERVE__PORT", "-1", "serve.port", _at_least(0)),
        ("SERVE__MAX_UPLOAD_MB", "0", "serve.max_upload_mb", ABOVE_0),
        ("PROGRESS", "fancy", "progress", "Input should be 'auto', 'rich', 'plain' or 'none'"),
    ],
)
def test_out_of_range_values_name_their_variable(
    variable: str, value: str, name: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"VTEMBED_{variable}", value)
    where = f"environment variable VTEMBED_{variable}"
    assert _error() == f"invalid settings: {name} ({where}): {problem}"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("dim", 0, _at_least(1)),
        ("text_token_limit", 2, _at_least(3)),
        ("audio_segment_sec", 0, ABOVE_0),
    ],
)
def test_model_limits_out_of_range_name_the_file(
    key: str, value: int, problem: str, tmp_path: Path
) -> None:
    table = {"dim": 8, "text_token_limit": 20, "audio_segment_sec": 5, key: value}
    lines = "".join(f"{k} = {v}\n" for k, v in table.items())
    config = _toml(tmp_path, "[models.m]\n" + lines)
    assert _error(None, config) == f"invalid settings: models.m.{key} (config {config}): {problem}"


def test_a_value_is_traced_to_the_source_that_won(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _toml(tmp_path, "[whisper]\nbeam_size = 0\n")
    assert "whisper.beam_size (config " in _error(None, config)
    (tmp_path / ".env").write_text("VTEMBED_WHISPER__BEAM_SIZE=-1\n")
    assert "whisper.beam_size (VTEMBED_WHISPER__BEAM_SIZE in .env)" in _error(None, config)
    monkeypatch.setenv("VTEMBED_WHISPER__BEAM_SIZE", "-2")
    assert "(environment variable VTEMBED_WHISPER__BEAM_SIZE)" in _error(None, config)
    flag = _error({"whisper": {"beam_size": -3}}, config)
    assert flag == "invalid settings: whisper.beam_size: Input should be greater than or equal to 1"


def test_a_model_entry_may_give_some_limits_only(tmp_path: Path) -> None:
    """It overrides a declared model field by field; whether a table for a model nobody declares
    is complete is the embedder's to say (tests/unit/test_embedder_models.py)."""
    config = _toml(tmp_path, "[models.m]\ndim = 8\naudio_segment_sec = 5\n")
    assert load_settings(None, config).models["m"].given() == {"dim": 8, "audio_segment_sec": 5}


def test_values_at_the_edges_of_their_ranges_load(tmp_path: Path) -> None:
    config = _toml(
        tmp_path,
        "max_pause_sec = 0\nembed_batch_size = 1\nprogress = 'none'\n"
        "[whisper]\nbeam_size = 1\ncpu_threads = 0\nwindow_sec = 0.5\n"
        "[serve]\nport = 0\nmax_upload_mb = 0.01\n"
        "[models.m]\ndim = 1\ntext_token_limit = 3\naudio_segment_sec = 0.1\n",
    )
    s = load_settings(None, config)
    assert (s.whisper.beam_size, s.serve.port, s.models["m"].text_token_limit) == (1, 0, 3)
    assert load_settings({"serve": {"port": 65535}}).serve.port == 65535


def test_shipped_defaults_still_load(builtin_sections: list[PluginSection]) -> None:
    s = load_settings(None, None, builtin_sections)
    assert s.whisper.beam_size == 5 and s.progress == "auto" and s.serve.port == 8765
    assert load_settings().embed_batch_size == 32  # no plugin tables: the shipped ones still pass
