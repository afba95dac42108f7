"""`doctor`: everything a run needs, each checked, with what to do about each problem."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.errors import UsageError, VtembedError
from vtembed.paths import folder_problem
from vtembed.settings import Settings, WhisperSettings
from vtembed.whisper_model import BUNDLED_FIX, describe_model, model_dir

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed

Check = tuple[str, str | None]
"""(what was checked, None if it is fine, else what to do about it)."""

INSTALL_FFMPEG = "install it: `sudo apt-get install ffmpeg` (or run `make demo`)"


def doctor(app: Vtembed, settings: Settings) -> list[Check]:
    checks: list[Check] = [_tool("ffmpeg"), _tool("ffprobe")]
    checks.append(_whisper_model(settings.whisper))
    checks.append(_clip_vocab())
    try:
        embedder_cls = app.registry.embedder(settings.embedder)
        checks.extend(embedder_cls.doctor(settings))
    except VtembedError as exc:
        checks.append((f"embedder {settings.embedder}", str(exc)))
    checks.extend(_sink(app, settings))
    checks.append(writable_dir("cache", settings.cache_dir))
    checks.extend(_broken_plugins(app))
    return checks


def _broken_plugins(app: Vtembed) -> list[Check]:
    """Each third-party plugin that was not loaded, with how to start without it."""
    return [
        (f"plugin {b.name} ({b.origin})", f"not loaded: {b.reason}; {b.skip}")
        for b in app.pm.broken
    ]


def _sink(app: Vtembed, settings: Settings) -> list[Check]:
    """The sink's own checks (with their advice), then whether the target is its kind of store,
    which says something new only when those found nothing; then, for a sink that declares
    `stored_model`, whether the store holds the model the chosen embedder makes (an ingest
    would refuse it)."""
    try:
        sink_cls, target = app.registry.sink(settings.sink)
        checks = sink_cls.doctor(target, settings)
        if any(fix is not None for _, fix in checks):
            return checks
        sink_cls.check_target(target, settings)
        if sink_cls.declares("stored_model"):
            held = sink_cls.stored_model(target, settings)
            checks.extend(_held_model(app, settings, sink_cls.scheme, held))
    except VtembedError as exc:
        return [("sink target", str(exc))]
    return checks


def _held_model(
    app: Vtembed, settings: Settings, scheme: str, held: tuple[str, int] | None
) -> list[Check]:
    try:
        model = settings.model or app.registry.embedder(settings.embedder).default_model
    except VtembedError:
        return []  # the embedder's own line says what is wrong
    if held is None or held[0] == model:
        return []
    # Not the sink spec: it may carry credentials.
    return [
        (
            f"the {scheme} store holds {held[0]} ({held[1]} dims)",
            f"embedder {settings.embedder} makes {model}: choose another --sink, or the "
            f"embedder of {held[0]}",
        )
    ]


def _tool(name: str) -> Check:
    path = shutil.which(name)
    if not path:
        return name, f"not found on PATH; {INSTALL_FFMPEG}"
    out = subprocess.run([path, "-version"], capture_output=True, text=True, check=False)
    first = " ".join(out.stdout.split()[:3]) if out.stdout else name
    return first, None if out.returncode == 0 else f"`{name} -version` failed; {INSTALL_FFMPEG}"


def _whisper_model(settings: WhisperSettings) -> Check:
    what = describe_model(settings).replace(" (bundled; English only)", " (bundled)")
    try:
        model_dir(settings)
    except UsageError as exc:
        if not settings.model:
            return what, BUNDLED_FIX
        return what, str(exc).removeprefix(f"whisper.model {settings.model}: ")
    return what, None


def _clip_vocab() -> Check:
    from vtembed.clip_tokens import get_counter

    try:
        get_counter()
    except RuntimeError as exc:
        return "CLIP tokenizer vocabulary", str(exc)
    return "CLIP tokenizer vocabulary (77-token chunking)", None


def writable_dir(what: str, folder: Path) -> Check:
    problem = folder_problem(folder)
    if problem:
        return what, f"{problem}; choose another location"
    return f"{what} writable", None
