"""Settings, from the most to the least specific: CLI flags > env `VTEMBED_*` > `.env` >
`--config FILE.toml` > the shipped `config/default.toml`.

The defaults below and `config/default.toml` are kept equal by a test, so the file is an honest,
commented list of every setting. Loading is strict: a file that is not TOML, a name that is no
setting (in any source) or a value out of range is one UsageError before any work.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from vtembed import settings_check as check
from vtembed.errors import UsageError

# A nested table refuses keys it does not know: the names are checked with their source and a
# suggestion in `settings_check` first, so this is the backstop should that walk miss one.
_STRICT = ConfigDict(extra="forbid")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vtembed"


class ModelSpec(BaseModel):
    """The limits of one embedding model: they decide chunking and segmenting. An embedder
    declares the models it serves with theirs (`Embedder.models`)."""

    model_config = _STRICT

    dim: int = Field(ge=1)
    text_token_limit: int = Field(ge=3)
    """At least 3: CLIP's count includes the start and end tokens, so 2 leave no room for a word."""
    tokenizer: str = "clip"
    """The counter chunking measures text with (`vtembed.token_counters`)."""
    audio_segment_sec: float = Field(gt=0)
    protocol: str = ""
    """The wire protocol a remote embedder speaks for this model ("" for local models)."""


class ModelOverride(BaseModel):
    """A `[models."NAME"]` table: any of a ModelSpec's fields, laid over the spec the embedder
    declares field by field, so `text_token_limit = 60` alone keeps the declared dimension. A
    table for a model no embedder declares gives every required field and adds that model."""

    model_config = _STRICT

    dim: int | None = Field(None, ge=1)
    text_token_limit: int | None = Field(None, ge=3)
    tokenizer: str | None = None
    audio_segment_sec: float | None = Field(None, gt=0)
    protocol: str | None = None

    def given(self) -> dict[str, Any]:
        """The fields this table sets."""
        return self.model_dump(exclude_none=True)

    def missing(self, declared: ModelSpec | None) -> list[str]:
        """Required fields neither this table nor the declared spec give."""
        if declared is not None:
            return []
        required = [n for n, f in ModelSpec.model_fields.items() if f.is_required()]
        return [name for name in required if name not in self.given()]

    def over(self, declared: ModelSpec | None) -> ModelSpec:
        """The spec this table makes of the declared one (or of nothing, if it is complete)."""
        base = declared.model_dump() if declared is not None else {}
        return ModelSpec.model_validate({**base, **self.given()})


class WhisperSettings(BaseModel):
    model_config = _STRICT

    model: str = ""
    """"" is the bundled tiny.en, "base" the bundled multilingual base (`vtembed[base]`)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto: a CUDA GPU when CTranslate2 sees one, else the CPU (`vtembed.whisper_device`)."""
    compute_type: str = "int8"
    """The compute type on the CPU."""
    cuda_compute_type: str = "float16"
    """The compute type on a CUDA GPU."""
    beam_size: int = Field(5, ge=1)
    vad: bool = True
    language: str = "en"
    """A language code, or "auto": detected per item by a multilingual model ("en" for tiny.en)."""
    cpu_threads: int = Field(0, ge=0)
    window_sec: float = Field(300.0, gt=0)
    batch_size: int = Field(4, ge=1)
    """VAD speech chunks decoded together (faster-whisper's batched pipeline); 1: the plain
    call, one chunk after another."""
    workers: int = Field(0, ge=0)
    """Whisper calls at once on the one loaded model (windows or items side by side); 0: one
    per core on a CPU (at most 4), one on a GPU (`vtembed.whisper_workers`)."""

    @property
    def batched(self) -> bool:
        """Whether windows go through faster-whisper's batched pipeline: VAD's speech chunks
        decoded `batch_size` at a time. It needs VAD to find the chunks, so `vad = false` is
        the plain call too."""
        return self.batch_size > 1 and self.vad


class PipelineSettings(BaseModel):
    model_config = _STRICT

    overlap: bool = True
    windows_ahead: int = Field(0, ge=0)
    frames_ahead: int = Field(4, ge=1)
    """Keyframes (read and OCR'd beside Whisper) that may wait for the item's next part."""
    parts_waiting: int = Field(8, ge=1)
    batches_in_flight: int = Field(4, ge=1)
    records_per_write: int = Field(256, ge=1)
    items_at_once: int = Field(0, ge=0)
    """Items transcribed side by side; 0: as many as `whisper.workers` gives."""


class RaySettings(BaseModel):
    model_config = _STRICT

    address: str = ""
    workers: int = Field(0, ge=0)
    gpus_per_worker: float = Field(0.0, ge=0)
    """GPUs (or a fraction of one) each Whisper actor asks Ray for: its `num_gpus`."""
    split_files: bool = True
    """A file longer than one Whisper window (`whisper.window_sec`) is transcribed window by
    window on several actors at once (`vtembed.item_windows`); false: each file by one actor."""


class ServeSettings(BaseModel):
    model_config = _STRICT

    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    """0 lets the system choose a free port."""
    max_upload_mb: float = Field(50.0, gt=0)
    fetch_urls: bool = False
    """Whether requests that link media (`audio_url`, `image_url`) make the server fetch it
    (off: the server makes no requests of its own)."""
    fetch_private_urls: bool = False
    """With `fetch_urls`, also loopback, private and link-local addresses (off: public only)."""


class FramesSettings(BaseModel):
    """What is seen: shots cut at scene changes, a keyframe and a thumbnail for each."""

    model_config = _STRICT

    enabled: bool = True
    scene_threshold: float = Field(0.2, gt=0, lt=1)
    """ffmpeg's scene score (0..1) above which a frame starts a new shot; see vtembed.frames."""
    min_shot_sec: float = Field(2.0, ge=0)
    max_shot_sec: float = Field(60.0, gt=0)
    thumbnail_width: int = Field(320, ge=16)
    thumbnails_dir: str = ""
    """Empty: the host decides (beside the sink's store)."""

    @model_validator(mode="after")
    def _min_below_max(self) -> FramesSettings:
        if self.min_shot_sec > self.max_shot_sec:
            raise ValueError("min_shot_sec must not exceed max_shot_sec")
        return self


class CaptionSettings(BaseModel):
    """Captions a media item already has, used as its transcript instead of Whisper's."""

    model_config = _STRICT

    prefer: Literal["auto", "whisper", "captions"] = "auto"
    """auto: captions in Whisper's language (or untagged) stand in for Whisper; captions: any
    captions do, best first; whisper: captions are never read."""


class AssetSettings(BaseModel):
    """What an ingest keeps beside the store so it never has to be computed again."""

    model_config = _STRICT

    keep: bool = True
    """Keep each item's transcript (word times) and shots in the store's assets folder."""
    reuse: bool = True
    """Use a kept transcript and shots of an unchanged item instead of running Whisper and scene
    detection again (false: always recompute, and keep the new ones)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VTEMBED_",
        env_nested_delimiter="__",
        env_file=".env",
        # Not "forbid": the shipped file holds every built-in plugin's table, and `.env` may hold
        # variables that are not settings, whether or not this run has them. Names are checked
        # by `settings_check` before this model sees them.
        extra="ignore",
    )

    embedder: str = "local"
    model: str = ""
    sink: str = "jsonl:vtembed-out/embeddings.jsonl"
    cache_dir: Path = Field(default_factory=default_cache_dir, validate_default=True)
    max_pause_sec: float = Field(2.0, ge=0)
    embed_batch_size: int = Field(32, ge=1)
    progress: Literal["auto", "rich", "plain", "none"] = "auto"
    dry_run: bool = False
    limit: int = Field(0, ge=0)
    since: str = ""
    executor: Literal["threads", "ray"] = "threads"
    """Where items are transcribed: "threads" of this process, or "ray" actors ("local", its
    name before, still means "threads")."""
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    frames: FramesSettings = Field(default_factory=FramesSettings)
    captions: CaptionSettings = Field(default_factory=CaptionSettings)
    assets: AssetSettings = Field(default_factory=AssetSettings)
    models: dict[str, ModelOverride] = Field(default_factory=dict)
    """Overrides of the models embedders declare, and models they do not (`[models."NAME"]`)."""

    @field_validator("executor", mode="before")
    @classmethod
    def _local_executor_is_threads(cls, value: object) -> object:
        return "threads" if value == "local" else value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_cache_dir_means_default(cls, value: object) -> object:
        return default_cache_dir() if value in ("", None) else value


def default_toml() -> Path:
    return Path(str(resources.files("vtembed.config").joinpath("default.toml")))


@dataclass(frozen=True)
class PluginSection:
    """A settings table a plugin declares: `[name]` in TOML, `VTEMBED_NAME__KEY` in the
    environment, `--name-key` on the command line; `env` maps extra variable names (such as
    `TWELVELABS_API_KEY`) to keys of the table."""

    name: str
    model: type[BaseModel]
    env: dict[str, str] = field(default_factory=dict)


class _AliasEnvSource(PydanticBaseSettingsSource):
    """Plugin-declared environment variables, ranked with the other environment variables."""

    def __init__(self, settings_cls: type[BaseSettings], sections: list[PluginSection]) -> None:
        super().__init__(settings_cls)
        self.sections = sections

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for section in self.sections:
            for var, key in section.env.items():
                if os.environ.get(var):
                    found.setdefault(section.name, {})[key] = os.environ[var]
        return found


def load_settings(
    overrides: dict[str, Any] | None = None,
    config: Path | None = None,
    sections: list[PluginSection] | None = None,
    *,
    other_sections: Collection[str] = (),
) -> Settings:
    """Build settings for one run; `overrides` are the CLI flags that were actually given and
    `sections` the settings tables that loaded plugins declare. `other_sections` names tables
    that are valid but not used here (a search leaves the sources' out), so they are accepted
    unchecked; the shipped file's tables always are.

    Every mistake is one UsageError before any value is used: a file that is not TOML, a name
    that is no setting (with the nearest one), then a value out of range (with its source)."""
    if config is not None and not config.is_file():
        raise UsageError(f"config file not found: {config}")
    plugin_sections = list(sections or [])
    shipped = check.read_toml(default_toml(), f"shipped config {default_toml()}")
    user = check.read_toml(config, f"config {config}") if config is not None else None
    run_cls = _run_settings_class(config, plugin_sections)
    others = [*(k for k, v in shipped.items() if isinstance(v, dict)), *other_sections]
    given = _check_names(
        check.tree(run_cls, others), overrides or {}, config, user, plugin_sections
    )
    try:
        return run_cls(**(overrides or {}))
    except ValidationError as exc:
        raise UsageError(f"invalid settings: {check.describe(exc, given)}") from None
    except SettingsError as exc:  # a value pydantic-settings could not parse, say bad JSON
        raise UsageError(f"invalid settings: {exc}") from None


def _run_settings_class(config: Path | None, sections: list[PluginSection]) -> type[Settings]:
    """Settings with the plugins' tables as fields, reading the sources in precedence order."""

    class _RunSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            files = [TomlConfigSettingsSource(settings_cls, toml_file=config)] if config else []
            shipped = TomlConfigSettingsSource(settings_cls, toml_file=default_toml())
            aliases = _AliasEnvSource(settings_cls, sections)
            return (init_settings, env_settings, aliases, dotenv_settings, *files, shipped)

    fields: dict[str, Any] = {s.name: (s.model, Field(default_factory=s.model)) for s in sections}
    return create_model("RunSettings", __base__=_RunSettings, **fields)


def _check_names(
    root: check.Table,
    overrides: dict[str, Any],
    config: Path | None,
    user: dict[str, Any] | None,
    sections: list[PluginSection],
) -> list[check.Walk]:
    """Each source's names checked, in precedence order; what each set, for tracing values."""
    aliases = {var: (s.name, key) for s in sections for var, key in s.env.items()}
    dotenv = Path(".env")
    walks = [
        check.check_overrides(root, overrides),
        check.check_variables(root, dict(os.environ), _env_label, aliases),
        _alias_walk(aliases),
        check.check_variables(
            root, dotenv_values(dotenv) if dotenv.is_file() else {}, _dotenv_label, aliases
        ),
    ]
    if user is not None:
        walks.append(check.check_toml(root, user, f"config {config}"))
    problems = [problem for walk in walks for problem in walk.problems]
    if problems:
        raise UsageError("; ".join(problems))
    return walks


def _alias_walk(aliases: dict[str, tuple[str, str]]) -> check.Walk:
    """The plugins' own variables (`TWELVELABS_API_KEY`): not ours to check, only to trace."""
    given: dict[check.Key, str | None] = {
        key: _env_label(var) for var, key in aliases.items() if os.environ.get(var)
    }
    return check.Walk(given, [])


def _env_label(name: str) -> str:
    return f"environment variable {name}"


def _dotenv_label(name: str) -> str:
    return f"{name} in .env"


def section(settings: Settings, name: str) -> Any:
    """A plugin's own settings table (declared through its `settings_section`)."""
    try:
        return getattr(settings, name)
    except AttributeError:
        raise UsageError(f"settings have no [{name}] table: is its plugin loaded?") from None
