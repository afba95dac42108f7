"""The podcast source against a real server on 127.0.0.1: a generated feed with an MP3 that has
cover art, an M4A behind a redirect, a 404 enclosure and an item without one; ids from guids, so
a rerun or a moved enclosure never downloads or writes an episode twice; OPML lists of feeds,
XML that is no feed, and episodes that share a guid."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import MediaServer, Route
from vtembed.discovery import discover
from vtembed.manifest import ManifestRow
from vtembed.media import probe
from vtembed.models import stable_id
from vtembed.plugin_manager import build_manager
from vtembed.plugins.sources.podcast import PodcastSource
from vtembed.plugins.sources.podcast_episodes import parse_duration
from vtembed.prune_plan import look, plan
from vtembed.registry import Registry, build_registry
from vtembed.settings import load_settings
from vtembed.source import Failed, Skipped

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

RSS_TYPE = "application/rss+xml"
PUBLISHED = {"ep-1": "2024-01-02T09:00:00Z", "ep-2": "2024-02-03T04:05:06Z"}


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory, tools: None) -> dict[str, bytes]:
    """An MP3 with an attached cover picture (a video stream ffmpeg must ignore) and an M4A."""
    folder = tmp_path_factory.mktemp("episodes")
    wav = mf.speech_wav(folder / "speech.wav", trim=True)
    cover, mp3 = folder / "cover.png", folder / "ep1.mp3"
    mf._ffmpeg("-f", "lavfi", "-i", "color=c=navy:s=64x64", "-frames:v", "1", cover)
    mf._ffmpeg(
        *("-i", wav, "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame"),
        *("-c:v", "mjpeg", "-disposition:v", "attached_pic", "-id3v2_version", "3", mp3),
    )
    m4a = mf.speech_media(folder, "ep2", "m4a")
    return {"mp3": mp3.read_bytes(), "m4a": m4a.read_bytes()}


@pytest.fixture
def server(episodes: dict[str, bytes]) -> Iterator[MediaServer]:
    srv = MediaServer().start()
    srv.add("/media/ep1.mp3", Route(episodes["mp3"], content_type="audio/mpeg", etag='"e1"'))
    srv.add("/media/ep2.m4a", Route(episodes["m4a"], content_type="audio/mp4", etag='"e2"'))
    srv.add("/old/ep2.m4a", Route(redirect_to="/media/ep2.m4a"))
    yield srv
    srv.stop()


def rss(
    server: MediaServer, episodes: dict[str, bytes], ep1: str = "/media/ep1.mp3", ep2: str = ""
) -> bytes:
    """RSS 2.0 with iTunes durations in three forms; ep-2's enclosure URL is relative unless
    `ep2` is given."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="style.xsl"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Loopback Radio</title><link>{server.base}/</link>
<item><title>Episode one: the cover</title><guid isPermaLink="false">ep-1</guid>
  <pubDate>Tue, 02 Jan 2024 10:00:00 +0100</pubDate><itunes:duration>4</itunes:duration>
  <enclosure url="{server.url(ep1)}" type="audio/mpeg" length="{len(episodes["mp3"])}"/></item>
<item><title>Episode two: the redirect</title><guid>ep-2</guid>
  <pubDate>Sat, 03 Feb 2024 04:05:06 GMT</pubDate><itunes:duration>00:04.5</itunes:duration>
  <enclosure url="{ep2 or "/old/ep2.m4a"}" type="audio/x-m4a"
   length="{len(episodes["m4a"])}"/></item>
<item><title>Episode three: gone</title><guid>ep-3</guid>
  <pubDate>Sun, 03 Mar 2024 00:00:00 GMT</pubDate><itunes:duration>0:01:02</itunes:duration>
  <enclosure url="{server.url("/media/missing.mp3")}" type="audio/mpeg" length="1000"/></item>
<item><title>Show notes only</title><guid>notes-1</guid><description>No audio.</description></item>
</channel></rss>""".encode()


def atom(server: MediaServer) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Radio</title><id>urn:feed</id>
<updated>2024-05-01T00:00:00Z</updated>
<entry><title>Atom episode</title><id>urn:uuid:atom-1</id>
  <updated>2024-05-01T12:30:00+02:00</updated>
  <link rel="enclosure" type="audio/mpeg" href="{server.url("/media/ep1.mp3")}"/></entry>
</feed>""".encode()


def _env(tmp_path: Path) -> dict[str, str]:
    return {"VTEMBED_URL__CACHE_DIR": str(tmp_path / "downloads")}


def _media(path: Path) -> dict[str, dict]:
    return {r["media"]["id"]: r["media"] for r in records(path)}


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_feed_gives_good_episodes_once_and_a_moved_enclosure_is_no_new_episode(  # type: ignore[no-untyped-def]
    tmp_path: Path, episodes: dict[str, bytes], server: MediaServer, vtembed
) -> None:
    feed = server.add("/podcast/feed.xml", Route(rss(server, episodes), content_type=RSS_TYPE))
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", feed, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert run.code == 1, run.text
    errors = _errors(run.err)
    assert len(errors) == 1 and "404" in errors[0], run.err
    missing = server.url("/media/missing.mp3")
    assert errors[0].startswith(f'error: {missing} ("Episode three: gone"): '), run.err
    assert run.summary["items"]["ok"] == 2 and run.summary["items"]["skipped"] >= 1
    assert f"skipped: {feed} :: Show notes only (no audio or video enclosure)" in run.text
    media = _media(out)
    assert {m["guid"] for m in media.values()} == {"ep-1", "ep-2"}
    for media_id, m in media.items():
        assert media_id == stable_id("podcast-guid", m["guid"]) and m["source"] == "podcast"
        assert m["published"] == PUBLISHED[m["guid"]]
    by_guid = {m["guid"]: m for m in media.values()}
    assert by_guid["ep-1"]["title"] == "Episode one: the cover"
    assert by_guid["ep-1"]["uri"] == server.url("/media/ep1.mp3")
    assert by_guid["ep-2"]["title"] == "Episode two: the redirect"
    assert by_guid["ep-2"]["uri"] == server.url("/old/ep2.m4a")  # resolved against the feed
    assert any("dog" in r["text"] for r in records(out) if r["media"]["guid"] == "ep-1")
    before, gets = out.read_bytes(), dict(server.gets)

    again = vtembed("ingest", feed, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert again.code == 1 and again.summary["items"]["done_before"] == 2, again.text
    assert out.read_bytes() == before
    enclosures = ("/media/ep1.mp3", "/media/ep2.m4a", "/old/ep2.m4a")
    assert all(server.gets[p] == gets[p] for p in enclosures)  # nothing downloaded again

    server.add("/cdn/ep1.mp3", Route(episodes["mp3"], content_type="audio/mpeg", etag='"e1"'))
    server.add("/podcast/feed.xml", Route(rss(server, episodes, "/cdn/ep1.mp3"), RSS_TYPE))
    moved = vtembed("ingest", feed, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert moved.summary["items"]["done_before"] == 2 and out.read_bytes() == before, moved.text
    assert server.gets["/cdn/ep1.mp3"] == 0


def test_local_feed_file_sniffed_feed_url_and_atom(  # type: ignore[no-untyped-def]
    tmp_path: Path, episodes: dict[str, bytes], server: MediaServer, vtembed
) -> None:
    local = tmp_path / "show.txt"  # the content decides, not the name
    local.write_bytes(rss(server, episodes, ep2=server.url("/old/ep2.m4a")))
    sniffed = server.add("/shows/42", Route(atom(server), content_type="text/html"))
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", str(local), sniffed, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert run.code == 1 and len(_errors(run.err)) == 1, run.text
    media = _media(out)
    assert {m["guid"] for m in media.values()} == {"ep-1", "ep-2", "urn:uuid:atom-1"}
    by_guid = {m["guid"]: m for m in media.values()}
    assert by_guid["urn:uuid:atom-1"]["published"] == "2024-05-01T10:30:00Z"
    assert by_guid["urn:uuid:atom-1"]["title"] == "Atom episode"
    assert by_guid["ep-2"]["uri"] == server.url("/old/ep2.m4a")
    assert "/media/missing.mp3" in _errors(run.err)[0] and server.gets["/media/missing.mp3"] == 1


def _taker(registry: Registry, locator: str) -> str:
    """The source whose discovery took the locator (those above it declined), by the items it
    found, else by its one failure's words."""
    found = discover([locator], registry, load_settings(None, None, registry.settings_sections()))
    found.close()
    names = {item.source for item in found.items}
    if not names and len(found.failed) == 1:
        return found.failed[0].reason
    assert len(names) == 1 and not found.failed, (found.items, found.failed)
    return names.pop()


def test_feeds_are_claimed_and_media_urls_are_not(
    tmp_path: Path, episodes: dict[str, bytes], server: MediaServer
) -> None:
    registry = build_registry(build_manager())
    feed = server.add("/podcast/feed.xml", Route(rss(server, episodes), content_type=RSS_TYPE))
    sniffed = server.add("/shows/7", Route(rss(server, episodes), "text/xml"))
    page = server.add("/about", Route(b"<!doctype html><html>rss</html>", "text/html"))
    bare_media = server.add("/download", Route(episodes["mp3"], content_type="audio/mpeg"))
    ranked = [registry.source_for(u) for u in (feed, sniffed, page, bare_media)]
    assert ranked == [PodcastSource] * 4 and sum(server.gets.values()) == 0  # no request
    assert sum(server.heads.values()) == 0  # accepts reads the string alone
    assert registry.source_for(feed) is PodcastSource and server.gets["/podcast/feed.xml"] == 0
    assert registry.source_for(server.url("/media/ep1.mp3")).name == "url"
    assert [c.name for c in registry.sources_for(page)][-1] == "url"  # asked last
    assert _taker(registry, feed) == "podcast"
    assert _taker(registry, sniffed) == "podcast"  # an extension-less feed URL is a feed
    # A web page, not a feed (yt-dlp extra): yt-dlp takes it, and finds nothing to play.
    assert _taker(registry, page).startswith("yt-dlp could not find media on the page")
    assert _taker(registry, server.url("/media/ep1.mp3")) == "url"
    assert _taker(registry, bare_media) == "url"  # extension-less media stays media
    assert server.gets["/media/ep1.mp3"] == 0 and server.gets["/download"] == 0  # a HEAD said so
    not_feed = tmp_path / "notes.xml"
    not_feed.write_text('<?xml version="1.0"?><notes>about <rss> feeds</notes>')
    feed_file = tmp_path / "feed.bin"
    feed_file.write_bytes(rss(server, episodes))
    assert PodcastSource.accepts(str(not_feed)) and PodcastSource.accepts(str(feed_file))
    assert _taker(registry, str(not_feed)) == "local" and _taker(registry, str(feed_file)) == (
        "podcast"
    )  # the content decides, in discovery
    assert not PodcastSource.accepts(str(tmp_path))
    (tmp_path / "ep.mp3").write_bytes(rss(server, episodes))
    assert not PodcastSource.accepts(str(tmp_path / "ep.mp3"))  # a media name is never a feed


def test_unreadable_feeds_are_one_failure_each(tmp_path: Path, server: MediaServer) -> None:
    source = PodcastSource(load_settings(None, None, [PodcastSource.settings_section]))
    server.add("/html/feed.xml", Route(b"<!doctype html><p>sign in</p>", "text/html"))
    gone = list(source.discover(server.url("/gone/feed.xml")))
    html = list(source.discover(server.url("/html/feed.xml")))
    missing = list(source.discover(str(tmp_path / "nope.xml")))
    assert gone == [
        Failed(server.url("/gone/feed.xml"), "cannot read the feed: HTTP 404 Not Found")
    ]
    assert len(html) == 1 and "not an RSS or Atom feed" in html[0].reason
    assert len(missing) == 1 and "No such file" in missing[0].reason


def test_itunes_durations() -> None:
    assert parse_duration("4") == 4.0 and parse_duration("00:04.5") == 4.5
    assert parse_duration("1:02:03") == 3723.0 and parse_duration("01:02:03.25") == 3723.25
    assert parse_duration("") is None and parse_duration("soon") is None
    assert parse_duration(None) is None and parse_duration("1:2:3:4") is None


def test_cover_art_is_not_the_audio(episodes: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "ep1.mp3"
    path.write_bytes(episodes["mp3"])
    streams = [s["codec_type"] for s in mf.probe(path)["streams"]]
    assert sorted(streams) == ["audio", "video"]  # the attached picture is a video stream
    info = probe(str(path))
    assert info.codec == "mp3" and info.audio_stream == 0 and info.duration_sec > 1


OPML_TYPE = "text/x-opml"


def opml(*feeds: str) -> bytes:
    """A subscription list as podcast apps export it: a flat outline and a folder of them."""
    first, *rest = feeds
    nested = "".join(f'<outline type="rss" text="f" xmlUrl="{f}"/>' for f in rest)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My subscriptions</title></head><body>
<outline type="rss" text="first" title="first" xmlUrl="{first}"/>
<outline text="Folder">{nested}</outline>
</body></opml>""".encode()


def _discover(locator: str) -> tuple[list, list[Failed]]:
    registry = build_registry(build_manager())
    found = discover([locator], registry, load_settings(None, None, registry.settings_sections()))
    found.close()
    return found.items, found.failed


def test_an_opml_list_ingests_the_feeds_it_lists(
    tmp_path: Path, episodes: dict[str, bytes], server: MediaServer
) -> None:
    feed = server.add("/podcast/feed.xml", Route(rss(server, episodes), content_type=RSS_TYPE))
    atom_feed = server.add("/atom", Route(atom(server), content_type="application/atom+xml"))
    gone = server.url("/gone/feed.xml")
    listed = server.add("/me/subscriptions", Route(opml(feed, gone, atom_feed), OPML_TYPE))
    local = tmp_path / "subs.opml"
    local.write_bytes(opml(feed, gone, atom_feed))
    assert PodcastSource.accepts(str(local)) and sum(server.gets.values()) == 0
    for locator in (listed, str(local)):
        items, failed = _discover(locator)
        assert {i.guid for i in items} == {"ep-1", "ep-2", "ep-3", "urn:uuid:atom-1"}
        assert failed == [Failed(locator, f"{gone}: cannot read the feed: HTTP 404 Not Found")]
        by_guid = {i.guid: i for i in items}
        assert by_guid["ep-2"].uri == server.url("/old/ep2.m4a")  # resolved against its feed
    assert server.gets["/podcast/feed.xml"] == 2 and server.gets["/media/ep1.mp3"] == 0


def test_opml_episodes_keep_their_feed_as_origin(
    episodes: dict[str, bytes], server: MediaServer
) -> None:
    """The source gives each episode its feed as origin, so `prune FEED` covers it."""
    feed = server.add("/podcast/feed.xml", Route(rss(server, episodes), content_type=RSS_TYPE))
    atom_feed = server.add("/atom", Route(atom(server), content_type="application/atom+xml"))
    listed = server.add("/subs.opml", Route(opml(feed, atom_feed), OPML_TYPE))
    source = PodcastSource(load_settings(None, None, [PodcastSource.settings_section]))
    found = [f for f in source.discover(listed) if not isinstance(f, Failed | Skipped)]
    source.close()
    assert {f.guid: f.origin for f in found} == {
        "ep-1": feed,
        "ep-2": feed,
        "ep-3": feed,
        "urn:uuid:atom-1": atom_feed,
    }


def test_xml_that_is_no_feed_is_one_failure_and_a_shared_guid_one_line(
    tmp_path: Path, server: MediaServer, caplog: pytest.LogCaptureFixture
) -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>'
    items = b"<foo><item><title>a</title></item><item><title>b</title></item></foo>"
    for path, body in (("/art/feed.xml", svg), ("/odd/rss", items)):
        url = server.add(path, Route(body, content_type="application/xml"))
        root = "svg" if body is svg else "foo"
        assert _discover(url) == (
            [],
            [Failed(url, f"not an RSS or Atom feed (the root element is <{root}>)")],
        )
    enclosure = server.url("/media/ep1.mp3")
    twice = "".join(
        f"<item><title>{title}</title><guid>same</guid>"
        f'<enclosure url="{enclosure}" type="audio/mpeg" length="9"/></item>'
        for title in ("Newest post", "Older copy")
    )
    feed = server.add(
        "/dup/feed.xml",
        Route(f"<rss version='2.0'><channel>{twice}</channel></rss>".encode(), RSS_TYPE),
    )
    with caplog.at_level(logging.INFO):
        found, failed = _discover(feed)
    assert [i.title for i in found] == ["Newest post"] and failed == []
    lines = [r.getMessage() for r in caplog.records if "guid" in r.getMessage()]
    assert lines == [f'feed {feed}: 2 episodes share guid same; kept the first ("Newest post")']


def test_prune_of_an_opml_list_keeps_all_while_a_feed_is_down_and_drops_unlisted_feeds(
    episodes: dict[str, bytes], server: MediaServer
) -> None:
    """The episodes of a list are covered by the list (the origin discovery gives them): a
    listed feed that is down keeps everything; a feed taken out of the list is gone."""
    feed = server.add("/podcast/feed.xml", Route(rss(server, episodes), content_type=RSS_TYPE))
    own = atom(server).replace(b"/media/ep1.mp3", b"/media/atom.mp3")  # no URI shared
    atom_feed = server.add("/atom", Route(own, content_type="application/atom+xml"))
    listed = server.add("/subs.opml", Route(opml(feed, atom_feed), OPML_TYPE))
    items, _ = _discover(listed)
    rows = [ManifestRow(i.id, i.uri, i.origin, "done", 1) for i in items]
    assert len(rows) == 4
    registry = build_registry(build_manager())
    settings = load_settings(None, None, registry.settings_sections())

    server.add("/atom", Route(status=503))
    down = look(listed, rows, registry, settings)
    assert f"{atom_feed}: cannot read the feed: HTTP 503" in down.failed
    assert plan([down]).gone == []

    server.add("/subs.opml", Route(opml(feed), OPML_TYPE))
    unlisted = plan([look(listed, rows, registry, settings)])
    assert [row.uri for row in unlisted.gone] == [server.url("/media/atom.mp3")]
