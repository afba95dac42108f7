"""`vtembed.testing` holds the built-ins to their contracts and catches a sink that breaks one,
naming the rule; `vtembed plugins check` runs the same suites from the command line."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.settings import load_settings
from vtembed.sink import Sink
from vtembed.testing import check_embedder, check_sink, check_source

ROOT = Path(__file__).resolve().parents[2]
PROVENANCE_RULE = (
    "hits carry transcript_source, times_interpolated and media.language, or leave them out"
)
STORES: dict[str, tuple[str, int, dict[str, EmbeddingRecord]]] = {}


class MemorySink(Sink):
    """The least a sink must do: a store per target that outlives the handle, one model each."""

    scheme = "memory"

    def __init__(self, target: str, *, model_name: str, dim: int, settings=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(target, model_name=model_name, dim=dim, settings=settings)
        held = STORES.setdefault(target, (model_name, dim, {}))
        if held[:2] != (model_name, dim):
            raise UsageError(f"sink memory:{target} holds {held[0]}, not {model_name}")
        self.records = held[2]

    @classmethod
    def local_path(cls, target: str, settings=None) -> Path:  # type: ignore[no-untyped-def]
        return Path(target)

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        new = {r.id: r for r in records if r.id not in self.records}
        self.records.update(new)
        return len(new)

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        gone = [i for i, r in self.records.items() if r.media["id"] == media_id and i not in keep]
        for record_id in gone:
            del self.records[record_id]
        return len(gone)

    def count(self, media_id: str) -> int:
        return sum(1 for r in self.records.values() if r.media["id"] == media_id)


class DuplicatingSink(MemorySink):
    """Appends whatever it is given: a record written again is stored again."""

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        for r in records:
            self.records[f"{r.id}#{len(self.records)}"] = r
        return len(records)


class PromiscuousSink(MemorySink):
    """Says it reports its model, but never does, and opens a store of any model (relabelling
    what it finds): without its manifest, the host cannot tell."""

    capabilities = frozenset({"stored_model"})

    def __init__(self, target: str, *, model_name: str, dim: int, settings=None) -> None:  # type: ignore[no-untyped-def]
        if target in STORES:
            STORES[target] = (model_name, dim, STORES[target][2])
        super().__init__(target, model_name=model_name, dim=dim, settings=settings)

    @classmethod
    def stored_model(cls, target: str, settings=None) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
        return None


class ForgetfulSink(MemorySink):
    """Keeps records only as long as the handle lives."""

    def close(self) -> None:
        self.records.clear()


class FlatSearchSink(MemorySink):
    """Searches by cosine, its hits rebuilt from the fields a flat table of the first sinks
    had: the provenance of a record's words is lost."""

    capabilities = frozenset({"search"})
    KEPT = ("id", "media", "modality", "start_sec", "end_sec", "text", "tokens", "model_name")

    def search(self, vector, k, filters=None):  # type: ignore[no-untyped-def]
        def cosine(r: EmbeddingRecord) -> float:
            dot = sum(a * b for a, b in zip(vector, r.embedding, strict=True))
            return dot / (
                sum(a * a for a in vector) ** 0.5 * sum(b * b for b in r.embedding) ** 0.5
            )

        wanted = (filters or {}).get("media_id")
        found = [r for r in self.records.values() if wanted in (None, r.media["id"])]
        found.sort(key=cosine, reverse=True)
        return [self.hit(r) | {"score": cosine(r)} for r in found[:k]]

    def hit(self, r: EmbeddingRecord) -> dict[str, object]:
        media = {k: v for k, v in r.media.items() if k != "language"}
        return {k: v for k, v in r.to_json().items() if k in self.KEPT} | {"media": media}


class NullSpeakingSink(FlatSearchSink):
    """Keeps the provenance, but says `None`/`false` for a record that had none."""

    def hit(self, r: EmbeddingRecord) -> dict[str, object]:
        out = {k: v for k, v in r.to_json().items() if k != "embedding"}
        return out | {
            "transcript_source": r.transcript_source,
            "times_interpolated": r.times_interpolated,
        }


def fresh_targets(folder: Path, suffix: str = "") -> Callable[[], str]:
    numbers = itertools.count()
    return lambda: str(folder / f"store{next(numbers)}{suffix}")


def rules_broken(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {o.rule: o.problem for o in report.broken}


def test_a_minimal_sink_keeps_the_contract(tmp_path: Path) -> None:
    report = check_sink(MemorySink, fresh_targets(tmp_path))
    assert rules_broken(report) == {}
    assert {o.rule for o in report.outcomes if o.skipped} == {
        "stored_model names what the store holds",
        "without its resume manifest, a store still refuses another model",
        "search finds the exact vector first, scored by cosine",
        "text_search finds the record holding the exact code first",
        PROVENANCE_RULE,
    }


@pytest.mark.parametrize(
    ("sink_cls", "rule", "said"),
    [
        (DuplicatingSink, "writing a record twice stores it once", "returned 2, not 1"),
        (
            PromiscuousSink,
            "without its resume manifest, a store still refuses another model",
            "stored_model must name the model the store holds",
        ),
        (ForgetfulSink, "records survive closing and reopening the store", "count('a') is 0"),
        (FlatSearchSink, PROVENANCE_RULE, "came back in its hit saying {}"),
        (NullSpeakingSink, PROVENANCE_RULE, "saying none of them came back in its hit saying {'"),
    ],
)
def test_a_broken_sink_fails_the_rule_it_breaks(
    sink_cls: type[Sink], rule: str, said: str, tmp_path: Path
) -> None:
    broken = rules_broken(check_sink(sink_cls, fresh_targets(tmp_path)))
    assert rule in broken, broken
    assert said in broken[rule]


@pytest.mark.parametrize(
    ("module", "cls", "suffix"),
    [
        ("vtembed.plugins.sinks.jsonl", "JsonlSink", ".jsonl"),
        ("vtembed.plugins.sinks.lancedb", "LanceDbSink", ".lance"),
        ("vtembed.plugins.sinks.milvus", "MilvusSink", ".db"),
    ],
)
def test_built_in_sinks_keep_every_rule(module: str, cls: str, suffix: str, tmp_path: Path) -> None:
    sink_cls = getattr(__import__(module, fromlist=[cls]), cls)
    report = check_sink(sink_cls, fresh_targets(tmp_path, suffix))
    assert rules_broken(report) == {}
    assert not [o for o in report.outcomes if o.skipped], "built-ins search and report models"


def test_local_embedder_and_source_keep_theirs(cache_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vtembed.plugins.embedders.local import LocalEmbedder
    from vtembed.plugins.sources.local import LocalSource

    monkeypatch.setenv("VTEMBED_CACHE_DIR", str(cache_dir))
    settings = load_settings()
    embedder = check_embedder(LocalEmbedder, settings)
    assert rules_broken(embedder) == {} and len(embedder.outcomes) == 3
    source = check_source(LocalSource, settings, str(ROOT / "examples" / "media"))
    assert rules_broken(source) == {} and not [o for o in source.outcomes if o.skipped]


def test_a_source_that_fetches_in_accepts_is_caught(tmp_path: Path) -> None:
    import socket

    from vtembed.plugins.sources.local import LocalSource

    class Chatty(LocalSource):
        name = "chatty"

        @classmethod
        def accepts(cls, locator: str) -> bool:
            socket.create_connection(("127.0.0.1", 9), timeout=0.1)
            return False

    report = check_source(Chatty, load_settings())
    assert (
        "accepts opened a network connection"
        in rules_broken(report)["accepts answers without the network"]
    )


def test_plugins_check_names_broken_rules_and_exits_1(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "leaky_sink.py").write_text(
        "from tests.unit.test_contracts import ForgetfulSink as LeakySink\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}"}
    bad = vtembed("plugins", "check", "leaky_sink:LeakySink", env=env)
    assert bad.code == 1, bad.text
    assert "  BROKEN   records survive closing and reopening the store: " in bad.out
    assert bad.out.strip().endswith("1 rule(s) broken")
    good = vtembed("plugins", "check", "vtembed.plugins.sinks.jsonl:JsonlSink")
    assert good.code == 0, good.text
    assert good.out.count("  ok       ") == 11 and "keeps its contract" in good.out
    typo = vtembed("plugins", "check", "vtembed.plugins.sinks.jsonl:NoSuch")
    assert typo.code == 2 and typo.err.startswith("error: vtembed.plugins.sinks.jsonl:NoSuch: ")
    listed = vtembed("plugins", "--json")
    assert listed.code == 0 and '"name": "jsonl"' in listed.out
