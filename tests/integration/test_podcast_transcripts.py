"""Which `podcast:transcript` the podcast source picks, from feeds served on 127.0.0.1: timed
formats only, language before format, SRT before WebVTT before JSON, absolute URLs, and
fingerprints that name the transcript only when there is one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.http_media_server import MediaServer, Route
from vtembed.models import MediaItem
from vtembed.plugins.sources.podcast import PodcastSource
from vtembed.plugins.sources.podcast_transcripts import TranscriptTag, choose
from vtembed.settings import load_settings
from vtembed.source import Failed, Skipped

NS = "https://podcastindex.org/namespace/1.0"
SRT, VTT, JSON = "application/x-subrip", "text/vtt", "application/json"


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer().start()
    yield srv
    srv.stop()


def _tag(url: str, kind: str, language: str = "", prefix: str = "podcast") -> str:
    lang = f' language="{language}"' if language else ""
    return f'<{prefix}:transcript url="{url}" type="{kind}"{lang} rel="captions"/>'


def _feed(items: dict[str, str], ns: str = NS, prefix: str = "podcast", extra: str = "") -> bytes:
    """RSS 2.0 in `en-us`; each item is a guid with its transcript tags, an MP3 enclosure of
    length 1234 (no length for guid `no-length`)."""
    body = "".join(
        f"<item><title>Episode {guid}</title><guid>{guid}</guid>"
        f'<enclosure url="/media/{guid}.mp3" type="audio/mpeg"'
        f"{'' if guid == 'no-length' else ' length=' + chr(34) + '1234' + chr(34)}/>{tags}</item>"
        for guid, tags in items.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:{prefix}="{ns}">'
        f"<channel><title>Loopback{extra}</title><language>en-us</language>{body}</channel></rss>"
    ).encode()


def _items(locator: str) -> dict[str, MediaItem]:
    source = PodcastSource(load_settings(None, None, [PodcastSource.settings_section]))
    found = list(source.discover(locator))
    assert not [f for f in found if isinstance(f, Failed | Skipped)], found
    return {f.guid or "": f for f in found if isinstance(f, MediaItem)}


def _chosen(items: dict[str, MediaItem]) -> dict[str, tuple[str | None, str | None]]:
    return {guid: (i.transcript_url, i.transcript_type) for guid, i in items.items()}


def test_each_episode_gets_its_best_timed_transcript(server: MediaServer) -> None:
    items = {
        "srt": _tag("/t/srt.srt", SRT, "en") + _tag("/t/srt.html", "text/html", "en"),
        "vtt": _tag("https://cdn.example.org/t/vtt.vtt?sig=abc", VTT, "en"),
        "json": _tag("t/json.json", JSON),
        "html-only": _tag("/t/h.html", "text/html") + _tag("/t/h.txt", "text/plain"),
        "formats": _tag("/t/f.html", "text/html", "en")
        + _tag("/t/f.json", JSON, "en")
        + _tag("/t/f.vtt", VTT, "en")
        + _tag("/t/f.srt", "application/srt", "en")
        + _tag("/t/f2.srt", "text/srt", "en"),
        "languages": _tag("/t/l-de.srt", SRT, "de")
        + _tag("/t/l-fr.vtt", VTT, "fr")
        + _tag("/t/l.json", JSON)
        + _tag("/t/l-gb.vtt", VTT, "en-GB"),
        "none-before-other": _tag("/t/n-de.srt", SRT, "de") + _tag("/t/n.json", JSON),
        "plain": "",
    }
    feed = server.add("/show/feed.xml", Route(_feed(items), content_type="application/rss+xml"))
    base = server.base
    assert _chosen(_items(feed)) == {
        "srt": (f"{base}/t/srt.srt", SRT),
        "vtt": ("https://cdn.example.org/t/vtt.vtt?sig=abc", VTT),
        "json": (f"{base}/show/t/json.json", JSON),  # relative to the feed's own URL
        "html-only": (None, None),
        "formats": (f"{base}/t/f.srt", "application/srt"),  # the first SRT of equal language
        "languages": (f"{base}/t/l-gb.vtt", VTT),  # the feed's language beats the format
        "none-before-other": (f"{base}/t/n.json", JSON),
        "plain": (None, None),
    }


def test_feedparser_alone_would_see_only_the_last_tag() -> None:
    """Why the source reads the document itself: feedparser keeps one tag per item, the last,
    under the feed's own prefix."""
    tags = _tag("a.srt", SRT, prefix="pc") + _tag("a.html", "text/html", prefix="pc")
    doc = _feed({"g": tags}, prefix="pc")
    entry = feedparser.parse(doc).entries[0]
    assert entry["pc_transcript"]["url"] == "a.html"
    assert "podcast_transcript" not in entry


def test_any_prefix_and_the_early_namespace_uri_count(server: MediaServer) -> None:
    early = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
    for ns in (NS, early):
        tags = _tag("/a.srt", SRT, prefix="pc") + _tag("/a.html", "text/html", prefix="pc")
        doc = _feed({"g": tags}, ns, "pc")
        feed = server.add(f"/{len(ns)}/feed.xml", Route(doc, content_type="text/xml"))
        assert _chosen(_items(feed)) == {"g": (f"{server.base}/a.srt", SRT)}
    other = _feed({"g": _tag("/a.srt", SRT, prefix="x")}, "https://example.org/not-podcast", "x")
    feed = server.add("/other/feed.xml", Route(other, content_type="text/xml"))
    assert _chosen(_items(feed)) == {"g": (None, None)}


def test_a_feed_expat_cannot_read_falls_back_to_feedparsers_last_tag(server: MediaServer) -> None:
    """`&nbsp;` is no XML entity: feedparser reads such feeds (many exist), expat does not."""
    items = {
        "srt-last": _tag("/a.html", "text/html") + _tag("/a.srt", SRT),
        "html-last": _tag("/b.srt", SRT) + _tag("/b.html", "text/html"),
    }
    doc = _feed(items, extra="&nbsp;FM")
    feed = server.add("/bad/feed.xml", Route(doc, content_type="text/xml"))
    assert _chosen(_items(feed)) == {
        "srt-last": (f"{server.base}/a.srt", SRT),
        "html-last": (None, None),  # the SRT before it is lost: Whisper it is
    }


def test_fingerprint_names_the_transcript_only_when_there_is_one(server: MediaServer) -> None:
    def fingerprints(first: str, second: str) -> dict[str, str]:
        doc = _feed({"with": _tag(first, SRT), "without": "", "no-length": _tag(second, VTT)})
        feed = server.add("/fp/feed.xml", Route(doc, content_type="text/xml"))
        return {guid: item.fingerprint for guid, item in _items(feed).items()}

    before = fingerprints("/t/one.srt", "/t/one.vtt")
    after = fingerprints("/t/two.srt?v=2", "")
    # The rule the source had before it read transcripts: length, else the enclosure URL.
    assert before["without"] == after["without"] == "length=1234"
    assert after["no-length"] == f"url={server.base}/media/no-length.mp3"
    assert before["with"] == f"length=1234 transcript={server.base}/t/one.srt"
    assert after["with"] == f"length=1234 transcript={server.base}/t/two.srt?v=2"
    assert before["no-length"] == f"{after['no-length']} transcript={server.base}/t/one.vtt"


def test_a_feed_on_disk_may_name_local_transcripts_but_one_on_the_web_may_not(
    tmp_path: Path, server: MediaServer
) -> None:
    doc = _feed({"rel": _tag("captions/ep.srt", SRT), "abs": _tag("file:///etc/ep.srt", SRT)})
    (tmp_path / "feed.xml").write_bytes(doc)
    local = _chosen(_items(str(tmp_path / "feed.xml")))
    assert local == {
        "rel": ((tmp_path / "captions" / "ep.srt").as_uri(), SRT),
        "abs": ("file:///etc/ep.srt", SRT),
    }
    feed = server.add("/web/feed.xml", Route(doc, content_type="text/xml"))
    remote = _chosen(_items(feed))
    assert remote == {"rel": (f"{server.base}/web/captions/ep.srt", SRT), "abs": (None, None)}


@pytest.mark.parametrize(
    ("feed_language", "expected"),
    [
        ("de-DE", "de.vtt"),  # the feed's language first
        ("en", "en.json"),  # English is the feed's language here
        ("es", "en.json"),  # English next
        (None, "en.json"),
    ],
)
def test_language_ranks(feed_language: str | None, expected: str) -> None:
    tags = [
        TranscriptTag("fr.srt", SRT, "fr"),
        TranscriptTag("none.srt", SRT),
        TranscriptTag("en.json", JSON, "EN_us"),
        TranscriptTag("de.vtt", f"{VTT}; charset=utf-8", "de"),
    ]
    chosen = choose(tags, "https://example.org/feed.xml", feed_language)
    assert chosen is not None and chosen.url == f"https://example.org/{expected}"
    without_languages = [TranscriptTag("fr.srt", SRT, "fr"), TranscriptTag("none.vtt", VTT)]
    none_first = choose(without_languages, "https://example.org/", feed_language)
    assert none_first is not None and none_first.url.endswith("none.vtt")
