"""The plugin manager loads built-ins through entry points, plus modules named by the user."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vtembed.cli.app import build_app
from vtembed.errors import UsageError
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry
from vtembed.settings import load_settings

PLUGIN = """
from vtembed import hookimpl
from vtembed.embedder import Embedder
from vtembed.settings import ModelSpec
from vtembed.sink import Sink
from vtembed.source import Source

class ToySource(Source):
    name = "toy"
    priority = 10
    @classmethod
    def accepts(cls, locator):
        return locator.startswith("toy:")
    def discover(self, locator):
        return iter(())
    def open(self, item):
        raise NotImplementedError

class ToySink(Sink):
    scheme = "toy"
    state_path = None
    def write(self, records): return 0
    def delete_media(self, media_id, keep=()): return 0
    def count(self, media_id): return 0

class ToyEmbedder(Embedder):
    name = "toy"
    default_model = "all-MiniLM-L6-v2"
    models = {"all-MiniLM-L6-v2": ModelSpec(dim=384, text_token_limit=77, audio_segment_sec=10)}
    async def embed(self, batch):
        return [[0.0] * self.dim for _ in batch]

@hookimpl
def vtembed_register_sources(register):
    register(ToySource)

@hookimpl
def vtembed_register_embedders(register):
    register(ToyEmbedder)

@hookimpl
def vtembed_register_sinks(register):
    register(ToySink)

@hookimpl
def vtembed_register_commands(app):
    @app.command(name="toy-hello")
    def hello():
        print("hello from toy")
"""


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "toy_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "toy_plugin"


def test_builtins_load_through_the_entry_point_group() -> None:
    pm = build_manager()
    origins = {o.module: o for o in pm.origins.values()}
    for module in (
        "vtembed.plugins.sources.local",
        "vtembed.plugins.embedders.local",
        "vtembed.plugins.sinks.jsonl",
    ):
        assert origins[module].origin == "vtembed", origins[module]
    registry = build_registry(pm)
    assert "local" in registry.sources and "local" in registry.embedders
    assert "jsonl" in registry.sinks


def test_hook_register_sources(toy_plugin: str) -> None:
    registry = build_registry(build_manager([toy_plugin]))
    assert registry.source_for("toy:anything").name == "toy"


def test_hook_register_embedders(toy_plugin: str) -> None:
    cls = build_registry(build_manager([toy_plugin])).embedder("toy")
    embedder = cls(load_settings())
    assert (embedder.model_name, embedder.dim, embedder.text_token_limit) == (
        "all-MiniLM-L6-v2",
        384,
        77,
    )


def test_hook_register_sinks(toy_plugin: str) -> None:
    registry = build_registry(build_manager([toy_plugin]))
    cls, target = registry.sink("toy:somewhere")
    assert cls.scheme == "toy" and target == "somewhere"


def test_hook_register_commands(toy_plugin: str) -> None:
    app = build_app(build_manager([toy_plugin]))
    result = CliRunner().invoke(app, ["toy-hello"])
    assert result.exit_code == 0 and "hello from toy" in result.output


def test_env_var_loads_plugin_modules(toy_plugin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTEMBED_PLUGINS", f" {toy_plugin} ,")
    assert "toy" in build_registry(build_manager()).sinks


def test_load_plugins_allow_list_keeps_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VTEMBED_LOAD_PLUGINS", "")
    registry = build_registry(build_manager())
    assert "jsonl" in registry.sinks and "local" in registry.sources


def test_misspelt_hook_is_a_broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party plugin with a misspelt hook is left out and named (no longer an error that
    stops every command); see test_broken_plugins.py."""
    (tmp_path / "typo_plugin.py").write_text(
        "from vtembed import hookimpl\n@hookimpl\ndef vtembed_register_sink(register): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager(["typo_plugin"])
    [broken] = pm.broken
    assert broken.name == "typo_plugin" and "vtembed_register_sink" in broken.reason
    assert pm.get_plugin("typo_plugin") is None


def test_missing_plugin_module_is_a_broken_plugin() -> None:
    pm = build_manager(["no_such_plugin_module"])
    assert [b.name for b in pm.broken] == ["no_such_plugin_module"]
    assert "no_such_plugin_module" in pm.broken[0].reason


def test_trace_prints_hook_calls(
    toy_plugin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VTEMBED_TRACE_PLUGINS", "1")
    build_registry(build_manager([toy_plugin]))
    err = capsys.readouterr().err
    assert "vtembed_register_sources(register)" in err and "toy_plugin" in err


def test_equal_priority_sources_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clash = PLUGIN.replace('name = "toy"', 'name = "toy2"').replace(
        'scheme = "toy"', 'scheme = "t2"'
    )
    clash = clash.replace('name="toy-hello"', 'name="toy2-hello"')
    (tmp_path / "toy_a.py").write_text(PLUGIN)
    (tmp_path / "toy_b.py").write_text(clash)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = build_registry(build_manager(["toy_a", "toy_b"]))
    with pytest.raises(UsageError, match="same priority"):
        registry.source_for("toy:x")


def test_unknown_locator_is_a_usage_error(tmp_path: Path) -> None:
    registry = build_registry(build_manager())
    with pytest.raises(UsageError, match="no such file"):
        registry.source_for(str(tmp_path / "missing"))


def test_app_builds_without_plugins_side_effects() -> None:
    assert isinstance(build_app(build_manager()), typer.Typer)
