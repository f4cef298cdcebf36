"""A person's path through the page: Debian's chromium, driven by Playwright, against the real server."""
import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def page(app_url):
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it with apt-get")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url)
        page.get_by_role("tab", name="Handwriting").wait_for()
        yield page
        browser.close()


def test_every_tab_opens_on_a_drawing_before_any_click(page, app_url):
    from playwright.sync_api import expect

    fresh = page.context.browser.new_page()
    try:
        fresh.goto(app_url)
        for tab, output in (("Handwriting", "#hw-output"), ("QMNIST styles", "#st-output"),
                            ("Face blending", "#fb-output")):
            fresh.get_by_role("tab", name=tab).click()
            image = fresh.locator(f"{output} img")
            expect(image).to_be_visible(timeout=30_000)
            fresh.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        expect(fresh.get_by_text("Classifier reads: identity")).to_be_visible()
    finally:
        fresh.close()


def wait_for_new_image(page, selector, previous_src):
    """Wait until the output shows a drawing other than `previous_src`, fully loaded; return its size."""
    page.wait_for_function(
        """([selector, previous]) => {
            const img = document.querySelector(selector);
            return img && img.src && img.src !== previous && img.complete && img.naturalWidth > 0;
        }""",
        arg=[selector, previous_src], timeout=30_000)
    return page.locator(selector).evaluate("img => [img.naturalWidth, img.naturalHeight]")


def test_type_a_number_and_see_it_handwritten(page, artifacts):
    # The tab opens on a drawing of its starting text, so the test types something else
    # and waits for that drawing to be replaced, not merely for an image to be present.
    opening_src = page.locator("#hw-output img").evaluate("img => img.src")
    page.locator("#hw-text textarea").fill("1984 31")
    page.locator("#hw-generate").click()
    width, height = wait_for_new_image(page, "#hw-output img", opening_src)
    assert width > 2 * height > 0
    page.screenshot(path=str(artifacts / "handwriting-1984.png"), full_page=True)


def test_a_wrong_input_shows_its_message(page, artifacts):
    from playwright.sync_api import expect

    page.locator("#hw-text textarea").fill("12x")
    page.locator("#hw-generate").click()
    message = page.get_by_text("Cannot draw 'x': this model writes digits 0-9").first
    expect(message).to_be_visible(timeout=30_000)
    page.wait_for_timeout(800)  # the toast slides in
    box = message.bounding_box()
    assert box and 0 <= box["y"] < 900 and box["x"] + box["width"] <= 1280  # on screen, not just in the DOM
    page.screenshot(path=str(artifacts / "handwriting-error.png"), full_page=True)


def test_qmnist_styles_tab_redraws_a_picked_digit_and_reads_it_back(page, artifacts):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="QMNIST styles").click()
    opening_src = page.locator("#st-output img").evaluate("img => img.src")
    page.locator("#st-digit input").click()
    page.get_by_role("option", name="3", exact=True).click()
    width, height = wait_for_new_image(page, "#st-output img", opening_src)
    assert width == height > 0
    digit_reading = page.locator(".block", has=page.get_by_text("Classifier reads: digit", exact=True))
    expect(digit_reading.get_by_test_id("label-output-value")).to_have_text("3", timeout=30_000)
    page.screenshot(path=str(artifacts / "qmnist-styles.png"), full_page=True)


def test_face_blending_tab_redraws_when_the_blend_moves(page, artifacts):
    page.get_by_role("tab", name="Face blending").click()
    opening_src = page.locator("#fb-output img").evaluate("img => img.src")
    blend = page.locator("#fb-blend input[type=number]")
    blend.fill("0")
    blend.press("Enter")
    assert wait_for_new_image(page, "#fb-output img", opening_src) == [256, 256]
    page.screenshot(path=str(artifacts / "face-blending.png"), full_page=True)
