"""`vtembed.whisper_steps`: on a CPU the batch's encoder and word alignment, and the VAD's frames,
go through their models in small steps, for memory. The steps must give what the whole batch
gives: the same encoder output, the same word times, the same speech probabilities. Real tiny.en
and Silero VAD on generated speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import media_factory as mf
from vtembed.whisper_model import bundled_model_dir
from vtembed.whisper_steps import _align_each, _encode_each, _FramesInSteps, chunk_by_chunk_on_cpu

pytestmark = pytest.mark.slow  # runs Whisper

CHUNK = 30 * 16000


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory, tools: None) -> np.ndarray:
    from faster_whisper import decode_audio

    path = mf.long_speech_wav(tmp_path_factory.mktemp("steps") / "talk.wav", 1.6)
    return decode_audio(str(path))


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    """A model of its own, not patched: the test wraps its methods itself."""
    from faster_whisper import WhisperModel

    return WhisperModel(str(bundled_model_dir()), device="cpu", compute_type="int8")


def _features(model, audio: np.ndarray, chunks: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    pieces = [audio[i * CHUNK : (i + 1) * CHUNK] for i in range(chunks)]
    return np.stack([model.feature_extractor(piece)[..., :3000] for piece in pieces])


def test_the_encoder_sees_one_chunk_at_a_time_and_gives_the_whole_batchs_output(  # type: ignore[no-untyped-def]
    model, audio: np.ndarray
) -> None:
    features = _features(model, audio, 3)
    seen: list[int] = []

    def encode(batch: np.ndarray):  # type: ignore[no-untyped-def]
        seen.append(len(batch))
        return model.encode(batch)

    stepped = np.asarray(_encode_each(encode)(features))
    whole = np.asarray(model.encode(features))
    assert seen == [1, 1, 1]
    assert stepped.shape == whole.shape == (3, 1500, 384)
    np.testing.assert_allclose(stepped, whole, atol=1e-4)


def test_word_times_aligned_chunk_by_chunk_equal_the_whole_batchs(model, audio: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(model.hf_tokenizer, False)
    features = _features(model, audio, 3)
    encoded = model.encode(features)
    prompt = [[*tokenizer.sot_sequence, tokenizer.no_timestamps]] * 3
    tokens = [r.sequences_ids[0] for r in model.model.generate(encoded, prompt, beam_size=1)]
    assert all(len(t) > 10 for t in tokens)  # every chunk has speech to align
    calls: list[int] = []

    def find_alignment(tok, text_tokens, encoder_output, num_frames, *args):  # type: ignore[no-untyped-def]
        calls.append(len(text_tokens))
        return model.find_alignment(tok, text_tokens, encoder_output, num_frames, *args)

    stepped = _align_each(find_alignment)(tokenizer, tokens, encoded, [1500, 1500, 1500])
    whole = model.find_alignment(tokenizer, tokens, encoded, [1500, 1500, 1500])
    assert calls == [1, 1, 1]
    assert [[w["word"] for w in chunk] for chunk in stepped] == [
        [w["word"] for w in chunk] for chunk in whole
    ]
    for ours, theirs in zip(stepped, whole, strict=True):
        times = [[(w["start"], w["end"]) for w in chunk] for chunk in (ours, theirs)]
        np.testing.assert_allclose(*times, atol=0.02)


def test_vad_in_steps_gives_the_speech_probabilities_of_one_run(audio: np.ndarray) -> None:
    from faster_whisper.vad import SileroVADModel, get_assets_path

    vad = SileroVADModel(str(Path(get_assets_path()) / "silero_vad_v6.onnx"))
    padded = np.pad(audio, (0, 512 - len(audio) % 512))
    whole = vad(padded)
    vad.session = _FramesInSteps(vad.session, 500)  # 90 s of audio is 2800 frames: 6 steps
    stepped = vad(padded)
    assert stepped.shape == whole.shape
    assert float(stepped.max()) > 0.9 and float(stepped.min()) < 0.1  # speech and pauses both
    np.testing.assert_allclose(stepped, whole, atol=1e-6)


def test_on_a_gpu_the_batch_stays_whole(model) -> None:  # type: ignore[no-untyped-def]
    before = (model.encode, model.find_alignment)
    chunk_by_chunk_on_cpu(model, "cuda")
    assert (model.encode, model.find_alignment) == before
