"""The podcast source's pure parsing: two-digit years, OPML outlines, one item per guid, and
documents that are XML but no feed."""

from __future__ import annotations

import logging

import feedparser
import pytest

from vtembed.plugins.sources.podcast import NOT_A_FEED, _feed
from vtembed.plugins.sources.podcast_dates import rfc2822_year, two_digit_year_date
from vtembed.plugins.sources.podcast_episodes import Episode, feed_items
from vtembed.plugins.sources.podcast_opml import feed_urls, is_opml_start
from vtembed.source import Failed, Skipped

BASE = "https://example.org/show/feed.xml"


def _entries(items: str) -> list:
    return feedparser.parse(f"<rss version='2.0'><channel>{items}</channel></rss>").entries


def _item(guid: str, title: str, url: str) -> str:
    return (
        f"<item><title>{title}</title><guid>{guid}</guid>"
        f"<enclosure url='{url}' type='audio/mpeg' length='10'/></item>"
    )


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Wed, 01 Jan 49 00:00:00 GMT", "2049-01-01T00:00:00+00:00"),
        ("Sun, 01 Jan 50 00:00:00 GMT", "1950-01-01T00:00:00+00:00"),
        ("01 Jan 00 12:00:00 +0000", "2000-01-01T12:00:00+00:00"),
        ("Thu, 01 Jan 99 01:00:00 +0200", "1998-12-31T23:00:00+00:00"),
        ("Sat, 01 Jan 68 00:00:00 GMT", "1968-01-01T00:00:00+00:00"),  # email.utils: 2068
        ("Fri, 01 Jan 72 00:00:00 -0000", "1972-01-01T00:00:00+00:00"),  # feedparser: 2072
    ],
)
def test_two_digit_years_follow_rfc_2822(text: str, iso: str) -> None:
    stamp = two_digit_year_date(text)
    assert stamp is not None and stamp.isoformat() == iso


def test_the_century_boundary_and_four_digit_years() -> None:
    assert [rfc2822_year(y) for y in (0, 49, 50, 99)] == [2000, 2049, 1950, 1999]
    assert two_digit_year_date("Tue, 02 Jan 2024 10:00:00 +0100") is None  # feedparser's own
    assert two_digit_year_date("soon") is None and two_digit_year_date("") is None


def test_episode_dates_use_the_rfc_century() -> None:
    entries = _entries(
        "<item><guid>a</guid><pubDate>Sun, 01 Jan 50 00:00:00 GMT</pubDate>"
        "<enclosure url='a.mp3' type='audio/mpeg'/></item>"
        "<item><guid>b</guid><pubDate>Mon, 01 Jan 49 00:00:00 GMT</pubDate>"
        "<enclosure url='b.mp3' type='audio/mpeg'/></item>"
        "<item><guid>c</guid><pubDate>Tue, 02 Jan 2024 10:00:00 +0100</pubDate>"
        "<enclosure url='c.mp3' type='audio/mpeg'/></item>"
    )
    items = [i for i in feed_items(entries, BASE, BASE) if isinstance(i, Episode)]
    assert [i.published for i in items] == [
        "1950-01-01T00:00:00Z",
        "2049-01-01T00:00:00Z",
        "2024-01-02T09:00:00Z",
    ]


def test_episodes_sharing_a_guid_are_one_item_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entries = _entries(
        _item("g1", "First post", "/a.mp3")
        + _item("g2", "Other", "/b.mp3")
        + _item("g1", "Re-post", "/a2.mp3")
        + _item("g1", "Re-re-post", "/a3.mp3")
        + "<item><title>Notes</title><guid>n</guid></item>"
    )
    with caplog.at_level(logging.INFO):
        found = list(feed_items(entries, BASE, BASE))
    items = [f for f in found if isinstance(f, Episode)]
    assert [i.title for i in items] == ["First post", "Other"]
    assert [f for f in found if isinstance(f, Skipped)] == [
        Skipped(f"{BASE} :: Notes", "no audio or video enclosure")
    ]  # the merge is no skip
    assert [r.getMessage() for r in caplog.records if "share guid" in r.getMessage()] == [
        f'feed {BASE}: 3 episodes share guid g1; kept the first ("First post")'
    ]


def test_an_episode_label_names_its_title() -> None:
    (item,) = feed_items(_entries(_item("g", "Episode 3", "/ep3.mp3")), BASE, BASE)
    assert item.label == 'https://example.org/ep3.mp3 ("Episode 3")'


@pytest.mark.parametrize(
    ("body", "root"),
    [
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><title>s</title></svg>', "svg"),
        (b"<foo/>", "foo"),
        (b"<foo><item><title>a</title></item><item><title>b</title></item></foo>", "foo"),
    ],
)
def test_xml_that_is_no_feed_is_one_failure(body: bytes, root: str) -> None:
    assert list(_feed(BASE, BASE, body)) == [
        Failed(BASE, f"{NOT_A_FEED} (the root element is <{root}>)")
    ]


def test_opml_lists_feeds_at_any_depth_once_in_order() -> None:
    body = b"""<?xml version="1.0"?><opml version="2.0"><head><title>Subs</title></head><body>
    <outline type="rss" text="A" xmlUrl="https://a.example/feed.xml"/>
    <outline text="Folder"><outline type="rss" text="B" xmlUrl="/b/rss"/>
      <outline text="Deeper"><outline type="link" xmlurl=" https://c.example/c " /></outline>
    </outline>
    <outline type="rss" text="A again" xmlUrl="https://a.example/feed.xml"/>
    <outline text="a link, no feed" url="https://d.example/"/>
    </body></opml>"""
    assert is_opml_start(body) and not is_opml_start(b"<rss/>")
    assert feed_urls(body, "https://subs.example/list.opml") == [
        "https://a.example/feed.xml",
        "https://subs.example/b/rss",
        "https://c.example/c",
    ]
    with pytest.raises(ValueError, match="not well-formed"):
        feed_urls(b"<opml><body><outline", BASE)
