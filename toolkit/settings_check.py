"""Every name a settings source gives is checked against the settings models before any value is
used, so a typo fails the run at once, naming where it was written and the nearest real name.

Why a walk of our own rather than pydantic's `extra="forbid"`: pydantic reports an extra input
without saying which source gave it (a flag, a variable, `.env`, which file) and without a
suggestion, and pydantic-settings drops an environment variable whose nested key is unknown
(`VTEMBED_WHISPER__BEAM_SISE`) before validation ever sees it. So each source is read here the
way pydantic-settings reads it, and its keys are walked against the model fields (the plugins'
tables included); pydantic-settings then builds the values with its precedence untouched. What
each source set is kept, so that a bad value can be traced back to where it was written.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from vtembed.errors import UsageError

PREFIX = "VTEMBED_"

# Variables vtembed reads straight from os.environ that are not settings (so they are not in
# any file and `.env` cannot set them); they must not be taken for typos of settings.
NOT_SETTINGS = frozenset(
    {
        "VTEMBED_PLUGINS",  # plugin_manager.py: more plugin modules to load, comma-separated
        "VTEMBED_LOAD_PLUGINS",  # plugin_manager.py: the only third-party distributions to load
        "VTEMBED_TRACE_PLUGINS",  # plugin_manager.py: print every hook call to stderr
        "VTEMBED_SERVE_API_KEY",  # server.py, cli/serve.py: the key `vtembed serve` requires
        "VTEMBED_UI_TOKEN",  # ui/auth.py, cli/ui_cmd.py: the token `vtembed ui` requires
    }
)

Key = tuple[str, ...]


class _Open:
    """A table whose keys are not checked here: another command's plugin table, or a model
    that allows extra keys."""


OPEN = _Open()


@dataclass(frozen=True)
class Table:
    """The keys of one settings table, each leading to a value (None) or a nested node."""

    keys: Mapping[str, Node]


@dataclass(frozen=True)
class Named:
    """Entries under names the user chooses (`[models.NAME]`), each one `entry` (None: a value)."""

    entry: Node


Node = Table | Named | _Open | None


def tree(model: type[BaseModel], other_tables: Collection[str] = ()) -> Table:
    """The names `model` knows; `other_tables` are accepted whole (other commands' tables)."""
    root = _table_of(model)
    keys = dict(root.keys) if isinstance(root, Table) else {}
    return Table({**{name: OPEN for name in other_tables}, **keys})


def _table_of(model: type[BaseModel]) -> Table | _Open:
    if model.model_config.get("extra") == "allow":
        return OPEN
    keys: dict[str, Node] = {}
    for name, info in model.model_fields.items():
        keys[name] = _node_of(info.annotation)
        if isinstance(info.alias, str):
            keys[info.alias] = keys[name]
    return Table(keys)


def _node_of(annotation: Any) -> Node:
    inner = _without_none(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return _table_of(inner)
    if get_origin(inner) in (dict, Mapping):
        args = get_args(inner)
        return Named(_node_of(args[1]) if len(args) == 2 else None)
    return None


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _step(node: Node, key: str, fold: bool) -> tuple[str, Node] | None:
    """The name `key` stands for and the node under it, or None. `fold` compares names as
    pydantic-settings does for top-level names and for every part of a variable's name
    (case-insensitive); keys inside a table of a file or a flag must match exactly."""
    if isinstance(node, _Open):
        return key, OPEN
    if isinstance(node, Named):
        return key, node.entry
    if isinstance(node, Table):
        if key in node.keys:
            return key, node.keys[key]
        folded = [(k, n) for k, n in node.keys.items() if fold and k.lower() == key.lower()]
        return folded[0] if folded else None
    return None  # a value has no keys


def _first_unknown(root: Table, key: Key, fold: bool = False) -> tuple[int, Node]:
    """The index of the first part of `key` that is no setting (-1: all known), and the node
    reached; a top-level name matches in any case, as pydantic-settings matches it."""
    node: Node = root
    for i, part in enumerate(key):
        found = _step(node, part, fold or i == 0)
        if found is None:
            return i, node
        node = found[1]
    return -1, node


def _all_keys(node: Node, at: Key = ()) -> Iterator[Key]:
    if isinstance(node, Table):
        for name, child in node.keys.items():
            yield (*at, name)
            yield from _all_keys(child, (*at, name))


def _nearest(
    root: Table,
    key: Key,
    bad: int,
    spell: Callable[[Key], str],
    *,
    extra: Collection[str] = (),
    tables_only: bool = False,
) -> str | None:
    """The known name nearest to `key`, spelled as the user spells names: a top-level name that
    is a key of exactly one table (`beam_size` for `whisper.beam_size`), else the closest of the
    names beside the unknown part (the rest kept), else the closest of every name and `extra`."""
    if bad == 0 and not tables_only:
        homes = [k for k in _all_keys(root) if len(k) > 1 and k[-len(key) :] == key]
        if len(homes) == 1:
            return spell(homes[0])
    _, parent = _first_unknown(root, key[:bad])
    beside = [
        name
        for name, child in (parent.keys.items() if isinstance(parent, Table) else ())
        if not tables_only or child is not None
    ]
    for match in get_close_matches(key[bad].lower(), beside, n=3):
        fixed = (*key[:bad], match, *key[bad + 1 :])
        if _first_unknown(root, fixed)[0] == -1:
            return spell(fixed)
    if tables_only:
        return None
    everything = [*(spell(k) for k in _all_keys(root)), *extra]
    close = get_close_matches(spell(key), everything, n=1)
    return close[0] if close else None


def dotted(key: Key) -> str:
    """A key as TOML writes it: `models."marengo3.0".dim`."""
    return ".".join(part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"' for part in key)


def env_name(key: Key) -> str:
    return PREFIX + "__".join(part.upper() for part in key)


def _hint(guess: str | None) -> str:
    return f" (did you mean {guess}?)" if guess else ""


def read_toml(path: Path, label: str) -> dict[str, Any]:
    """The file's tables, or one UsageError saying what is wrong with it and where."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{label}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{label}: not valid TOML (not UTF-8 text)") from None
    except OSError as exc:
        raise UsageError(f"{label}: cannot be read ({exc.strerror or exc})") from None


@dataclass
class Walk:
    """One source's keys: those that are settings (for tracing values) and the problems."""

    keys: dict[Key, str | None]
    problems: list[str]


def _walk(data: Mapping[str, Any], node: Node, at: Key = ()) -> Iterator[tuple[Key, int, Any]]:
    """Every key of `data` (named as the model names it) with the index of its first unknown
    part (-1: a setting) and its value; a table under an unknown key is not opened."""
    for name, value in data.items():
        found = _step(node, str(name), fold=not at)
        if found is None:
            yield (*at, str(name)), len(at), value
        elif isinstance(value, Mapping) and isinstance(found[1], Table | Named):
            yield from _walk(value, found[1], (*at, found[0]))
        else:
            yield (*at, found[0]), -1, value


def _leaves(value: Any, at: Key) -> Iterator[Key]:
    if isinstance(value, Mapping) and value:
        for name, inner in value.items():
            yield from _leaves(inner, (*at, str(name)))
    else:
        yield at


def check_toml(root: Table, data: Mapping[str, Any], label: str) -> Walk:
    """An unknown top-level table is an unknown section; any other unknown key a setting."""
    found = Walk({}, [])
    for key, bad, value in _walk(data, root):
        if bad < 0:
            found.keys[key] = label
        elif len(key) == 1 and isinstance(value, Mapping):
            guess = _nearest(root, key, 0, lambda k: f"[{dotted(k)}]", tables_only=True)
            found.problems.append(f"{label}: unknown section [{dotted(key)}]{_hint(guess)}")
        else:
            guess = _nearest(root, key, bad, dotted)
            found.problems.append(f"{label}: unknown setting {dotted(key)}{_hint(guess)}")
    return found


def check_overrides(root: Table, overrides: Mapping[str, Any]) -> Walk:
    """Flags and keyword arguments: each unknown one named down to its leaf (`whisperr.model`),
    as a flag or `whisperr__model=` spells it."""
    found = Walk({}, [])
    for key, bad, value in _walk(overrides, root):
        if bad < 0:
            found.keys[key] = None
            continue
        for leaf in _leaves(value, key):
            guess = _nearest(root, leaf, bad, dotted)
            found.problems.append(f"unknown setting {dotted(leaf)}{_hint(guess)}")
    return found


def check_variables(
    root: Table,
    variables: Mapping[str, str | None],
    label: Callable[[str], str],
    allowed: Collection[str],
) -> Walk:
    """`VTEMBED_*` variables (from the environment or `.env`), matched as pydantic-settings
    matches them: prefix and names case-insensitive, `__` between nested keys."""
    found = Walk({}, [])
    spelled = [n for n in (*allowed, *NOT_SETTINGS) if n.upper().startswith(PREFIX)]
    for name, value in variables.items():
        if not name.upper().startswith(PREFIX) or name in NOT_SETTINGS or name in allowed:
            continue
        key = tuple(name[len(PREFIX) :].lower().split("__"))
        bad, node = _first_unknown(root, key, fold=True)
        if bad >= 0:
            guess = _nearest(root, key, bad, env_name, extra=spelled)
            found.problems.append(f"{label(name)}: unknown setting {dotted(key)}{_hint(guess)}")
            continue
        found.keys[key] = label(name)
        if isinstance(node, Table | Named):
            found.problems.extend(_check_json(root, node, key, value or "", label(name)))
    return found


def _check_json(root: Table, node: Table | Named, key: Key, value: str, label: str) -> list[str]:
    """A variable that sets a whole table holds a JSON object, as pydantic-settings reads it."""
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [
            f"{label}: {dotted(key)} is a table: give a JSON object or set {env_name(key)}__KEY"
        ]
    problems = []
    for sub, bad, _ in _walk(data, node, key):
        if bad >= 0:
            guess = _nearest(root, sub, bad, dotted)
            problems.append(f"{label}: unknown setting {dotted(sub)}{_hint(guess)}")
    return problems


def origin(loc: Key, sources: list[Walk]) -> str | None:
    """Where the value at `loc` came from: the most specific source that set it, or a table
    holding it (a missing key of `[models.x]`); None for flags, keyword arguments and defaults."""
    for cut in range(len(loc), 0, -1):
        part = loc[:cut]
        for source in sources:
            for key, label in source.keys.items():
                if key[:cut] == part or part[: len(key)] == key:
                    return label
    return None


def describe(exc: ValidationError, sources: list[Walk]) -> str:
    """pydantic's errors on one line, each with the source of the value when it is known."""
    parts = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        where = origin(loc, sources)
        name = ".".join(loc) + (f" ({where})" if where else "")
        parts.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")  # pydantic's prefix
    return "; ".join(parts)
