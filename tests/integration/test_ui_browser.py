"""`vtembed ui` in a real browser: headless Chromium (Debian's `chromium` package, never a
downloaded build: `executable_path` is the system binary) driven by Playwright for Python,
against a real `vtembed ui` process serving the ingested demo video.

Type the query, submit, see the demo video's card first, click it: the player must stand at
the hit's second and the transcript pane must show the matched words. Skips, saying why, when
chromium or playwright is missing. `SAVE_UI_SCREENSHOT=1` also writes docs/ui.png.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow  # runs Whisper, starts a server and a browser

ROOT = Path(__file__).resolve().parents[2]
QUERY = "a man walking a dog"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "no chromium on PATH: apt-get install chromium (Debian's package)"
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return found


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed: pip install playwright (no `playwright install`)"
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="session")  # session, as `tools` is: set up before it
def browser_tools() -> tuple[str, Any]:
    """Asked first, so a machine without them skips before any media is made."""
    return _chromium(), _playwright()


@pytest.fixture(scope="module")
def ui_server(
    browser_tools: tuple[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    tools: None,
    vtembed,  # type: ignore[no-untyped-def]
) -> Iterator[str]:
    db = tmp_path_factory.mktemp("ui-browser") / "archive.lance"
    run = vtembed("ingest", str(ROOT / "examples" / "media"), "--sink", f"lancedb:{db}")
    assert run.code == 0, run.text
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtembed", "ui", "--sink", f"lancedb:{db}", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", banner)
        assert match, banner + (proc.stderr.read() if proc.stderr else "")
        yield match.group(0)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def _player_time(page: Any) -> float:
    """The player's position once it has its metadata and is not seeking any more."""
    page.wait_for_selector("#player")
    page.wait_for_function(
        "() => { const p = document.getElementById('player');"
        " return p && p.readyState >= 1 && !p.seeking; }",
        timeout=15_000,
    )
    return float(page.evaluate("document.getElementById('player').currentTime"))


def test_search_click_play_and_read(
    browser_tools: tuple[str, Any], ui_server: str, tmp_path: Path
) -> None:
    chromium, sync_playwright = browser_tools
    hits = httpx.get(f"{ui_server}api/search", params={"q": QUERY}).json()["hits"]
    assert hits and hits[0]["title"] == "vtembed-demo"
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
            )
        except Exception as exc:  # playwright's Error: this chromium cannot start here
            reason = f"{chromium} does not start under playwright: {str(exc).splitlines()[0]}"
            print(f"skipped: {reason}")
            pytest.skip(reason)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(ui_server)
            page.fill("#q", QUERY)
            page.press("#q", "Enter")
            page.wait_for_url(re.compile(r"\?q=a\+man\+walking\+a\+dog"))
            first = page.locator("a.card").first
            assert "vtembed-demo" in first.inner_text()
            start = float(first.get_attribute("data-start") or "nan")
            assert start == pytest.approx(hits[0].get("at_sec", hits[0]["start_sec"]))
            page.evaluate("window.notReloaded = true")
            first.click()
            assert abs(_player_time(page) - start) < 1.0
            assert page.evaluate("window.notReloaded === true")  # played by the script, in place
            pane = page.locator("#transcript")
            assert "walking his dog" in pane.inner_text()
            assert {"walking", "dog"} <= {m.lower() for m in pane.locator("mark").all_inner_texts()}
            assert "play=" in page.url and page.locator("a.card").count() >= 1  # still the results
            page.evaluate("document.getElementById('player').pause()")
            shot = tmp_path / "ui.png"
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("SAVE_UI_SCREENSHOT"):
                shutil.copyfile(shot, ROOT / "docs" / "ui.png")

            # A moment later in the video: the player must go there, not stay at 0.
            page.fill("#q", "then they go to the park together")
            page.press("#q", "Enter")
            page.wait_for_url(re.compile(r"\?q=then\+they"))
            cards = page.locator("a.card")
            starts = [
                float(cards.nth(i).get_attribute("data-start") or 0) for i in range(cards.count())
            ]
            card = cards.nth(starts.index(max(starts)))
            at = float(card.get_attribute("data-start") or "nan")
            card.click()
            page.wait_for_function(f"() => location.search.includes('t={at:g}')")
            assert abs(_player_time(page) - at) < 1.0
            assert "park" in page.locator("#transcript").inner_text()
            assert not errors, errors
        finally:
            browser.close()
