"""What an embedder plugin implements: vectors for text chunks and audio segments.

Like llm's EmbeddingModel: class attributes describe the model, one async batch method does the
work, and the host does the batching. The model's limits (dimension, text tokens, audio segment
length) come from the `[models."NAME"]` table in the settings, so a new model is configuration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from vtembed.errors import UsageError
from vtembed.models import AudioSegment, TextChunk

if TYPE_CHECKING:
    from vtembed.settings import ModelSpec, PluginSection, Settings

Embeddable = TextChunk | AudioSegment


class Embedder(ABC):
    """Subclass, set `name` and `default_model`, register it from `vtembed_register_embedders`."""

    name: ClassVar[str]
    default_model: ClassVar[str]
    batch_size: ClassVar[int] = 32
    audio_embedded_from: ClassVar[str | None] = None
    """"transcript" when audio vectors are computed from the segment's transcript, not its sound."""
    settings_section: ClassVar[PluginSection | None] = None
    """The plugin's own settings table, if it has one (`[name]` in TOML, `--name-key` flags)."""

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        self.settings = settings
        self.model_name = model_name or self.default_model
        spec = settings.models.get(self.model_name)
        if spec is None:
            known = ", ".join(sorted(settings.models))
            raise UsageError(f"unknown model {self.model_name!r} (models in the config: {known})")
        self.spec: ModelSpec = spec

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def text_token_limit(self) -> int:
        return self.spec.text_token_limit

    @property
    def audio_segment_sec(self) -> float:
        return self.spec.audio_segment_sec

    @classmethod
    def serves(cls, model_name: str, settings: Settings) -> bool:
        """Whether this embedder makes vectors of the named model (search picks by the model a
        store holds); by default only its own `default_model`."""
        return model_name == cls.default_model

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[str, str | None]]:
        """Checks for `vtembed doctor` when this embedder is the chosen one: (what was checked,
        None if fine else what to do). By default, that the model it would embed with is in
        the settings' model table; an embedder that needs more (a key, weights, a server)
        extends this list (`super().doctor(settings) + [...]`), and never shows a secret."""
        model = settings.model or cls.default_model
        if model not in settings.models:
            known = ", ".join(sorted(settings.models))
            fix = f'add a [models."{model}"] table to the config (models there: {known})'
            return [(f"embedder {cls.name}: model {model}", fix)]
        return [(f"embedder {cls.name}: model {model}", None)]

    @classmethod
    def hint_when_not_chosen(cls, settings: Settings) -> str | None:
        """A line to show when another embedder runs (say, a key is set but unused)."""
        return None

    def estimate_cost(self, text_requests: int, audio_seconds: float) -> str | None:
        """For `--dry-run`: what sending this much would cost, if the embedder knows prices."""
        return None

    def describe(self) -> str:
        """One line for the start of a run: which embedder and model produce the vectors."""
        return f"embedder {self.name}: model {self.model_name} ({self.dim} dims)"

    def wants(self, item: Embeddable) -> bool:
        """Whether this embedder makes a vector for the item (a text-only one skips silence)."""
        return True

    def uploads_audio(self, media_uri: str) -> bool:
        """Whether the embedder sends the sound of this item's segments itself. Then the
        overlapped pipeline hands out its audio segments with their decoded samples
        (`AudioSegment.samples`), which `vtembed.media.encode_flac` turns into FLAC without
        cutting the file with ffmpeg again; otherwise segments carry no samples."""
        return False

    @abstractmethod
    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        """One vector per input, in order; raise to fail the whole batch's media item."""

    async def aclose(self) -> None:
        """Release clients and pools at the end of a run."""
