"""Settings, from the most to the least specific: CLI flags > env `VTEMBED_*` > `.env` >
`--config FILE.toml` > the shipped `config/default.toml`.

The defaults below and `config/default.toml` are kept equal by a test, so the file is an honest,
commented list of every setting.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vtembed.errors import UsageError


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vtembed"


class ModelSpec(BaseModel):
    """The limits of one embedding model: they decide chunking and segmenting."""

    dim: int
    text_token_limit: int
    tokenizer: str = "clip"
    audio_segment_sec: float


class WhisperSettings(BaseModel):
    model: str = ""
    compute_type: str = "int8"
    beam_size: int = 5
    vad: bool = True
    language: str = "en"
    cpu_threads: int = 0
    window_sec: float = 300.0


class ServeSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload_mb: float = 50.0


def _default_models() -> dict[str, ModelSpec]:
    return {
        "Marengo-retrieval-2.7": ModelSpec(dim=1024, text_token_limit=77, audio_segment_sec=10.0),
        "marengo3.0": ModelSpec(dim=512, text_token_limit=500, audio_segment_sec=10.0),
        "all-MiniLM-L6-v2": ModelSpec(dim=384, text_token_limit=77, audio_segment_sec=10.0),
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VTEMBED_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    embedder: str = "local"
    model: str = ""
    sink: str = "jsonl:vtembed-out/embeddings.jsonl"
    cache_dir: Path = Field(default_factory=default_cache_dir, validate_default=True)
    max_pause_sec: float = 2.0
    embed_batch_size: int = 32
    progress: str = "auto"
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    models: dict[str, ModelSpec] = Field(default_factory=_default_models)

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_cache_dir_means_default(cls, value: object) -> object:
        return default_cache_dir() if value in ("", None) else value


def default_toml() -> Path:
    return Path(str(resources.files("vtembed.config").joinpath("default.toml")))


def load_settings(overrides: dict[str, Any] | None = None, config: Path | None = None) -> Settings:
    """Build settings for one run; `overrides` are the CLI flags that were actually given."""
    if config is not None and not config.is_file():
        raise UsageError(f"config file not found: {config}")

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
            return (init_settings, env_settings, dotenv_settings, *files, shipped)

    try:
        return _RunSettings(**(overrides or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise UsageError(f"invalid settings: {problems}") from None
