"""Token counters by name: how chunking measures text against a model's `text_token_limit`.

A model's spec names its tokenizer (`ModelSpec.tokenizer`), because a limit only means something
in the model's own units: 77 CLIP tokens are not 77 words. The names here are the ones a spec or
a `[models."NAME"]` table may give; an embedder whose model counts some other way returns its own
counter from `Embedder.token_counter()` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vtembed.errors import UsageError

__all__ = ["TokenCounter", "WordCounter", "counter", "names", "require"]


class TokenCounter(Protocol):
    """Counts text the way a model does, with any fixed overhead it adds (start and end tokens)
    included, since chunking compares the count with the limit directly."""

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: list[str]) -> list[int]: ...


class WordCounter:
    """Whitespace-separated words and no overhead: for models whose limit is stated in words,
    and a counter that needs no vocabulary."""

    def count(self, text: str) -> int:
        return len(text.split())

    def count_batch(self, texts: list[str]) -> list[int]:
        return [self.count(t) for t in texts]


def _clip() -> TokenCounter:
    from vtembed.clip_tokens import get_counter  # parses CLIP's merges: only when asked for

    return get_counter()


_WORDS = WordCounter()
_FACTORIES: dict[str, Callable[[], TokenCounter]] = {"clip": _clip, "words": lambda: _WORDS}


def names() -> list[str]:
    """The tokenizer names a model spec may give."""
    return sorted(_FACTORIES)


def require(name: str) -> None:
    """A UsageError unless `name` is a known tokenizer; builds nothing."""
    if name not in _FACTORIES:
        raise UsageError(f"unknown tokenizer {name!r} (known: {', '.join(names())})")


def counter(name: str) -> TokenCounter:
    """The counter a spec's `tokenizer` names (each built once per process)."""
    require(name)
    return _FACTORIES[name]()
