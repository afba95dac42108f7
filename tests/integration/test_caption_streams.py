"""Captions found beside and inside real media files (ffmpeg-made), read with their times."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from vtembed.caption_finder import FoundCaptions, extract_stream, find_captions, read_first, streams
from vtembed.captions import CaptionError, Cue

pytestmark = pytest.mark.usefixtures("tools")

CUES = [(0.5, 1.7, "Hello there"), (2.0, 3.25, "General Kenobi"), (3.4, 3.9, "You are a bold one")]
SRT = (
    "1\n00:00:00,500 --> 00:00:01,700\nHello there\n\n"
    "2\n00:00:02,000 --> 00:00:03,250\n<i>General</i> Kenobi\n\n"
    "3\n00:00:03,400 --> 00:00:03,900\nYou are a bold one\n"
)
FRENCH = "1\n00:00:01,000 --> 00:00:02,000\nBonjour\n"


def ffmpeg(*args: str | Path) -> None:
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 s testsrc + tone file, and the caption files muxed into the others (stream-copied,
    so no encoder delay shifts the subtitles)."""
    root = tmp_path_factory.mktemp("captions")
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=s=160x120:d=4:r=10", "-f", "lavfi", "-i", "sine=d=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", root / "av.mkv",
    )  # fmt: skip
    (root / "en.srt").write_text(SRT, encoding="utf-8")
    (root / "fr.srt").write_text(FRENCH, encoding="utf-8")
    return root


def mux(work: Path, name: str, *streams: tuple[str, str, str]) -> Path:
    """av.mkv plus subtitle streams (file, codec, extra -metadata/-disposition args)."""
    args: list[str | Path] = ["-i", work / "av.mkv"]
    for file, _, _ in streams:
        args += ["-i", work / file]
    args += ["-map", "0:v", "-map", "0:a"]
    for n in range(len(streams)):
        args += ["-map", f"{n + 1}:s"]
    args += ["-c:v", "copy", "-c:a", "copy"]
    for n, (_, codec, extra) in enumerate(streams):
        args += [f"-c:s:{n}", codec, *extra.format(n=n).split()]
    out = work / name
    ffmpeg(*args, out)
    return out


def timed(cues: list[Cue]) -> list[tuple[float, float, str]]:
    return [(c.start_sec, c.end_sec, c.text) for c in cues]


def assert_cues(cues: list[Cue], expected: list[tuple[float, float, str]] = CUES) -> None:
    assert [c.text for c in cues] == [text for _, _, text in expected]
    for cue, (start, end, _) in zip(cues, expected, strict=True):
        assert cue.start_sec == pytest.approx(start, abs=0.05)
        assert cue.end_sec == pytest.approx(end, abs=0.05)


@pytest.mark.parametrize(
    ("name", "codec", "probed"),
    [("subrip.mkv", "srt", "subrip"), ("movtext.mp4", "mov_text", "mov_text"),
     ("webvtt.mkv", "webvtt", "webvtt"), ("ass.mkv", "ass", "ass")],
)  # fmt: skip
def test_a_text_subtitle_stream_reads_with_its_times(
    work: Path, name: str, codec: str, probed: str
) -> None:
    media = mux(work, name, ("en.srt", codec, "-metadata:s:s:{n} language=eng"))
    found = find_captions(str(media))
    assert [(f.kind, f.language, f.stream, f.fmt) for f in found] == [
        ("stream", "eng", 0, {"webvtt": "vtt", "ass": "ass"}.get(probed, "srt"))
    ]
    assert f"subtitle stream 0 ({probed}, eng)" in found[0].description
    assert_cues(found[0].read())


def test_streams_are_ranked_english_first_and_forced_ones_are_never_offered(work: Path) -> None:
    media = mux(
        work,
        "three.mkv",
        ("fr.srt", "ass", "-metadata:s:s:{n} language=fre -disposition:s:{n} default"),
        ("en.srt", "srt", "-metadata:s:s:{n} language=eng -disposition:s:{n} forced"),
        ("en.srt", "srt", "-metadata:s:s:{n} language=eng -disposition:s:{n} 0"),
    )
    found = find_captions(str(media))
    assert [(f.language, f.stream) for f in found] == [("eng", 2), ("fre", 0)]
    assert_cues(found[0].read())
    assert_cues(found[1].read(), [(1.0, 2.0, "Bonjour")])


def test_sidecars_beside_the_file_and_how_they_rank(work: Path) -> None:
    folder = work / "sidecars"
    folder.mkdir()
    media = mux(work, "with-stream.mkv", ("en.srt", "srt", "-metadata:s:s:{n} language=eng"))
    shutil.copy(media, folder / "Talk.mkv")
    shutil.copy(media, folder / "Talk.part2.mkv")  # its own sidecars are not Talk's
    vtt = "WEBVTT\n\n00:00.500 --> 00:01.700\nHello there\n"
    files = {
        "Talk.en-US.vtt": vtt,
        "Talk.srt": SRT,
        "talk.fr.SRT": FRENCH,
        "Talk.en.forced.srt": SRT,
        "Talk.part2.srt": SRT,
        "Talk.part2.en.srt": SRT,
        "Talker.srt": SRT,
        "Talk.txt": "not captions",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    found = find_captions(str(folder / "Talk.mkv"))
    assert [(f.kind, Path(f.path).name, f.language) for f in found] == [
        ("sidecar", "Talk.en-US.vtt", "en-us"),
        ("stream", "Talk.mkv", "eng"),
        ("sidecar", "Talk.srt", None),
        ("sidecar", "talk.fr.SRT", "fr"),
    ]
    assert_cues(found[0].read(), [(0.5, 1.7, "Hello there")])
    assert found[0].description == str(folder / "Talk.en-US.vtt")
    assert_cues(found[2].read())


def test_an_unreadable_sidecar_is_one_warning_and_the_next_captions_are_used(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = work / "broken"
    folder.mkdir()
    media = mux(work, "fallback.mkv", ("en.srt", "srt", "-metadata:s:s:{n} language=eng"))
    shutil.copy(media, folder / "show.mkv")
    (folder / "show.en.srt").write_text("1\n00:00:0x,500 --> 00:00:01,700\nHi\n")
    with caplog.at_level(logging.WARNING, logger="vtembed.caption_finder"):
        result = read_first(find_captions(str(folder / "show.mkv")))
    assert result is not None
    chosen, cues = result
    assert chosen.kind == "stream"
    assert_cues(cues)
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        f"{folder / 'show.en.srt'}: cannot read SRT captions: line 2: cannot read the timing "
        "'00:00:0x,500 --> 00:00:01,700'"
    ]


def test_nothing_readable_means_none(work: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = work / "none"
    folder.mkdir()
    shutil.copy(work / "av.mkv", folder / "plain.mkv")
    assert find_captions(str(folder / "plain.mkv")) == []
    (folder / "plain.srt").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="vtembed.caption_finder"):
        assert read_first(find_captions(str(folder / "plain.mkv"))) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"{folder / 'plain.srt'}: cannot read captions: the file is empty"
    ]


def test_a_missing_stream_is_a_caption_error_naming_it(work: Path) -> None:
    with pytest.raises(CaptionError, match=r"av\.mkv subtitle stream 3: cannot extract captions"):
        extract_stream(str(work / "av.mkv"), 3, "srt")


def test_picture_subtitles_are_skipped() -> None:
    """ffmpeg cannot make picture subtitles from text, so this is ffprobe's JSON for a DVD rip."""
    info = {
        "streams": [
            {"codec_type": "video", "codec_name": "mpeg2video"},
            {"codec_type": "subtitle", "codec_name": "dvd_subtitle", "tags": {"language": "eng"}},
            {"codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle"},
            {"codec_type": "subtitle", "codec_name": "subrip", "tags": {"language": "und"}},
        ]
    }
    assert streams("/m/rip.mkv", info) == [
        FoundCaptions(
            "stream", "/m/rip.mkv subtitle stream 2 (subrip, no language)", "srt", None,
            "/m/rip.mkv", 2,
        )
    ]  # fmt: skip
