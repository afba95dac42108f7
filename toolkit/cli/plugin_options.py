"""Plugin settings as command-line flags: a `[twelvelabs] base_url` setting becomes
`--twelvelabs-base-url`, listed in `--help` like any other option.

Commands are built after plugins load, so a command's signature can grow the options of the
plugins that are actually there; the host never names a plugin.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer

from vtembed.settings import PluginSection

_SIMPLE = (str, int, float, bool)


def with_section_options(
    func: Callable[..., Any], sections: list[PluginSection]
) -> Callable[..., Any]:
    """Wrap a command so each plugin setting of a simple type is an option; the values given
    reach `func` as its `section_flags` dict (`{"twelvelabs__base_url": ...}`)."""
    signature = inspect.signature(func, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "section_flags"]
    extra: dict[str, inspect.Parameter] = {}
    for section in sections:
        for name, info in section.model.model_fields.items():
            kind = _simple_type(info.annotation)
            if kind is None:  # secrets and tables stay out of shell history and flags
                continue
            key = f"{section.name}__{name}"
            flag = f"--{section.name}-{name}".replace("_", "-")
            if kind is bool:
                flag = f"{flag}/--no-{flag[2:]}"
            help_text = info.description or f"[{section.name}] {name} setting."
            option = typer.Option(flag, help=help_text, show_default=False)
            extra[key] = inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[kind | None, option],  # type: ignore[valid-type]
            )

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        flags = {key: kwargs.pop(key) for key in list(kwargs) if key in extra}
        return func(*args, section_flags=flags, **kwargs)

    new_signature = signature.replace(parameters=[*params, *extra.values()])
    command.__signature__ = new_signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in new_signature.parameters.values()}
    return command


def _simple_type(annotation: Any) -> type | None:
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if annotation in _SIMPLE:
        return annotation  # type: ignore[no-any-return]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and args[0] in _SIMPLE:
            return args[0]  # type: ignore[no-any-return]
    return None
