"""The `[milvus]` settings table: collection naming, the server token, index and read
consistency, and timeouts (what `vtembed.plugins.sinks.milvus` is configured with)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from vtembed.settings import PluginSection

__all__ = ["SECTION", "MilvusSettings"]


class MilvusSettings(BaseModel):
    collection_prefix: str = Field(
        "embeddings",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Collections are named <collection_prefix>_<model name>.",
    )
    token: SecretStr | None = Field(None, description="Server token; also MILVUS_TOKEN.")
    index_type: str = Field(
        "", description="Vector index (HNSW, ...); empty: exact IVF_FLAT on Lite, else AUTOINDEX."
    )
    index_params: dict[str, int | float | str] = Field(
        default_factory=dict, description="Index build parameters, e.g. {M = 16}."
    )
    search_params: dict[str, int | float | str] = Field(
        default_factory=dict, description="Search parameters, e.g. {ef = 64}."
    )
    consistency: Literal["Strong", "Session", "Bounded", "Eventually"] = Field(
        "Session", description="Read consistency of counts and searches."
    )
    connect_timeout_sec: float = Field(10.0, gt=0, description="Seconds to reach a server.")
    timeout_sec: float = Field(120.0, gt=0, description="Seconds one request may take.")


SECTION = PluginSection("milvus", MilvusSettings, env={"MILVUS_TOKEN": "token"})
