"""The bundled multilingual base, loaded for real: it transcribes English as tiny.en does, tells
Spanish from English per item, and a language the model cannot do is refused before any work."""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import pytest

from tests import media_factory as mf
from vtembed.errors import UsageError
from vtembed.media import DecodeResult, PcmWindow, pcm_windows, probe
from vtembed.settings import WhisperSettings
from vtembed.transcriber import Transcriber

pytestmark = pytest.mark.slow  # loads Whisper

ENGLISH = "The sun came up over the small town. A man walked his dog down the quiet street."
SPANISH = (
    "Hola, me llamo Juan. Vivo en Madrid con mi familia. "
    "Todos los días camino al trabajo por la mañana."
)


def _windows(path: Path) -> list[PcmWindow]:
    return list(pcm_windows(probe(str(path)), 300.0, DecodeResult()))


def _text(words: list) -> str:  # type: ignore[type-arg]
    return "".join(w.text for w in words)


def _wer(reference: str, hypothesis: str) -> float:
    clean = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    return jiwer.wer(reference, hypothesis, reference_transform=clean, hypothesis_transform=clean)


@pytest.fixture(scope="module")
def base(cache_dir: Path) -> Transcriber:
    return Transcriber(WhisperSettings(model="base", language="auto"), cache_dir)


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory, tools: None) -> list[PcmWindow]:
    return _windows(mf.speech_wav(tmp_path_factory.mktemp("en") / "en.wav", ENGLISH))


@pytest.fixture(scope="module")
def spanish(tmp_path_factory: pytest.TempPathFactory, tools: None) -> list[PcmWindow]:
    return _windows(mf.speech_wav(tmp_path_factory.mktemp("es") / "es.wav", SPANISH, voice="es"))


def test_base_is_multilingual_and_detects_per_item(base: Transcriber) -> None:
    assert base.multilingual is True
    assert base.language is None
    assert base.device.device == "cpu"


def test_base_transcribes_english(base: Transcriber, english: list[PcmWindow]) -> None:
    transcript = base.transcribe(english)
    assert transcript.language == "en"
    assert _wer(ENGLISH, _text(list(transcript.words))) <= 0.1, transcript.words
    assert transcript.words[0].start_sec < 1.0


def test_spanish_is_detected_as_spanish(base: Transcriber, spanish: list[PcmWindow]) -> None:
    language, probability = base.item_language(spanish[0].samples)
    assert language == "es"
    assert probability > 0.5
    transcript = base.transcribe(spanish)
    assert transcript.language == "es"
    assert {"familia", "trabajo"} <= set(re.findall(r"\w+", _text(list(transcript.words)).lower()))


def test_the_item_language_given_is_the_one_whisper_uses(
    base: Transcriber, spanish: list[PcmWindow]
) -> None:
    """What the pipeline passes for an item's later windows reaches Whisper: Spanish speech
    transcribed as English is another text than as Spanish."""
    as_spanish = _text(base.window_words(spanish[0], language="es"))
    as_english = _text(base.window_words(spanish[0], language="en"))
    assert "trabajo" in as_spanish.lower()
    assert _wer(as_spanish, as_english) > 0.5


def test_tiny_en_told_auto_transcribes_english(english: list[PcmWindow]) -> None:
    tiny = Transcriber(WhisperSettings(language="auto"))
    assert (tiny.multilingual, tiny.language) == (False, "en")
    assert tiny.item_language(english[0].samples) == ("en", 1.0)
    assert tiny.transcribe(english).language == "en"


def test_spanish_for_tiny_en_is_refused_at_start() -> None:
    with pytest.raises(UsageError, match=r"whisper\.language es: this Whisper model is English"):
        Transcriber(WhisperSettings(language="es"))


def test_a_language_base_does_not_know_is_refused(cache_dir: Path) -> None:
    with pytest.raises(UsageError, match=r"whisper\.language klingon: not a language"):
        Transcriber(WhisperSettings(model="base", language="klingon"), cache_dir)
