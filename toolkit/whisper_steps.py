"""On a CPU, Whisper's batch and the VAD's frames go through their models in small steps.

Why: peak memory. faster-whisper hands each model a whole batch at once, which on a CPU buys little
or no speed but holds every item's intermediate matrices together, and those moments were the
peaks of a run. Two calls side by side met in them more often on a long file than on a short one,
so peak RSS grew with the length of the file. Measured on tiny.en, one 300-s window:

- encoding a batch of 4 thirty-second chunks: +330 MiB (a 1500 x 1500 self-attention per head and
  chunk); one chunk at a time +52 MiB, identical output, 12 % sooner;
- aligning words for the batch: +150 MiB; one chunk at a time nothing measurable, 40 % sooner;
- Silero VAD over the window: +95 MiB (all 9375 frames in one run); 1000 frames at a time (its
  LSTM state carried from step to step) nothing measurable, identical speech probabilities.

On a GPU the batch stays whole: there batching is the speed, and the outputs may not live on the
host. Beam search (`generate`) keeps its batch on every device: at batch 4 it added 18 MiB.
(At batch 8 a whole ingest still peaked about 230 MiB higher than at 4, not traced to a step;
the default batch is 4.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


def chunk_by_chunk_on_cpu(model: WhisperModel, device: str) -> None:
    """Rebinds the model's `encode` and `find_alignment` (the two methods the batched pipeline
    calls with a whole batch) to loop over the batch when the model runs on the CPU."""
    if device != "cpu":
        return
    model.encode = _encode_each(model.encode)  # type: ignore[method-assign]
    model.find_alignment = _align_each(model.find_alignment)  # type: ignore[method-assign]


def _encode_each(encode: Callable[..., Any]) -> Callable[..., Any]:
    def encode_each(features: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        if features.ndim == 2 or len(features) == 1:
            return encode(features, *args, **kwargs)
        parts = [
            np.asarray(encode(features[i : i + 1], *args, **kwargs)) for i in range(len(features))
        ]
        return _storage(np.concatenate(parts))

    return encode_each


def _align_each(find_alignment: Callable[..., Any]) -> Callable[..., Any]:
    def align_each(
        tokenizer: Any,
        text_tokens: list[list[int]],
        encoder_output: Any,
        num_frames: int | list[int],
        *args: Any,
        **kwargs: Any,
    ) -> list[Any]:
        if len(text_tokens) <= 1:
            return find_alignment(
                tokenizer, text_tokens, encoder_output, num_frames, *args, **kwargs
            )
        encoded = np.asarray(encoder_output)
        frames = num_frames if isinstance(num_frames, list) else [num_frames] * len(text_tokens)
        aligned: list[Any] = []
        for i, tokens in enumerate(text_tokens):
            one = _storage(np.ascontiguousarray(encoded[i : i + 1]))
            aligned.extend(find_alignment(tokenizer, [tokens], one, [frames[i]], *args, **kwargs))
        return aligned

    return align_each


def _storage(array: np.ndarray) -> Any:
    """A CTranslate2 view of `array`; the view keeps the array alive."""
    import ctranslate2

    return ctranslate2.StorageView.from_array(array)


VAD_FRAMES_PER_RUN = 1000  # 32 s of 512-sample frames


@functools.cache
def vad_in_steps() -> None:
    """Has faster-whisper's shared Silero VAD run `VAD_FRAMES_PER_RUN` frames at a time (once per
    process; every call of `get_speech_timestamps` goes through that one model)."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()
    model.session = _FramesInSteps(model.session, VAD_FRAMES_PER_RUN)


class _FramesInSteps:
    """An onnxruntime session for Silero VAD that runs its frames in steps, carrying the LSTM
    state (`h`, `c`) from one to the next as the model does within a run."""

    def __init__(self, session: Any, frames: int) -> None:
        self.session = session
        self.frames = frames

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        frames, h, c = feeds["input"], feeds["h"], feeds["c"]
        outputs = []
        for i in range(0, len(frames), self.frames):
            step = {"input": frames[i : i + self.frames], "h": h, "c": c}
            output, h, c = self.session.run(names, step)
            outputs.append(output)
        return [np.concatenate(outputs), h, c]
