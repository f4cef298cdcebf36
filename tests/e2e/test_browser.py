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
        expect(fresh.locator("#fb-read-identity")).to_contain_text("identity: you asked")
    finally:
        fresh.close()


def wait_for_new_image(page, selector, previous_src):
    """Wait until the output shows a drawing other than `previous_src`, fully loaded; return its size, read in the
    same check (a later redraw may replace the image between two calls, and its size is 0 until it loads)."""
    loaded = page.wait_for_function(
        """([selector, previous]) => {
            const img = document.querySelector(selector);
            const ready = img && img.src && img.src !== previous && img.complete && img.naturalWidth > 0;
            return ready ? [img.naturalWidth, img.naturalHeight] : false;
        }""",
        arg=[selector, previous_src], timeout=30_000)
    return loaded.json_value()


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
    message = page.locator("#hw-status").get_by_text("Cannot draw 'x': this model writes digits 0-9")
    expect(message).to_be_visible(timeout=30_000)
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
    digit_reading = page.locator("#st-read-digit")
    expect(digit_reading).to_contain_text("digit: you asked 3", timeout=30_000)
    expect(digit_reading.get_by_test_id("label-output-value")).to_have_text("3", timeout=30_000)
    page.screenshot(path=str(artifacts / "qmnist-styles.png"), full_page=True)


def test_face_blending_tab_redraws_when_the_blend_moves(page, artifacts):
    page.get_by_role("tab", name="Face blending").click()
    opening_src = page.locator("#fb-output img").evaluate("img => img.src")
    blend = page.locator("#fb-blend input[type=number]")
    blend.fill("0")
    blend.press("Enter")
    width, height = wait_for_new_image(page, "#fb-output img", opening_src)
    assert width == 3 * 192 + 2 * 8 and 192 < height < 240  # A, the blend and B side by side, captioned below
    page.screenshot(path=str(artifacts / "face-blending.png"), full_page=True)


VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def sized_page(request, page, app_url):
    """A fresh page at desktop and at phone size, on the handwriting tab."""
    fresh = page.context.browser.new_page(viewport=VIEWPORTS[request.param])
    fresh.goto(app_url)
    fresh.locator("#hw-output img").wait_for(timeout=30_000)
    yield request.param, fresh
    fresh.close()


def image_src(page, selector="#hw-output img"):
    return page.locator(selector).evaluate("img => img.src")


def write_text(page, text):
    """Type `text` and press Enter, as a visitor does; returns the drawing's natural size once it is new."""
    before = image_src(page)
    page.locator("#hw-text textarea").fill(text)
    page.locator("#hw-text textarea").press("Enter")
    return wait_for_new_image(page, "#hw-output img", before)


def test_every_tab_is_one_tap_away(sized_page):
    _, page = sized_page
    for name in ("Handwriting", "QMNIST styles", "Face blending"):
        assert page.get_by_role("tab", name=name).is_visible()


OVERFLOWING_SLIDERS = """() => [...document.querySelectorAll('input[type=range]')]
    .filter(track => track.offsetParent !== null)
    .filter(track => {
        const own = track.getBoundingClientRect(), box = track.closest('.block').getBoundingClientRect();
        return own.left < box.left - 1 || own.right > box.right + 1;
    })
    .map(track => track.closest('.block').id || track.closest('.block').innerText.split('\\n')[0])"""


def test_every_slider_stays_inside_its_box(sized_page):
    """A slider squeezed into a narrow cell ran its track over its neighbours (the colour sliders, three abreast)."""
    size, page = sized_page
    for name in ("Handwriting", "QMNIST styles", "Face blending"):
        page.get_by_role("tab", name=name).click()
        page.locator("input[type=range]:visible").first.wait_for()
        assert page.evaluate(OVERFLOWING_SLIDERS) == [], (size, name)
    page.get_by_role("tab", name="Handwriting").click()


def test_a_phone_number_is_drawn_and_in_view(sized_page, artifacts):
    size, page = sized_page
    width, height = write_text(page, "+1 (555) 123-4567")
    assert width > 3 * height
    box = page.locator("#hw-output img").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORTS[size]["height"]  # seen without scrolling
    label = page.locator("#hw-output label").bounding_box()
    assert label["y"] + label["height"] <= box["y"]  # the label Gradio lays over the image leaves the drawing clear
    page.screenshot(path=str(artifacts / f"handwriting-phone-number-{size}.png"))


def test_a_read_back_title_leaves_its_reading_clear(sized_page):
    """The face tab's read-back column is narrow beside A | blend | B: its titles wrap, and must not cover what the
    classifier read."""
    size, page = sized_page
    page.get_by_role("tab", name="Face blending").click()
    for attribute in ("identity", "condition", "transform"):
        block = page.locator(f"#fb-read-{attribute}")
        reading = block.locator("[data-testid=label-output-value]")
        reading.wait_for()
        title = block.locator("label[data-testid=block-label]").bounding_box()
        assert title["y"] + title["height"] <= reading.bounding_box()["y"], (size, attribute)
    page.get_by_role("tab", name="Handwriting").click()


def test_a_long_text_wraps_and_stays_readable(sized_page, artifacts):
    size, page = sized_page
    text = "0123456789 " * 9 + "7"
    assert len(text) == 100
    width, height = write_text(page, text)
    lines = round(height / (1.05 * 28 * 3))  # the default scale: 3 pixels per glyph pixel, lines 1.05 glyphs apart
    box = page.locator("#hw-output img").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[size]["width"]
    assert lines >= 6 and box["height"] / lines >= 16  # each line at least 16 pixels tall on screen
    page.screenshot(path=str(artifacts / f"handwriting-long-{size}.png"), full_page=True)


def test_a_mistake_keeps_the_last_drawing_and_says_why(sized_page, artifacts):
    from playwright.sync_api import expect

    size, page = sized_page
    write_text(page, "1984")
    good = image_src(page)
    page.locator("#hw-text textarea").fill("12x")
    page.locator("#hw-text textarea").press("Enter")
    status = page.locator("#hw-status")
    expect(status).to_contain_text("Cannot draw 'x'", timeout=30_000)
    if size == "desktop":  # the same page at both sizes: waiting once shows the message is no passing toast
        page.wait_for_timeout(12_000)  # longer than a toast stays
        expect(status).to_contain_text("Cannot draw 'x'")
    assert image_src(page) == good and page.locator("#hw-output img").is_visible()
    page.screenshot(path=str(artifacts / f"handwriting-mistake-{size}.png"))
    write_text(page, "7")
    expect(status).not_to_contain_text("Cannot draw")


def test_an_example_draws_when_clicked_and_a_slider_redraws(sized_page):
    _, page = sized_page
    before = image_src(page)
    page.get_by_role("button", name="3.14159").click()
    width, height = wait_for_new_image(page, "#hw-output img", before)
    assert width > 2 * height
    before = image_src(page)
    neatness = page.locator("#hw-neatness input[type=number]")
    neatness.fill("0.9")
    neatness.press("Enter")
    wait_for_new_image(page, "#hw-output img", before)


def test_a_typed_hex_colour_sets_rounded_sliders_and_no_colour_keeps_the_digit(page, artifacts):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="QMNIST styles").click()
    before = image_src(page, "#st-output img")
    page.locator("#st-picker .dialog-button").click()
    typed = page.locator("#st-picker .color-picker input[type=text]")
    typed.fill("#cc8800")
    typed.press("Enter")
    for colour, value in (("red", "0.8"), ("green", "0.53"), ("blue", "0")):
        expect(page.locator(f"#st-{colour} input[type=number]")).to_have_value(value, timeout=30_000)
    drawn = wait_for_new_image(page, "#st-output img", before)
    assert drawn[0] == drawn[1] > 0
    page.keyboard.press("Escape")

    def set_slider(colour, value):
        slider = page.locator(f"#st-{colour} input[type=number]")
        slider.fill(value)
        slider.press("Enter")
    orange = image_src(page, "#st-output img")
    set_slider("red", "0")
    wait_for_new_image(page, "#st-output img", orange)  # green ink alone: still a colour
    green = image_src(page, "#st-output img")
    set_slider("green", "0")
    expect(page.locator("#st-status")).to_contain_text("Set at least one of red, green and blue above zero",
                                                       timeout=30_000)
    assert image_src(page, "#st-output img") == green  # the last good digit stays
    page.screenshot(path=str(artifacts / "qmnist-colour.png"), full_page=True)


def draw_on_pad(page, points):
    """A stroke through `points` (in the pad's 224-pixel units) with the mouse, as a visitor draws."""
    canvas = page.locator("#hw-pad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 224
    at = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(at, at[1:]):
        for step in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * step / 10, y0 + (y1 - y0) * step / 10)
    page.mouse.up()


def test_a_digit_drawn_on_the_pad_writes_the_text_in_that_hand(sized_page, artifacts):
    from playwright.sync_api import expect

    size, page = sized_page
    write_text(page, "2026")
    draw_on_pad(page, [(50, 40), (170, 40), (100, 190)])
    expect(page.locator("#hw-reading")).to_contain_text("It reads as a 7", timeout=30_000)
    assert page.locator("#hw-character input").input_value() == "7"
    pad = page.locator("#hw-pad canvas").bounding_box()
    assert pad["x"] >= 0 and pad["x"] + pad["width"] <= VIEWPORTS[size]["width"]
    before = image_src(page)
    page.locator("#hw-use-hand").click()
    wait_for_new_image(page, "#hw-output img", before)
    expect(page.locator("#hw-output img")).to_have_attribute("alt", "2026, in the visitor's hand")
    expect(page.locator("#hw-reading")).to_contain_text("Writing in your hand, found from your 7")
    drawn = page.locator("#hw-output img").bounding_box()  # in view, on a phone a screen above the pad
    assert 0 <= drawn["y"] and drawn["y"] + drawn["height"] <= VIEWPORTS[size]["height"], drawn
    page.screenshot(path=str(artifacts / f"handwriting-own-hand-{size}.png"), full_page=True)
    write_text(page, "1984")  # the hand stays the tab's style for every redraw
    expect(page.locator("#hw-output img")).to_have_attribute("alt", "1984, in the visitor's hand")
    before = image_src(page)
    page.get_by_role("button", name="New style").click()
    wait_for_new_image(page, "#hw-output img", before)
    expect(page.locator("#hw-output img")).to_have_attribute("alt", "1984, handwritten")
    expect(page.locator("#hw-reading")).to_have_text("")


def test_a_blank_pad_or_a_letter_says_why_and_keeps_the_drawing(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Handwriting").click()
    page.get_by_role("button", name="Clear the pad").click()
    good = image_src(page)
    page.locator("#hw-use-hand").click()
    status = page.locator("#hw-hand-status")
    expect(status).to_contain_text("Draw a digit on the pad first", timeout=30_000)
    draw_on_pad(page, [(40, 190), (112, 30), (184, 190)])
    draw_on_pad(page, [(70, 130), (154, 130)])  # a letter A
    page.locator("#hw-use-hand").click()
    expect(status).to_contain_text("That does not look like a", timeout=30_000)
    assert image_src(page) == good
