"""What an embedder plugin implements: vectors for text chunks and audio segments.

Like llm's EmbeddingModel: class attributes describe the model, one async batch method does the
work, and the host does the batching. An embedder declares the models it serves with their limits
(dimension, text tokens and tokenizer, audio segment length) in `models`, so a third-party one
ships its own; a `[models."NAME"]` settings table overrides some of those limits or adds a model,
so a new model of a known protocol is configuration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from vtembed import token_counters
from vtembed.errors import UsageError
from vtembed.models import AudioSegment, ImageFrame, TextChunk, VideoClip

if TYPE_CHECKING:
    from vtembed.settings import ModelSpec, PluginSection, Settings
    from vtembed.token_counters import TokenCounter

Embeddable = TextChunk | AudioSegment | ImageFrame | VideoClip


class Embedder(ABC):
    """Subclass, set `name` and `default_model`, register it from `vtembed_register_embedders`."""

    name: ClassVar[str]
    default_model: ClassVar[str]
    models: ClassVar[Mapping[str, ModelSpec]] = {}
    """The models this embedder serves, by name, with their limits; `[models."NAME"]` settings
    tables override fields of these (field by field) or add models."""
    batch_size: ClassVar[int] = 32
    audio_embedded_from: ClassVar[str | None] = None
    """"transcript" when audio vectors are computed from the segment's transcript, not its sound."""
    image_input: ClassVar[str | None] = None
    """How the embedder takes a shot's keyframe: None (it does not; no frames are cut for it),
    "ocr" (the host reads the picture's text first and the embedder embeds that text) or "file"
    (the embedder reads the picture itself: `ImageFrame.image_path`, a JPEG, as CLIP or Marengo
    do; its records have no text)."""
    video_input: ClassVar[bool] = False
    """Whether the embedder takes clips of the picture (`VideoClip`, "modality": "video"),
    cutting or linking them itself; the host cuts each shot into clips for it."""
    text_languages: ClassVar[tuple[str, ...]] = ()
    """Languages the text model was trained for ("en": English-first); empty: not declared.
    A run whose Whisper language is another (or detected per item) says so at its start."""
    settings_section: ClassVar[PluginSection | None] = None
    """The plugin's own settings table, if it has one (`[name]` in TOML, `--name-key` flags)."""

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        self.settings = settings
        self.model_name = model_name or self.default_model
        self.spec: ModelSpec = self.model_spec(self.model_name, settings)
        if not self._counts_itself():
            token_counters.require(self.spec.tokenizer)  # an unknown name fails now, not mid-run

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def text_token_limit(self) -> int:
        return self.spec.text_token_limit

    @property
    def audio_segment_sec(self) -> float:
        return self.spec.audio_segment_sec

    def token_counter(self) -> TokenCounter:
        """What chunking counts text with against `text_token_limit`: by default the counter
        the model's `tokenizer` names; an embedder with its own tokenizer returns it here."""
        return token_counters.counter(self.spec.tokenizer)

    @classmethod
    def find_model(cls, model_name: str, settings: Settings) -> ModelSpec | None:
        """The model's limits as this embedder would embed with them: its declared spec with
        the settings' table for the model laid over it; a model it does not declare only by a
        table that gives every limit. None when neither says enough."""
        declared = cls.models.get(model_name)
        table = settings.models.get(model_name)
        if table is None:
            return declared
        return None if table.missing(declared) else table.over(declared)

    @classmethod
    def model_spec(cls, model_name: str, settings: Settings) -> ModelSpec:
        """`find_model`, or a UsageError naming the models this embedder knows."""
        spec = cls.find_model(model_name, settings)
        if spec is not None:
            return spec
        table = settings.models.get(model_name)
        if table is not None:
            missing = ", ".join(table.missing(None))
            raise UsageError(
                f'the [models."{model_name}"] table lacks {missing}: embedder {cls.name} does '
                f"not declare {model_name}, so the table must give every limit"
            )
        known = ", ".join(cls.known_models(settings)) or "none"
        raise UsageError(
            f"unknown model {model_name!r} for embedder {cls.name} (its models: {known}; "
            f'another needs a full [models."{model_name}"] table in the config)'
        )

    @classmethod
    def known_models(cls, settings: Settings) -> list[str]:
        """The models it declares, and those the settings add with a full table."""
        added = [name for name, table in settings.models.items() if not table.missing(None)]
        return sorted({*cls.models, *added})

    @classmethod
    def serves(cls, model_name: str, settings: Settings) -> bool:
        """Whether this embedder makes vectors of the named model (search picks by the model a
        store holds): by default a model it declares, or one a full settings table adds whose
        `protocol` is one its declared models speak (a newer model of the same API)."""
        if model_name in cls.models:
            return True
        spec = cls.find_model(model_name, settings)
        spoken = {s.protocol for s in cls.models.values() if s.protocol}
        return spec is not None and spec.protocol in spoken

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[str, str | None]]:
        """Checks for `vtembed doctor` when this embedder is the chosen one: (what was checked,
        None if fine else what to do). By default, that it knows the model it would embed with
        (declared or given a full settings table) and its tokenizer; an embedder that needs
        more (a key, weights, a server) extends this list (`super().doctor(settings) + [...]`),
        and never shows a secret."""
        model = settings.model or cls.default_model
        what = f"embedder {cls.name}: model {model}"
        try:
            spec = cls.model_spec(model, settings)
            if not cls._counts_itself():
                token_counters.require(spec.tokenizer)
        except UsageError as exc:
            return [(what, str(exc))]
        return [(what, None)]

    @classmethod
    def for_store(cls, settings: Settings, model_name: str, dim: int) -> Embedder:
        """The embedder that makes query vectors for a store holding `model_name` vectors of
        `dim` dims. By default simply `cls(settings, model_name)`; a model with a choice of
        dimensions (Matryoshka) picks the one the store was made with."""
        return cls(settings, model_name)

    def usage(self) -> Mapping[str, int]:
        """Tokens the endpoint says it counted, by content type, for the run summary (an API
        that bills by tokens reports them); by default none."""
        return {}

    @classmethod
    def hint_when_not_chosen(cls, settings: Settings) -> str | None:
        """A line to show when another embedder runs (say, a key is set but unused)."""
        return None

    def estimate_cost(
        self,
        text_requests: int,
        audio_seconds: float,
        image_requests: int = 0,
        video_seconds: float = 0.0,
    ) -> str | None:
        """For `--dry-run`: what sending this much would cost, if the embedder knows prices."""
        return None

    def describe(self) -> str:
        """One line for the start of a run: which embedder and model produce the vectors."""
        return f"embedder {self.name}: model {self.model_name} ({self.dim} dims)"

    def wants(self, item: Embeddable) -> bool:
        """Whether this embedder makes a vector for the item (a text-only one skips silence, one
        without `image_input` every picture, one without `video_input` every clip)."""
        if isinstance(item, VideoClip):
            return self.video_input
        return not isinstance(item, ImageFrame) or self.image_input is not None

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

    @classmethod
    def _counts_itself(cls) -> bool:
        """Whether it overrides `token_counter`, so its spec's tokenizer need not be one we know."""
        return cls.token_counter is not Embedder.token_counter
