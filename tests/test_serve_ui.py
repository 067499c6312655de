"""voxclone serve's web UI in a real browser (headless Chromium driven by Playwright):
add a voice by upload, generate speech, find it in History, read its metadata back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxclone.serve import ServeConfig, create_app
from voxclone.serve.testing import running_server

CHROMIUM = Path("/usr/bin/chromium")
OUT = Path(__file__).resolve().parents[1] / "out" / "serve"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TEXT = "Hello from the browser."
NAME = "browser voice"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")]


@pytest.fixture
def page(warm_home: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = create_app(ServeConfig())
    with running_server(app) as url, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), headless=True,
                                                    executable_path=str(CHROMIUM), args=FLAGS)
        ctx.set_default_timeout(90_000)
        page = ctx.new_page()
        page.goto(url + "/")
        page.wait_for_selector("#gen-button")
        page.service = app.state.service  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            ctx.close()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_upload_generate_history_metadata(page, arctic_path: Path):
    from playwright.sync_api import expect

    _tab(page, "Voices")
    page.locator("#voice-name textarea").fill(NAME)
    page.locator("#voice-files input[type=file]").set_input_files(str(arctic_path))
    expect(page.locator("#voice-files")).to_contain_text(arctic_path.name)
    page.locator("#voice-add").click()
    expect(page.locator("#voice-status")).to_contain_text(f"Added voice '{NAME}'")
    expect(page.locator("#voice-table")).to_contain_text(NAME)

    _tab(page, "Generate")
    page.locator("#gen-text textarea").fill(TEXT)
    page.locator("#gen-button").click()
    expect(page.locator("#gen-status")).to_contain_text("Generated #1")
    expect(page.locator("#gen-plot img")).to_be_visible()
    expect(page.locator("#gen-files")).to_contain_text(".wav")
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "ui-generate.png"), full_page=True)
    record = page.service.history.get(1)
    assert record.voice == NAME and record.text == TEXT

    _tab(page, "History")
    page.locator("#hist-refresh").click()
    expect(page.locator("#hist-table")).to_contain_text(TEXT)
    page.locator("#hist-id input").fill("1")
    page.locator("#hist-load").click()
    meta = page.locator("#hist-meta")
    expect(meta).to_contain_text(NAME)
    expect(meta).to_contain_text(record.engine)
    expect(meta).to_contain_text(record.settings["tts"])
    page.screenshot(path=str(OUT / "ui-history.png"), full_page=True)

    _tab(page, "Utilities")
    page.locator("#util-file input[type=file]").set_input_files(record.output_path)
    expect(page.locator("#util-meta")).to_contain_text(NAME)
    expect(page.locator("#util-meta")).to_contain_text(record.engine)
    page.screenshot(path=str(OUT / "ui-utilities.png"), full_page=True)

    _tab(page, "Generate")
    page.locator("#gen-text textarea").fill("something else")
    _tab(page, "History")
    page.locator("#hist-id input").fill("1")
    page.locator("#hist-copy").click()  # fills the form and switches to Generate
    expect(page.get_by_role("tab", name="Generate")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#gen-text textarea")).to_have_value(TEXT)

    _tab(page, "Settings")
    _set_number(page, "#set-volume", "-25")
    page.locator("#set-save").click()
    expect(page.locator("#set-status")).to_contain_text("-25 dBFS")
    assert page.service.runtime.volume_db == -25.0


def _set_number(page, elem_id: str, value: str, attempts: int = 5) -> None:
    """Type ``value`` into a slider's number box until the slider shows it: the tab's first
    render may still overwrite a value typed too early."""
    from playwright.sync_api import expect

    for attempt in range(attempts):
        page.locator(f"{elem_id} input[type=number]").fill(value)
        page.locator(f"{elem_id} input[type=number]").press("Tab")  # the slider takes it on blur
        try:
            expect(page.locator(f"{elem_id} input[type=range]")).to_have_value(value, timeout=2000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
