"""Embedders declare the models they serve (`Embedder.models`); `[models."NAME"]` settings tables
override those limits field by field or add models; chunking counts with the model's tokenizer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from vtembed import token_counters
from vtembed.api.searching import pick_embedder
from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import UsageError
from vtembed.models import MediaInfo, MediaItem, TextChunk, Word
from vtembed.planning import ItemPlanner
from vtembed.plugin_manager import build_manager
from vtembed.registry import Registry, build_registry
from vtembed.settings import ModelSpec, Settings, load_settings
from vtembed.token_counters import TokenCounter, WordCounter

V1 = "twelvelabs-embed-v1"
V2, V2_MULTI = "twelvelabs-embed-v2", "twelvelabs-embed-v2-multi"


pytestmark = pytest.mark.usefixtures("clean_env")


class ThirdParty(Embedder):
    """An embedder no settings table knows of: its models and limits ship with it."""

    name = "third-party"
    default_model = "tp-small"
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "tp-small": ModelSpec(dim=8, text_token_limit=12, audio_segment_sec=4.0),
        "tp-words": ModelSpec(dim=8, text_token_limit=5, tokenizer="words", audio_segment_sec=4.0),
    }

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        return [[1.0] * self.dim for _ in batch]


class CharCounter:
    def count(self, text: str) -> int:
        return len(text)

    def count_batch(self, texts: list[str]) -> list[int]:
        return [len(t) for t in texts]


class OwnCounter(ThirdParty):
    """Counts with a tokenizer of its own, which no name in `vtembed.token_counters` stands for."""

    name = "own-counter"
    default_model = "tp-chars"
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "tp-chars": ModelSpec(dim=8, text_token_limit=20, tokenizer="chars", audio_segment_sec=4.0)
    }

    def token_counter(self) -> TokenCounter:
        return CharCounter()


def _config(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return load_settings(None, path)


def _registry() -> Registry:
    return build_registry(build_manager())


def test_a_third_party_model_needs_no_settings_table() -> None:
    settings = load_settings()
    embedder = ThirdParty(settings)
    assert (embedder.model_name, embedder.dim, embedder.text_token_limit) == ("tp-small", 8, 12)
    assert embedder.audio_segment_sec == 4.0
    assert ThirdParty(settings, "tp-words").spec.tokenizer == "words"
    assert ThirdParty.serves("tp-small", settings) and not ThirdParty.serves("marengo3.0", settings)
    assert ThirdParty.doctor(settings) == [("embedder third-party: model tp-small", None)]


@pytest.mark.parametrize(
    ("embedder", "model", "spec"),
    [  # the limits the settings' built-in table held before the embedders declared them
        (
            "twelvelabs",
            "Marengo-retrieval-2.7",
            ModelSpec(dim=1024, text_token_limit=77, audio_segment_sec=10.0, protocol=V1),
        ),
        (
            "twelvelabs",
            "marengo3.0",
            ModelSpec(dim=512, text_token_limit=500, audio_segment_sec=10.0, protocol=V2),
        ),
        (
            "twelvelabs",
            "marengo3.5",
            ModelSpec(dim=512, text_token_limit=2000, audio_segment_sec=10.0, protocol=V2_MULTI),
        ),
        (
            "local",
            "all-MiniLM-L6-v2",
            ModelSpec(dim=384, text_token_limit=77, audio_segment_sec=10.0),
        ),
    ],
)
def test_built_in_models_keep_their_limits(embedder: str, model: str, spec: ModelSpec) -> None:
    cls = _registry().embedder(embedder)
    assert cls.model_spec(model, load_settings()) == spec
    assert spec.tokenizer == "clip"
    assert pick_embedder(_registry(), load_settings(), model) is cls  # search finds its embedder


def test_a_partial_table_overrides_field_by_field(tmp_path: Path) -> None:
    settings = _config(
        tmp_path,
        '[models."marengo3.0"]\ntext_token_limit = 60\n[models.tp-small]\naudio_segment_sec = 2\n',
    )
    marengo = _registry().embedder("twelvelabs").model_spec("marengo3.0", settings)
    assert (marengo.dim, marengo.text_token_limit, marengo.protocol) == (512, 60, V2)
    embedder = ThirdParty(settings)
    assert (embedder.dim, embedder.text_token_limit, embedder.audio_segment_sec) == (8, 12, 2.0)
    assert ThirdParty(settings, "tp-words").audio_segment_sec == 4.0  # other models untouched


def test_a_full_table_adds_a_model_and_a_partial_one_names_what_it_lacks(tmp_path: Path) -> None:
    settings = _config(
        tmp_path,
        '[models."marengo9"]\ndim = 64\ntext_token_limit = 90\naudio_segment_sec = 6\n'
        f'protocol = "{V1}"\n[models.half]\ndim = 4\n',
    )
    twelvelabs = _registry().embedder("twelvelabs")
    assert twelvelabs.model_spec("marengo9", settings).dim == 64
    assert twelvelabs.serves("marengo9", settings)  # a newer model of a protocol it speaks
    assert not _registry().embedder("local").serves("marengo9", settings)
    assert pick_embedder(_registry(), settings, "marengo9") is twelvelabs
    assert ThirdParty(settings, "marengo9").dim == 64  # a full table: any embedder may use it
    with pytest.raises(UsageError, match=r"\[models\.\"half\"\] table lacks text_token_limit"):
        ThirdParty(settings, "half")
    assert not ThirdParty.serves("half", settings)


def test_an_unknown_model_names_the_embedders_models() -> None:
    with pytest.raises(UsageError) as caught:
        ThirdParty(load_settings(), "nope")
    assert str(caught.value).startswith(
        "unknown model 'nope' for embedder third-party (its models: tp-small, tp-words;"
    )
    ((what, fix),) = ThirdParty.doctor(load_settings({"model": "nope"}))
    assert what == "embedder third-party: model nope"
    assert fix is not None and "its models: tp-small, tp-words" in fix


def test_an_unknown_tokenizer_fails_at_start_and_in_doctor(tmp_path: Path) -> None:
    settings = _config(tmp_path, '[models.tp-small]\ntokenizer = "klingon"\n')
    with pytest.raises(UsageError, match=r"unknown tokenizer 'klingon' \(known: clip, words\)"):
        ThirdParty(settings)
    ((_, fix),) = ThirdParty.doctor(settings)
    assert fix is not None and "unknown tokenizer 'klingon'" in fix


def _chunks(embedder: Embedder, words: list[Word]) -> list[TextChunk]:
    item = MediaItem("m", "file:///x.wav", "x", "local")
    info = MediaInfo(path="/x.wav", duration_sec=words[-1].end_sec + 1, audio_stream=0)
    planner = ItemPlanner(item, info, embedder, max_pause_sec=2.0)
    found = [*planner.add(words, words[-1].end_sec), *planner.finish(info.duration_sec)]
    return [x for x in found if isinstance(x, TextChunk)]


WORDS = [
    Word(f" well-known{i}" + ("." if i % 4 == 3 else ""), i * 0.4, i * 0.4 + 0.3) for i in range(23)
]


def test_chunks_are_counted_by_the_models_tokenizer() -> None:
    """Five words per chunk under "words", where CLIP would count each word as several tokens."""
    embedder = ThirdParty(load_settings(), "tp-words")
    assert isinstance(embedder.token_counter(), WordCounter)
    chunks = _chunks(embedder, WORDS)
    words = token_counters.counter("words")
    assert [c.tokens for c in chunks] == [words.count(c.text) for c in chunks]
    assert max(c.tokens for c in chunks) <= 5 and sum(c.tokens for c in chunks) == len(WORDS)
    clip = token_counters.counter("clip")
    assert any(clip.count(c.text) > 5 for c in chunks)  # CLIP's count would not have fit


def test_an_embedder_may_bring_its_own_counter() -> None:
    embedder = OwnCounter(load_settings())  # "chars" is no name we know, and needs not be
    chunks = _chunks(embedder, WORDS)
    assert chunks and all(c.tokens == len(c.text) <= 20 for c in chunks)
    assert OwnCounter.doctor(load_settings()) == [("embedder own-counter: model tp-chars", None)]


def test_clip_is_the_default_counter() -> None:
    from vtembed.clip_tokens import get_counter

    assert ThirdParty(load_settings()).token_counter() is get_counter()
    assert token_counters.names() == ["clip", "words"]


def test_marengo_3_5_takes_a_dimension_and_a_store_is_queried_at_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "k")
    twelvelabs = _registry().embedder("twelvelabs")
    assert twelvelabs.settings_section is not None
    sections = [twelvelabs.settings_section]

    def settings(**given: object) -> Settings:
        return load_settings({"twelvelabs": given} if given else None, sections=sections)

    chosen = settings(embedding_dimension=256)
    assert twelvelabs(chosen, "marengo3.5").dim == 256
    assert twelvelabs(settings(), "marengo3.5").dim == 512
    with pytest.raises(UsageError, match=r"marengo3\.0 always gives 512 dims"):
        twelvelabs(chosen, "marengo3.0")
    # search builds the query embedder from what the store holds, with no flag given
    assert twelvelabs.for_store(settings(), "marengo3.5", 256).dim == 256
    assert twelvelabs.for_store(settings(), "marengo3.0", 512).dim == 512
    assert ThirdParty.for_store(load_settings(), "tp-small", 8).dim == 8
