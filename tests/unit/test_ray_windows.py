"""A long item's windows, heard out of order by several actors, come back as one item: words in
the media's order, settled once, failed by the first window that fails.

The windows' transcripts are built here (the slow tests in tests/integration/test_ray_executor.py
make them with Whisper); what is tested is the driver's bookkeeping of them."""

from __future__ import annotations

from vtembed.executors.ray_windows import WindowsHeard
from vtembed.executors.ray_worker import Outcome
from vtembed.item_windows import ItemWindow
from vtembed.media import SAMPLE_RATE
from vtembed.models import MediaInfo, MediaItem, Transcript, Word
from vtembed.pipeline import Transcribed

ITEM = MediaItem(id="talk", uri="file:///talk.wav", title="talk", source="local")
INFO = MediaInfo(path="/talk.wav", duration_sec=90.0, audio_stream=0)
BOUNDS = [(0.0, 31.2), (31.2, 59.7), (59.7, 90.0)]


def _windows(item: MediaItem = ITEM) -> tuple[ItemWindow, ...]:
    return tuple(
        ItemWindow(item, i, len(BOUNDS), int(a * SAMPLE_RATE), int(b * SAMPLE_RATE), "en")
        for i, (a, b) in enumerate(BOUNDS)
    )


def _heard(window: ItemWindow, warnings: tuple[str, ...] = ()) -> Outcome:
    start, end = BOUNDS[window.index]
    words = (
        Word(f" w{window.index}a", start + 1, start + 2),
        Word(f" w{window.index}b", end - 2, end - 1),
    )
    done = Transcribed(ITEM, INFO, end, Transcript(words, "en"))
    return Outcome(ITEM, transcribed=done, warnings=warnings)


def test_windows_heard_out_of_order_settle_once_in_the_media_order() -> None:
    heard = WindowsHeard()
    windows = _windows()
    heard.expect(Outcome(ITEM, windows=windows, warnings=("decoding stopped early",)))
    assert heard.settle(windows[2], _heard(windows[2], ("decoding stopped early",))) is None
    assert heard.settle(windows[0], _heard(windows[0])) is None
    whole = heard.settle(windows[1], _heard(windows[1]))
    assert whole is not None and whole.transcribed is not None and not whole.error
    words = whole.transcribed.transcript.words
    assert [w.text for w in words] == [" w0a", " w0b", " w1a", " w1b", " w2a", " w2b"]
    assert [w.start_sec for w in words] == sorted(w.start_sec for w in words)
    assert whole.transcribed.duration_sec == 90.0
    assert whole.warnings == ("decoding stopped early",)  # said by the split and a window: once
    assert not heard.wanted(windows[0])  # settled: nothing of it is waited for any more


def test_the_first_window_that_fails_fails_the_item_and_the_rest_are_not_wanted() -> None:
    heard = WindowsHeard()
    windows = _windows()
    other = _windows(MediaItem(id="other", uri="file:///o.wav", title="o", source="local"))
    heard.expect(Outcome(ITEM, windows=windows))
    heard.expect(Outcome(other[0].item, windows=other))
    assert heard.settle(windows[0], _heard(windows[0])) is None
    failed = heard.settle(windows[1], Outcome(ITEM, error="cannot be decoded (in its window 2)"))
    assert failed is not None and failed.transcribed is None
    assert failed.error == "cannot be decoded (in its window 2)"
    assert not heard.wanted(windows[2])
    assert heard.settle(windows[2], _heard(windows[2])) is None  # a late window changes nothing
    assert all(heard.wanted(w) for w in other)  # another item's windows are still wanted


def test_a_window_says_where_it_is() -> None:
    assert _windows()[1].describe() == "window 2 of 3 (31.2-59.7 s)"
