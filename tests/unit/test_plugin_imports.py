"""A plugin never imports another plugin: what two plugins share lives in the host (`vtembed.*`),
as the download service (`vtembed.downloads`) and the media extensions (`vtembed.source`) do.
Kept by reading the imports of every module under plugins/: none imports a built-in plugin (a
module of the `vtembed` entry-point group) other than the one it is. A plugin's helper modules
(`lancedb_index` beside `lancedb`) are its own business."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.unit.test_layers import ROOT, imported

PLUGINS = ROOT / "plugins"


def builtin_plugins() -> set[str]:
    """The modules pyproject.toml registers in the `vtembed` entry-point group."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {value.split(":")[0] for value in project["entry-points"]["vtembed"].values()}


def module_of(path: Path) -> str:
    return "vtembed.plugins." + ".".join(path.relative_to(PLUGINS).with_suffix("").parts)


def foreign_imports(path: Path, module: str, plugins: set[str]) -> list[str]:
    """The other plugins the file imports, or names from them (at any depth: lazy ones too)."""
    return sorted(
        name
        for name in imported(path)
        for plugin in plugins - {module}
        if name == plugin or name.startswith(plugin + ".")
    )


def test_no_plugin_imports_another_plugin() -> None:
    plugins = builtin_plugins()
    assert "vtembed.plugins.sources.podcast" in plugins and len(plugins) > 5  # read them all
    found = {}
    for path in sorted(PLUGINS.rglob("*.py")):
        if bad := foreign_imports(path, module_of(path), plugins):
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}


def test_the_check_sees_a_plugin_importing_another(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "from vtembed.plugins.sources.page import helper\n"
        "from vtembed.plugins.sources import page_helpers\n"
        "from vtembed.source import Source\n"
        "def find():\n    from vtembed.plugins.sources.podcast import looks_like_feed_url\n"
        "    import vtembed.plugins.sinks.jsonl\n"
    )
    plugins = {"vtembed.plugins.sources.page", *builtin_plugins()}
    assert foreign_imports(page, "vtembed.plugins.sources.page", plugins) == [
        "vtembed.plugins.sinks.jsonl",
        "vtembed.plugins.sources.podcast",
        "vtembed.plugins.sources.podcast.looks_like_feed_url",
    ]
