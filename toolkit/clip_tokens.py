"""Token counts that agree exactly with OpenAI CLIP's tokenizer.

The text embedder takes at most 77 tokens (start and end tokens included) and cuts or rejects the
rest, so chunking must count the way the model does: an estimate would waste context or overflow.
The BPE itself runs in HuggingFace `tokenizers` (fast, Rust); the vocabulary is CLIP's own file,
shipped inside vtembed as package data (`vtembed/data/`, MIT, see its NOTICE.md), so no model
download is needed. CLIP cleans text in Python (ftfy, HTML unescaping) before BPE; we do the same
here, because `tokenizers` has no equivalent normalizer. `ftfy` and `tokenizers` are imported when
the first counter is built, so importing this module costs nothing.
"""

from __future__ import annotations

import functools
import gzip
import html
import itertools
import re
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from tokenizers import Encoding, Tokenizer

__all__ = ["ClipTokenCounter", "get_counter", "token_ids"]

_VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
_START, _END = "<|startoftext|>", "<|endoftext|>"
_PATTERN = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)
# CLIP collapses whitespace with the `regex` module, whose \s is Unicode White_Space. Python's re
# \s also matches U+001C..U+001F; ftfy strips those today, but spelling the class out keeps the
# counts exact even if it stops doing so.
_WHITESPACE = re.compile(
    "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
# CLIP compiles its pattern with IGNORECASE; under case folding the `regex` module lets U+0345
# (combining ypogegrammeni, folds to iota) match no branch, so CLIP silently drops it. Onig
# would keep it as punctuation, so we turn it into a separator up front.
_YPOGEGRAMMENI = "\u0345"
_DATA_PACKAGE = "vtembed"  # the file is vtembed/data/<_VOCAB_FILE>, declared as package data


def _vocab_path() -> Traversable:
    path = resources.files(_DATA_PACKAGE).joinpath("data", _VOCAB_FILE)
    if not path.is_file():
        raise RuntimeError(
            f"CLIP vocabulary {_VOCAB_FILE} is missing from the installed vtembed package "
            f"(expected at {path}): the installation is incomplete; reinstall vtembed"
        )
    return path


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's reversible byte -> printable character map; the vocab is written in these chars."""
    byte_values = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    byte_values += range(ord("®"), ord("ÿ") + 1)
    code_points = list(byte_values)
    shifted = 0
    for b in range(256):
        if b not in byte_values:
            byte_values.append(b)
            code_points.append(256 + shifted)
            shifted += 1
    return dict(zip(byte_values, map(chr, code_points), strict=True))


def _build_tokenizer(vocab_path: Traversable) -> Tokenizer:
    """Mirror CLIPTokenizerFast, minus its normalizer (cleaning happens in `_clean`)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors

    lines = gzip.decompress(vocab_path.read_bytes()).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    base = list(_bytes_to_unicode().values())
    vocab_list = [*base, *(c + "</w>" for c in base), *("".join(m) for m in merges), _START, _END]
    vocab = {tok: i for i, tok in enumerate(vocab_list)}
    tokenizer = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=merges,
            unk_token=_END,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
        )
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    # Unlike CLIPTokenizerFast we do not register the specials as added tokens: those are cut out
    # before pre-tokenization, so "!<|endoftext|>" would count 4 where CLIP's regex counts 9.
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{_START} $A {_END}",
        special_tokens=[(_START, vocab[_START]), (_END, vocab[_END])],
    )
    # A count must never be capped or padded, or over-long chunks would look like they fit.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _clean(text: str) -> str:
    """CLIP's basic_clean + whitespace_clean + lower(), in its order, so counts match exactly."""
    import ftfy  # loaded on the first count; after that a sys.modules look-up

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return _WHITESPACE.sub(" ", text).strip().lower().replace(_YPOGEGRAMMENI, " ")


def _length(encoding: Encoding, cleaned: str) -> int:
    """Token count, with CLIP's quirk that a literal special-token word is a single token.

    CLIP seeds its BPE cache with the two specials, so a pre-token equal to one of them is one
    token; our BPE spells it out in pieces. Only texts containing "<|" need the regrouping.
    """
    n = len(encoding.ids)
    if "<|" not in cleaned:
        return n
    words: dict[int, list[str]] = {}
    for word, token in zip(encoding.word_ids, encoding.tokens, strict=True):
        if word is not None:
            words.setdefault(word, []).append(token)
    specials = {_START + "</w>", _END + "</w>"}
    return n - sum(len(parts) - 1 for parts in words.values() if "".join(parts) in specials)


class ClipTokenCounter:
    """Counts CLIP tokens for a text, including the start and end tokens."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer

    def count(self, text: str) -> int:
        cleaned = _clean(text)
        return _length(self._tokenizer.encode(cleaned), cleaned)

    def count_batch(self, texts: list[str]) -> list[int]:
        cleaned = [_clean(t) for t in texts]
        encodings = self._tokenizer.encode_batch(cleaned)
        return [_length(e, c) for e, c in zip(encodings, cleaned, strict=True)]


@functools.lru_cache(maxsize=1)
def get_counter() -> ClipTokenCounter:
    """Building the tokenizer parses ~49k merges; do it once per process."""
    return ClipTokenCounter(_build_tokenizer(_vocab_path()))


def token_ids(text: str) -> list[int]:
    """CLIP's ids for a text, start and end tokens included, neither cut nor padded: what a CLIP
    text encoder reads, from the same BPE that counts, so a chunk that fits is one it can embed.
    A literal special-token word is that special's one id, as CLIP's cached BPE makes it."""
    tokenizer = get_counter()._tokenizer
    cleaned = _clean(text)
    encoding = tokenizer.encode(cleaned)
    if "<|" not in cleaned:
        return list(encoding.ids)
    specials = {s + "</w>": tokenizer.token_to_id(s) for s in (_START, _END)}
    ids: list[int] = []
    pieces = zip(encoding.word_ids, encoding.tokens, encoding.ids, strict=True)
    for word, group in itertools.groupby(pieces, key=lambda piece: piece[0]):
        parts = list(group)
        joined = "".join(token for _, token, _ in parts)
        if word is not None and joined in specials:
            ids.append(specials[joined])
        else:
            ids.extend(i for _, _, i in parts)
    return ids
