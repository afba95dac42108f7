"""A third-party plugin that cannot work is left out alone: every command still runs, says so once
on stderr, `vtembed plugins` lists it as `broken` with the reason, and `vtembed doctor` names it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vtembed.errors import UsageError
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry
from vtembed.sink import Sink

GOOD = """
from vtembed import hookimpl
from vtembed.sink import Sink

class GoodSink(Sink):
    scheme = "goodsink"
    state_path = None
    def write(self, records): return 0
    def delete_media(self, media_id, keep=()): return 0
    def count(self, media_id): return 0

@hookimpl
def vtembed_register_sinks(register):
    register(GoodSink)
"""

# Each broken module also has a good hook: it must not run once the module is left out.
TAIL = """
@hookimpl
def vtembed_register_commands(app):
    @app.command(name="{name}-cmd")
    def cmd():
        print("should not be here")
"""

# What a sink with only `write` lacks, from the contract itself (it is being narrowed to storage).
_HALF_MISSING = ", ".join(sorted(Sink.__abstractmethods__ - {"write"}))

BROKEN = {
    "import_error": (
        "from vtembed import hookimpl\nimport numpyy\n",
        "cannot import {name} (No module named 'numpyy')",
    ),
    "misspelt_hook": (
        "from vtembed import hookimpl\n@hookimpl\ndef vtembed_register_sinkz(register): pass\n",
        "hook vtembed_register_sinkz matches no hookspec (did you mean vtembed_register_sinks?)",
    ),
    "register_raises": (
        "from vtembed import hookimpl\n@hookimpl\n"
        "def vtembed_register_sinks(register): raise RuntimeError('no config here')\n",
        "vtembed_register_sinks raised RuntimeError: no config here",
    ),
    "abstract_sink": (
        "from vtembed import hookimpl\nfrom vtembed.sink import Sink\n"
        "class HalfSink(Sink):\n    scheme = 'half'\n    def write(self, records): return 0\n"
        "@hookimpl\ndef vtembed_register_sinks(register): register(HalfSink)\n",
        f"sink class HalfSink is abstract (missing: {_HALF_MISSING})",
    ),
}

BUILTIN_SINKS = {"jsonl", "lancedb", "milvus"}


def write_plugins(folder: Path, case: str) -> tuple[str, str]:
    """A broken module and a good one in `folder`; returns their names."""
    source, _ = BROKEN[case]
    bad, good = f"bad_{case}", f"good_for_{case}"
    (folder / f"{bad}.py").write_text(source + TAIL.format(name=bad.replace("_", "-")))
    (folder / f"{good}.py").write_text(GOOD)
    return bad, good


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: plugin")]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_module_is_left_out_alone(vtembed, tmp_path: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    bad, good = write_plugins(tmp_path, case)
    reason = BROKEN[case][1].format(name=bad)
    env = {"PYTHONPATH": str(tmp_path), "VTEMBED_PLUGINS": f"{bad},{good}"}

    run = vtembed("plugins", "--json", env=env)
    assert run.code == 0, run.text
    rows = json.loads(run.out)
    [row] = [r for r in rows if r["name"] == bad]
    assert row["kind"] == "broken" and row["reason"] == reason and row["origin"] == "module"
    sinks = {r["name"] for r in rows if r["kind"] == "sink"}
    assert BUILTIN_SINKS | {"goodsink"} <= sinks
    assert {r["origin"] for r in rows if r["kind"] == "sink"} >= {"vtembed", "module"}
    [line] = warnings(run.err)
    assert line == (
        f"warning: plugin {bad!r} (from module) is not loaded: {reason}; "
        "remove it from VTEMBED_PLUGINS / --plugin"
    )
    assert "Traceback" not in run.err

    run = vtembed("plugins", env=env)  # the table, too
    assert run.code == 0 and "broken" in run.out and len(warnings(run.err)) == 1

    run = vtembed("doctor", env=env)
    assert f"PROBLEM  plugin {bad} (module): not loaded: {reason}" in run.out
    assert len(warnings(run.err)) == 1 and "Traceback" not in run.err

    run = vtembed(f"{bad.replace('_', '-')}-cmd", env=env)  # its other hooks never ran
    assert run.code == 2 and "should not be here" not in run.out


def test_broken_module_in_process_leaves_no_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad, good = write_plugins(tmp_path, "abstract_sink")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_manager([bad, good])
    assert pm.get_plugin(bad) is None and pm.get_plugin(good) is not None
    registry = build_registry(pm)
    assert "half" not in registry.sinks and "goodsink" in registry.sinks
    assert [b.name for b in pm.broken] == [bad]


def test_same_broken_module_twice_is_one_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VTEMBED_PLUGINS", "no_such_module_xyz")
    assert len(build_manager(["no_such_module_xyz"]).broken) == 1


def test_builtin_class_problems_stay_loud() -> None:
    """`build_registry` still refuses an abstract class outright (as for a built-in)."""
    from vtembed.registry import Registry, _adder

    class Half(Sink):
        scheme = "half"

    with pytest.raises(UsageError, match="abstract"):
        _adder(Registry().sinks, "sink", "scheme")(Half)


def write_distribution(folder: Path, dist: str, entry_points: dict[str, str]) -> None:
    """A real installed distribution for importlib.metadata: a .dist-info folder on sys.path."""
    info = folder / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    info.joinpath("entry_points.txt").write_text(f"[vtembed]\n{lines}")


def test_a_broken_distribution_is_left_out_alone(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "dist_good_sink.py").write_text(GOOD)
    (tmp_path / "dist_bad_sink.py").write_text("import numpyy\n")
    write_distribution(tmp_path, "bad-dist", {"bad-sink": "dist_bad_sink"})
    write_distribution(tmp_path, "good-dist", {"good-sink": "dist_good_sink"})
    env = {"PYTHONPATH": str(tmp_path)}

    run = vtembed("plugins", "--json", env=env)
    assert run.code == 0, run.text
    rows = {r["name"]: r for r in json.loads(run.out)}
    assert rows["bad-sink"]["kind"] == "broken" and rows["bad-sink"]["origin"] == "bad-dist"
    assert rows["goodsink"]["origin"] == "good-dist"
    assert {n for n, r in rows.items() if r["kind"] == "sink"} >= BUILTIN_SINKS
    assert warnings(run.err) == [
        "warning: plugin 'bad-sink' (from bad-dist 1.0) is not loaded: cannot import "
        "dist_bad_sink (No module named 'numpyy'); skip it with VTEMBED_LOAD_PLUGINS=good-dist"
    ]

    # The advice works: naming the other distributions leaves the broken one unread.
    run = vtembed("plugins", "--json", env={**env, "VTEMBED_LOAD_PLUGINS": "good-dist"})
    assert run.code == 0 and warnings(run.err) == []
    assert "goodsink" in {r["name"] for r in json.loads(run.out)}


def test_plugin_option_finds_a_module_in_the_current_folder(
    vtembed,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "cwd_plugin_sink.py").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    run = vtembed("--plugin", "cwd_plugin_sink", "plugins", "--json")
    assert run.code == 0, run.text
    assert warnings(run.err) == []
    [row] = [r for r in json.loads(run.out) if r["name"] == "goodsink"]
    assert row["plugin"] == "cwd_plugin_sink" and row["origin"] == "module"
    assert str(tmp_path) not in sys.path  # on sys.path for that import only
