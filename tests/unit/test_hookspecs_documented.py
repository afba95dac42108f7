"""Keep the plugin surface honest (the datasette idea): every hook is documented in
docs/hooks.md with its exact arguments, and every hook has a `test_hook_*` test."""

from __future__ import annotations

import re
from pathlib import Path

from vtembed import hookspecs
from vtembed.plugin_manager import build_manager

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> dict[str, tuple[str, ...]]:
    pm = build_manager()
    return {
        name: tuple(getattr(pm.hook, name).spec.argnames)
        for name in dir(pm.hook)
        if name.startswith("vtembed_")
    }


def test_there_are_hooks_and_fewer_than_ten() -> None:
    hooks = _hooks()
    assert "vtembed_register_sources" in hooks
    assert 4 <= len(hooks) < 10


def test_every_hook_is_documented_with_its_arguments() -> None:
    doc = (ROOT / "docs" / "hooks.md").read_text()
    headings = set(re.findall(r"^## (\w+)\(([^)]*)\)", doc, flags=re.M))
    for name, args in _hooks().items():
        assert (name, ", ".join(args)) in headings, (
            f"{name}({', '.join(args)}) not in docs/hooks.md"
        )


def test_every_hook_has_a_docstring() -> None:
    for name in _hooks():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_hook_has_a_test() -> None:
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for name in _hooks():
        short = name.removeprefix("vtembed_")
        assert f"def test_hook_{short}" in tests, f"no test_hook_{short} test"
