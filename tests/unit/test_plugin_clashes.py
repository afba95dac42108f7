"""Two plugins that claim one name (a sink scheme, an embedder or source name, a settings table)
fail alone: the one loaded later is refused with one warning naming both and how to skip either,
the first keeps working, `vtembed plugins` lists the refused one as broken, and every other
command still runs. Before, building the registry raised and every command failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_broken_plugins import warnings, write_distribution
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry

HEAD = "from vtembed import hookimpl\n"

# One small class of each kind; {cls} and {name} vary per plugin, {extra} adds class lines.
CLASSES = {
    "sink": """
from vtembed.sink import Sink

class {cls}(Sink):
    scheme = "{name}"
    state_path = None
{extra}
    def write(self, records): return 0
    def delete_media(self, media_id, keep=()): return 0
    def count(self, media_id): return 0

@hookimpl
def vtembed_register_sinks(register):
    register({cls})
""",
    "embedder": """
from vtembed.embedder import Embedder

class {cls}(Embedder):
    name = "{name}"
    default_model = "m"
{extra}
    async def embed(self, batch): return [[0.0] for _ in batch]

@hookimpl
def vtembed_register_embedders(register):
    register({cls})
""",
    "source": """
from vtembed.source import Source

class {cls}(Source):
    name = "{name}"
    priority = -50
{extra}
    @classmethod
    def accepts(cls, locator): return locator.startswith("{name}:")
    def discover(self, locator): return iter(())
    def open(self, item): raise NotImplementedError

@hookimpl
def vtembed_register_sources(register):
    register({cls})
""",
}

# A command of each plugin: the first one's must run, the refused one's must not exist.
COMMAND = """
@hookimpl
def vtembed_register_commands(app):
    @app.command(name="{module}-cmd")
    def cmd():
        print("{module} runs")
"""

SECTION = """
from pydantic import BaseModel
from vtembed.settings import PluginSection

class Knobs(BaseModel):
    level: int = 1

SECTION = PluginSection("{table}", Knobs)
"""


def plugin(kind: str, cls: str, name: str, *, table: str | None = None, command: str = "") -> str:
    """The source of a plugin module that registers one class (with a settings table if
    given) and, if `command` names the module, a command."""
    text = HEAD
    extra = ""
    if table:
        text += SECTION.format(table=table)
        extra = "    settings_section = SECTION"
    text += CLASSES[kind].format(cls=cls, name=name, extra=extra)
    return text + (COMMAND.format(module=command) if command else "")


def test_two_sinks_with_one_scheme_the_second_fails_alone(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "first_csv.py").write_text(plugin("sink", "CsvSink", "csv", command="first"))
    (tmp_path / "second_csv.py").write_text(plugin("sink", "CsvSink", "csv", command="second"))
    env = {"PYTHONPATH": str(tmp_path), "VTEMBED_PLUGINS": "first_csv,second_csv"}
    line = (
        "warning: plugin 'second_csv' (from module) is not loaded: sink scheme 'csv' is "
        "already registered by plugin 'first_csv' (from module); remove it from "
        "VTEMBED_PLUGINS / --plugin, or remove first_csv from VTEMBED_PLUGINS / --plugin to use it"
    )

    run = vtembed("plugins", "--json", env=env)
    assert run.code == 0, run.text
    assert warnings(run.err) == [line]
    rows = json.loads(run.out)
    [csv] = [r for r in rows if r["kind"] == "sink" and r["name"] == "csv"]
    assert csv["plugin"] == "first_csv"
    [broken] = [r for r in rows if r["kind"] == "broken"]
    assert broken["name"] == "second_csv" and "'first_csv'" in broken["reason"]
    assert {"jsonl", "lancedb", "milvus"} <= {r["name"] for r in rows if r["kind"] == "sink"}

    run = vtembed("doctor", env=env)
    assert "PROBLEM  plugin second_csv (module): not loaded: sink scheme 'csv'" in run.out
    assert warnings(run.err) == [line] and "Traceback" not in run.err

    run = vtembed("first-cmd", env=env)  # the first keeps working, and commands still run
    assert run.code == 0 and "first runs" in run.out, run.text
    run = vtembed("second-cmd", env=env)  # none of the refused plugin's hooks ran
    assert run.code == 2 and "second runs" not in run.out


@pytest.mark.parametrize(
    ("kind", "claim"),
    [("sink", "sink scheme"), ("embedder", "embedder name"), ("source", "source name")],
)
def test_each_kind_of_name_is_first_come_first_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, claim: str
) -> None:
    (tmp_path / f"one_{kind}.py").write_text(plugin(kind, "One", "same"))
    (tmp_path / f"two_{kind}.py").write_text(plugin(kind, "Two", "same"))
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager([f"one_{kind}", f"two_{kind}"])
    [broken] = pm.broken
    assert broken.name == f"two_{kind}" and broken.rival == f"one_{kind}"
    assert broken.reason == (
        f"{claim} 'same' is already registered by plugin 'one_{kind}' (from module)"
    )
    registry = build_registry(pm)  # no longer raises "two ... are named"
    table = {"sink": registry.sinks, "embedder": registry.embedders, "source": registry.sources}
    assert table[kind]["same"].__name__ == "One"


def test_a_built_in_name_stays_the_built_in(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Built-ins load first, so a third party claiming `jsonl` is the one refused, whatever
    order the distributions are found in."""
    (tmp_path / "my_jsonl.py").write_text(plugin("sink", "MyJsonl", "jsonl"))
    write_distribution(tmp_path, "my-jsonl", {"my-jsonl": "my_jsonl"})
    run = vtembed("plugins", "--json", env={"PYTHONPATH": str(tmp_path)})
    assert run.code == 0, run.text
    [line] = warnings(run.err)
    assert line.startswith(
        "warning: plugin 'my-jsonl' (from my-jsonl 1.0) is not loaded: sink scheme 'jsonl' is "
        "already registered by plugin 'jsonl-sink' (from vtembed "
    )
    assert line.endswith("; skip it with VTEMBED_LOAD_PLUGINS=")  # a built-in cannot be skipped
    [jsonl] = [r for r in json.loads(run.out) if r["name"] == "jsonl" and r["kind"] == "sink"]
    assert jsonl["origin"] == "vtembed"


def test_two_distributions_the_hint_skips_either(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "alpha_csv.py").write_text(plugin("sink", "CsvSink", "csv", command="alpha"))
    (tmp_path / "beta_csv.py").write_text(plugin("sink", "CsvSink", "csv", command="beta"))
    write_distribution(tmp_path, "alpha-csv", {"alpha": "alpha_csv"})
    write_distribution(tmp_path, "beta-csv", {"beta": "beta_csv"})
    env = {"PYTHONPATH": str(tmp_path)}

    run = vtembed("plugins", "--json", env=env)
    assert run.code == 0, run.text
    [line] = warnings(run.err)
    rows = json.loads(run.out)
    [csv] = [r for r in rows if r["name"] == "csv"]
    [broken] = [r for r in rows if r["kind"] == "broken"]
    first, second = csv["origin"], broken["origin"]  # whichever was found first holds the name
    assert {first, second} == {"alpha-csv", "beta-csv"}
    assert line == (
        f"warning: plugin {broken['name']!r} (from {second} 1.0) is not loaded: sink scheme "
        f"'csv' is already registered by plugin {csv['plugin']!r} (from {first} 1.0); skip it "
        f"with VTEMBED_LOAD_PLUGINS={first}, or skip {first} instead with "
        f"VTEMBED_LOAD_PLUGINS={second}"
    )

    # Both pieces of advice work: no warning, and the chosen plugin holds "csv".
    for keep in (first, second):
        run = vtembed("plugins", "--json", env={**env, "VTEMBED_LOAD_PLUGINS": keep})
        assert run.code == 0 and warnings(run.err) == [], run.text
        [csv] = [r for r in json.loads(run.out) if r["name"] == "csv"]
        assert csv["origin"] == keep


def test_same_class_name_different_schemes_both_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "csv_a.py").write_text(plugin("sink", "CsvSink", "csv-a"))
    (tmp_path / "csv_b.py").write_text(plugin("sink", "CsvSink", "csv-b"))
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager(["csv_a", "csv_b"])
    assert pm.broken == []
    sinks = build_registry(pm).sinks
    assert sinks["csv-a"].__module__ == "csv_a" and sinks["csv-b"].__module__ == "csv_b"


def test_registering_the_very_same_class_again_is_no_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "base_csv.py").write_text(plugin("sink", "CsvSink", "csv"))
    (tmp_path / "again_csv.py").write_text(
        HEAD + "from base_csv import CsvSink\n"
        "@hookimpl\ndef vtembed_register_sinks(register):\n    register(CsvSink)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager(["base_csv", "again_csv"])
    assert pm.broken == [] and build_registry(pm).sinks["csv"].__module__ == "base_csv"


def test_one_plugin_with_two_classes_under_one_name_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = (plugin("sink", cls, "csv").split("@hookimpl")[0] for cls in ("One", "Two"))
    twice = one + two.replace(HEAD, "")
    twice += (
        "@hookimpl\ndef vtembed_register_sinks(register):\n    register(One)\n    register(Two)\n"
    )
    (tmp_path / "twice_csv.py").write_text(twice)
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager(["twice_csv"])
    [broken] = pm.broken
    assert broken.reason == "registers two classes as sink scheme 'csv'"
    assert "csv" not in build_registry(pm).sinks


def test_settings_tables_clash_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two plugins declaring `[knobs]` would share one table (the later model would validate
    the earlier one's keys); the host's `[url]` table is taken from the start."""
    (tmp_path / "knobs_a.py").write_text(plugin("sink", "A", "a", table="knobs"))
    (tmp_path / "knobs_b.py").write_text(plugin("sink", "B", "b", table="knobs"))
    (tmp_path / "url_table.py").write_text(plugin("sink", "U", "u", table="url"))
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager(["knobs_a", "knobs_b", "url_table"])
    assert {b.name: b.reason for b in pm.broken} == {
        "knobs_b": "settings table 'knobs' is already registered by plugin 'knobs_a' (from module)",
        "url_table": "settings table 'url' is the host's own",
    }
    assert set(build_registry(pm).sinks) >= {"a"} and "b" not in build_registry(pm).sinks


def test_an_entry_point_name_in_use_is_reported(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two distributions with an entry point of one name: the second used to vanish silently."""
    (tmp_path / "ep_one.py").write_text(plugin("sink", "One", "one"))
    (tmp_path / "ep_two.py").write_text(plugin("sink", "Two", "two"))
    write_distribution(tmp_path, "ep-one", {"csv": "ep_one"})
    write_distribution(tmp_path, "ep-two", {"csv": "ep_two"})
    run = vtembed("plugins", "--json", env={"PYTHONPATH": str(tmp_path)})
    assert run.code == 0, run.text
    [line] = warnings(run.err)
    assert "is not loaded: a plugin named 'csv' is already loaded (from ep-" in line
    assert "VTEMBED_LOAD_PLUGINS=" in line
    kinds = {r["name"]: r["kind"] for r in json.loads(run.out)}
    assert kinds["csv"] == "broken" and ("one" in kinds) != ("two" in kinds)
