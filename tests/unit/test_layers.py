"""The house's layers, kept by reading the imports: a face (`vtembed.cli`) parses, calls the API
and prints; it never opens stores, discovers media, schedules work or keeps resume state. The
application layer (`vtembed.api`) never prints."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORCHESTRATION = (
    "vtembed.executors",
    "vtembed.discovery",
    "vtembed.manifest",
    "vtembed.store",
    "vtembed.pipeline",
    "vtembed.dry_run",
    "vtembed.prune_plan",
    "vtembed.transcriber",
    "vtembed.whisper_workers",
    "vtembed.media",
)


def imported(path: Path) -> set[str]:
    """Every module the file imports, at any depth of the file (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_cli_modules_import_no_orchestration() -> None:
    found = {}
    for path in sorted((ROOT / "toolkit" / "cli").glob("*.py")):
        bad = sorted(name for name in imported(path) if name.startswith(ORCHESTRATION))
        if bad:
            found[path.name] = bad
    assert found == {}


def test_the_check_sees_an_orchestrating_import(tmp_path: Path) -> None:
    face = tmp_path / "face.py"
    face.write_text("def run():\n    from vtembed.manifest import Manifest\n    return Manifest\n")
    assert "vtembed.manifest" in imported(face)


def test_api_modules_do_not_print() -> None:
    for path in sorted((ROOT / "toolkit" / "api").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        ]
        assert "print" not in calls, path.name
        assert not {n for n in imported(path) if n.split(".")[0] in ("typer", "click", "rich")}, (
            path.name
        )


def test_no_module_shadows_an_api_name() -> None:
    """Importing `vtembed.prune` (a module) would bind it over the function `vtembed.prune`;
    the same one level down, in `vtembed.api`."""
    import vtembed
    import vtembed.api

    for package in (ROOT / "toolkit", ROOT / "toolkit" / "api"):
        modules = {p.stem for p in package.glob("*.py")} | {
            p.name for p in package.iterdir() if (p / "__init__.py").exists()
        }
        assert not modules & set(vtembed.api.__all__), package
    assert callable(vtembed.prune) and callable(vtembed.transcribe)
