import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kepkreator import Handwriter, InputError, Layout, Style, write
from kepkreator.handwriting import (MAX_CHARACTERS, MAX_LINES, GANGlyphs, blur, compose, enlarging_matrix, ink_on_paper,
                                    parse_text)
from kepkreator.models.cgan import Generator


@pytest.fixture(scope="module")
def writer():
    return Handwriter.from_pretrained()  # the shipped generator


def ink_pixels(image) -> int:
    array = np.asarray(image.convert("L"), dtype=np.int32)
    return int((array < 200).sum())


def test_same_seed_same_image_other_seed_other_image(writer):
    a, b, c = writer("2026", seed=1), writer("2026", seed=1), writer("2026", seed=2)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_variation_blends_one_shared_style_with_per_character_latents(writer):
    source = writer.source
    same = source.latents(5, Style(seed=3, variation=0.0, neatness=5 / 7))  # truncation 0.6
    assert torch.allclose(same, same[:1].expand_as(same))
    free = source.latents(5, Style(seed=3, variation=1.0))
    assert not torch.allclose(free[0], free[1])
    # Over many styles, each latent entry keeps unit variance whatever the blend.
    many = torch.cat([source.latents(1, Style(seed=s, variation=0.5, neatness=3 / 7)) for s in range(2000)])
    assert abs(many.std().item() - 1.0) < 0.05


def test_neatness_is_latent_truncation():
    assert Style(neatness=0).truncation > 1 > Style(neatness=1).truncation > 0


def test_spaces_and_newlines_shape_the_page(writer):
    one_line = writer("12", seed=0, jitter=0)
    spaced = writer("1  2", seed=0, jitter=0)
    two_lines = writer("1\n2", seed=0, jitter=0)
    assert spaced.width > one_line.width
    assert two_lines.height > 1.5 * one_line.height and two_lines.width < one_line.width


def test_parse_text_maps_characters_and_spaces():
    assert parse_text("12 3\n4", "0123456789") == [[1, 2, None, 3], [4]]
    assert parse_text("Ab", "abcdefghijklmnopqrstuvwxyz") == [[0, 1]]  # a letters model ignores case


def test_punctuation_is_kept_as_signs_and_dashes_become_hyphens():
    assert parse_text("+1 (5)", "0123456789") == [["+", 1, None, "(", 5, ")"]]
    assert parse_text("3\u22122\u20131", "0123456789") == [[3, "-", 2, "-", 1]]  # minus sign and en dash


@pytest.mark.parametrize("width, lines", [
    (0, ["12345 678 90"]),  # no wrapping
    (6, ["12345", "678 90"]),  # at spaces
    (4, ["1234", "5", "678", "90"]),  # inside a word longer than the line
])
def test_long_lines_wrap_at_spaces_then_anywhere(width, lines):
    parsed = parse_text("12345 678 90", "0123456789", wrap=width)
    assert ["".join(" " if c is None else str(c) for c in line) for line in parsed] == lines


def test_wrapping_keeps_a_long_text_narrow(writer):
    text = " ".join(["0123456789"] * 9)  # 99 characters
    one_line, wrapped = writer(text, seed=0), writer(text, seed=0, wrap=16)
    assert one_line.width > 20 * one_line.height  # the unreadable strip the issue saw
    assert wrapped.width < 1.5 * wrapped.height and wrapped.width < one_line.width / 4


def test_punctuation_is_drawn_in_the_hand_of_the_digits_beside_it(writer):
    from kepkreator.punctuation import HandLook, draw_sign
    from kepkreator.handwriting import Style

    glyphs = writer.source.draw(torch.arange(10), Style(seed=3))
    look = HandLook.of(glyphs)
    assert 1.5 < look.thickness < 5 and -0.6 <= look.slant <= 0.6
    rng = np.random.default_rng(0)
    thin, bold = (draw_sign("-", HandLook(t, 0.0), 0.0, rng)[0] for t in (1.5, 4.0))
    assert bold.sum() > 1.8 * thin.sum()  # the stroke width follows the digits'
    upright, slanted = (draw_sign("/", HandLook(2.5, s), 0.0, rng)[0] for s in (0.0, 0.5))
    top_row = lambda ink: ink[5:8].nonzero()[:, 1].float().mean() if ink[5:8].any() else None
    assert top_row(slanted) is None or top_row(slanted) < top_row(upright)  # leaning like the digits
    period, hyphen = draw_sign(".", look, 0.0, rng)[0], draw_sign("-", look, 0.0, rng)[0]
    rows = lambda ink: ink.sum(dim=1).nonzero()[:, 0].float().mean().item()
    assert rows(period) > 20 and 11 < rows(hyphen) < 18  # on the baseline, and at mid-height


def test_a_phone_number_is_drawn_with_its_signs(writer):
    plain, signed = writer("15551234567", seed=7), writer("+1 (555) 123-4567", seed=7)
    assert signed.width > plain.width and ink_pixels(signed) > ink_pixels(plain)


def test_large_output_has_crisp_pen_edges(writer):
    """At scale 8 the ink is solid with a thin rim, where an enlarged 28-pixel glyph is a wide soft blur."""
    image = np.asarray(writer("8", seed=0, scale=8, jitter=0, paper=(255, 255, 255), ink=(0, 0, 0)).convert("L"))
    ink = image < 225
    partial = ((image > 30) & ink).sum() / ink.sum()
    assert partial < 0.25


def test_enlarging_and_blurring_as_matrices_equal_resampling_and_convolving():
    images = torch.rand(3, 2, 28, 28)
    enlarge = enlarging_matrix(28, 3)
    resampled = F.interpolate(images, size=(84, 84), mode="bicubic", align_corners=False)
    assert torch.allclose(enlarge @ images @ enlarge.T, resampled, atol=1e-5)
    sigma, radius = 1.2, 3
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = torch.outer(taps, taps) / taps.sum() ** 2
    wide = torch.rand(2, 2, 20, 33)  # not square, and edges repeated on every side
    convolved = F.conv2d(F.pad(wide, (radius,) * 4, mode="replicate"), kernel.expand(2, 1, -1, -1), groups=2)
    assert torch.allclose(blur(wide, sigma), convolved, atol=1e-5)


def test_colours_transparency_scale_and_stroke(writer):
    image = writer("7", seed=0, ink=(200, 0, 0), paper=(0, 0, 255))
    pixels = np.asarray(image)
    assert tuple(pixels[0, 0]) == (0, 0, 255)
    assert (pixels[:, :, 0] > 150).any()  # red ink is on the page
    clear = writer("7", seed=0, paper=None)
    assert clear.mode == "RGBA" and np.asarray(clear)[0, 0, 3] == 0 and np.asarray(clear)[:, :, 3].max() > 200
    small, large = writer("7", seed=0, scale=1, jitter=0), writer("7", seed=0, scale=4, jitter=0)
    assert large.height == 4 * small.height
    assert ink_pixels(writer("8", seed=0, scale=4, stroke=2)) > ink_pixels(writer("8", seed=0, scale=4, stroke=0))
    assert ink_pixels(writer("8", seed=0, scale=4, stroke=-1)) < ink_pixels(writer("8", seed=0, scale=4, stroke=0))


def test_one_ink_is_mixed_with_the_paper_in_proportion_to_its_level():
    levels = np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32)[:, :, None]
    on_paper = np.asarray(ink_on_paper(levels, Layout(ink=(200, 0, 40), paper=(0, 100, 255))).convert("RGB"))
    on_paper = on_paper.astype(int)
    expected = [[(0, 100, 255), (50, 75, 201), (100, 50, 148), (200, 0, 40)]]
    assert np.abs(on_paper - np.array(expected)).max() <= 1
    clear = np.asarray(ink_on_paper(levels, Layout(ink=(200, 0, 40), paper=None)))
    assert (clear[0, :, :3] == (200, 0, 40)).all() and clear[0, :, 3].tolist() == [0, 64, 128, 255]


def test_a_palette_image_holds_the_same_drawing(writer):
    drawn = writer("+1 (555) 2026", seed=3, ink=(20, 40, 160), paper=(250, 245, 230))
    indexed = writer("+1 (555) 2026", seed=3, ink=(20, 40, 160), paper=(250, 245, 230), palette=True)
    assert (drawn.mode, indexed.mode) == ("RGB", "P")
    assert np.array_equal(np.asarray(drawn), np.asarray(indexed.convert("RGB")))
    assert writer("2026", seed=3, paper=None, palette=True).mode == "RGBA"  # transparency keeps its alpha


def test_compose_crops_each_glyph_to_its_ink():
    glyphs = torch.zeros(2, 1, 28, 28)
    glyphs[:, :, 4:24, 12:16] = 1.0  # a 4-pixel-wide bar in a 28-pixel box
    canvas = compose(glyphs, [[0, 1]], Layout(scale=1, spacing=0.0, jitter=0), seed=0)
    margin = 28 // 4
    assert canvas.shape[1] == 4 + 4 + 2 * margin  # two bars side by side, no empty box around them


@pytest.mark.parametrize("text, message", [
    ("", "Type something to write: digits 0-9"),
    ("   \n ", "Type something to write"),
    ("12a4", "Cannot draw 'a': this model writes digits 0-9"),
    ("1€2?#", r"Cannot draw '#', '\?': this model writes digits 0-9 and the signs \+ - ="),
    ("1" * (MAX_CHARACTERS + 1), f"That is {MAX_CHARACTERS + 1} characters; the most is {MAX_CHARACTERS}"),
    ("1\n" * (MAX_LINES + 1), f"That is {MAX_LINES + 1} lines; the most is {MAX_LINES}"),
])
def test_text_messages(writer, text, message):
    with pytest.raises(InputError, match=message):
        writer(text)


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": -1}, "seed must be a whole number"),
    ({"seed": 1.5}, "seed must be a whole number"),
    ({"variation": math.nan}, "variation must be from 0 to 1"),
    ({"variation": 2}, "variation must be from 0 to 1"),
    ({"neatness": "tidy"}, "neatness must be a number"),
    ({"scale": 0}, "scale must be a whole number from 1 to 8"),
    ({"scale": 2.5}, "scale must be a whole number"),
    ({"stroke": 9}, "stroke must be from -1 to 2"),
    ({"ink": (0, 0, 300)}, "ink colour must be a whole number from 0 to 255"),
    ({"ink": "blue"}, "ink colour must be three numbers from 0 to 255"),
])
def test_setting_messages(writer, kwargs, message):
    with pytest.raises(InputError, match=message):
        writer("12", **kwargs)


def test_output_size_is_bounded(writer):
    with pytest.raises(InputError, match="too large"):
        writer("1" * 99, scale=8)


def test_letters_model_writes_letters():
    letters = Handwriter(GANGlyphs(Generator(classes="abcdefghijklmnopqrstuvwxyz", latent_dim=8, width=16).eval()))
    assert letters("Hello World").width > 0
    with pytest.raises(InputError, match="Cannot draw '1': this model writes letters a-z"):
        letters("hello1")


def test_shipped_model_through_the_public_api():
    image = Handwriter.from_pretrained()("2026", seed=7)
    assert image.mode == "RGB" and image.width > image.height
    assert ink_pixels(image) > 100
    assert write("1", Handwriter.from_pretrained().source, Style(seed=1), Layout(scale=1)).height < image.height


def test_the_generators_haze_is_paper_as_the_page_shows_it():
    """Ink below INK_FLOOR is paper, the rest stretched back to full ink, and ink more than a pixel from every
    stroke core is a speck, paper too: what compose draws and evaluate reads, for grey and coloured glyphs."""
    from kepkreator.handwriting import INK_FLOOR, on_paper

    stretched = lambda ink: (ink - INK_FLOOR) / (1 - INK_FLOOR)
    glyph = torch.zeros(2, 3, 7, 7)
    glyph[:, 0, 1, :5] = torch.tensor([INK_FLOOR / 2, INK_FLOOR, (1 + INK_FLOOR) / 2, 1.0, (1 + INK_FLOOR) / 2])
    glyph[:, 2, 2, 4] = 0.3  # another colour, diagonally beside the stroke's core at (1, 3)
    glyph[:, 1, 5, 1] = 0.4  # three rows from the core: a speck
    glyph[1, 0, 1, :5] = 0.45  # the second glyph has no core at all
    shown = on_paper(glyph)
    expected = torch.zeros(3, 7, 7)
    expected[0, 1, :5] = torch.tensor([0.0, 0.0, 0.5, 1.0, 0.5])
    expected[2, 2, 4] = stretched(0.3)
    assert torch.allclose(shown[0], expected)
    assert shown[1].eq(0).all()
    assert torch.allclose(on_paper(glyph[0]), expected)  # one glyph, C x H x W
