"""Settings, from the most to the least specific: CLI flags > env `VTEMBED_*` > `.env` >
`--config FILE.toml` > the shipped `config/default.toml`.

The defaults below and `config/default.toml` are kept equal by a test, so the file is an honest,
commented list of every setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator
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
    protocol: str = ""
    """The wire protocol a remote embedder speaks for this model ("" for local models)."""


class WhisperSettings(BaseModel):
    model: str = ""
    compute_type: str = "int8"
    beam_size: int = 5
    vad: bool = True
    language: str = "en"
    cpu_threads: int = 0
    window_sec: float = 300.0


class PipelineSettings(BaseModel):
    overlap: bool = True
    windows_ahead: int = Field(1, ge=0)
    parts_waiting: int = Field(8, ge=1)
    batches_in_flight: int = Field(4, ge=1)


class RaySettings(BaseModel):
    address: str = ""
    workers: int = Field(0, ge=0)


class ServeSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload_mb: float = 50.0


def _default_models() -> dict[str, ModelSpec]:
    return {
        "Marengo-retrieval-2.7": ModelSpec(
            dim=1024, text_token_limit=77, audio_segment_sec=10.0, protocol="twelvelabs-embed-v1"
        ),
        "marengo3.0": ModelSpec(
            dim=512, text_token_limit=500, audio_segment_sec=10.0, protocol="twelvelabs-embed-v1"
        ),
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
    dry_run: bool = False
    limit: int = Field(0, ge=0)
    since: str = ""
    executor: Literal["local", "ray"] = "local"
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    models: dict[str, ModelSpec] = Field(default_factory=_default_models)

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
) -> Settings:
    """Build settings for one run; `overrides` are the CLI flags that were actually given and
    `sections` the settings tables that loaded plugins declare."""
    if config is not None and not config.is_file():
        raise UsageError(f"config file not found: {config}")
    plugin_sections = list(sections or [])

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
            aliases = _AliasEnvSource(settings_cls, plugin_sections)
            return (init_settings, env_settings, aliases, dotenv_settings, *files, shipped)

    fields: dict[str, Any] = {
        s.name: (s.model, Field(default_factory=s.model)) for s in plugin_sections
    }
    run_cls = create_model("RunSettings", __base__=_RunSettings, **fields)
    try:
        return run_cls(**(overrides or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise UsageError(f"invalid settings: {problems}") from None


def section(settings: Settings, name: str) -> Any:
    """A plugin's own settings table (declared through its `settings_section`)."""
    try:
        return getattr(settings, name)
    except AttributeError:
        raise UsageError(f"settings have no [{name}] table: is its plugin loaded?") from None
