"""The README's pictures of the three tabs: the app on the shipped weights, each tab as it opens, in Debian's chromium.

    python docs/screenshots.py          # writes docs/images/tab-handwriting.png, tab-styles.png, tab-faces.png
                                        # and own-hand.png (a 7 drawn on the pad, the text written in its hand)
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.test_browser import draw_on_pad  # noqa: E402  the stroke the browser test draws, as a visitor does
OUT = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
TABS = {"Handwriting": ("#hw-output", "tab-handwriting.png"), "QMNIST styles": ("#st-output", "tab-styles.png"),
        "Face blending": ("#fb-output", "tab-faces.png")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_hand(page) -> None:
    """A seven drawn on the handwriting tab's pad with the mouse, and the text written in its hand."""
    page.get_by_role("tab", name="Handwriting").click()
    draw_on_pad(page, [(55, 45), (165, 40), (95, 195)])
    page.locator("#hw-reading").get_by_text("It reads as a 7").wait_for(timeout=30_000)
    page.locator("#hw-use-hand").click()
    page.locator("#hw-reading").get_by_text("Writing in your hand").wait_for(timeout=30_000)
    page.wait_for_function("img => img.alt.includes(\"visitor's hand\") && img.complete",
                           arg=page.locator("#hw-output img").element_handle(), timeout=30_000)
    page.screenshot(path=str(OUT / "own-hand.png"), full_page=True)
    print(f"wrote {OUT / 'own-hand.png'}")


def main() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto(f"http://127.0.0.1:{port}/")
            for tab, (output, name) in TABS.items():
                page.get_by_role("tab", name=tab).click()
                image = page.locator(f"{output} img")
                image.wait_for(timeout=60_000)
                page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
                page.screenshot(path=str(OUT / name))
                print(f"wrote {OUT / name}")
            own_hand(page)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
