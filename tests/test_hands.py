"""A visitor's own hand, on the shipped generator and judge: the drawing prepared as MNIST's digits, read, inverted
into a hand, carried to other digits; and every way a drawing or a hand code can be wrong."""
import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from kepkreator import Handwriter, InputError
from kepkreator.data.digits import load_qmnist_test, split_by_writer
from kepkreator.hands import (MAX_FIT_ERROR, Inversion, as_mnist_digit, decode_drawing, find_latent,
                              ink_of)
from kepkreator.punctuation import slant_and_thickness


@pytest.fixture(scope="module")
def writer():
    return Handwriter.from_pretrained()


@pytest.fixture(scope="module")
def unseen(data_dir):
    data = load_qmnist_test(data_dir)
    return data.subset(~split_by_writer(data.writers))


def pad(*strokes, width=16, paper=255, ink=0) -> Image.Image:
    """A 224x224 drawing pad with these polylines drawn on it."""
    image = Image.new("L", (224, 224), paper)
    for points in strokes:
        ImageDraw.Draw(image).line(points, fill=ink, width=width, joint="curve")
    return image


SEVEN = [(50, 40), (170, 40), (100, 190)]


def data_url(image: Image.Image, kind: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return f"data:image/{kind.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_drawing_is_prepared_as_mnist_digits_were():
    digit = as_mnist_digit(pad(SEVEN))[0]
    rows = torch.nonzero(digit.amax(dim=1) > 0.1).flatten()
    columns = torch.nonzero(digit.amax(dim=0) > 0.1).flatten()
    assert 19 <= max(rows[-1] - rows[0], columns[-1] - columns[0]) + 1 <= 21  # the longer side is 20 pixels
    mass = digit.sum()
    centre = [(digit.sum(dim=axis) * torch.arange(28)).sum() / mass for axis in (1, 0)]
    assert all(abs(c - 13.5) <= 0.6 for c in centre)  # its centre of mass in the middle


def test_dark_on_light_light_on_dark_and_transparent_drawings_read_alike():
    dark_on_light = as_mnist_digit(pad(SEVEN))
    light_on_dark = as_mnist_digit(pad(SEVEN, paper=0, ink=255))
    transparent = Image.new("RGBA", (224, 224), (0, 0, 0, 0))
    ImageDraw.Draw(transparent).line(SEVEN, fill=(20, 30, 90, 255), width=16, joint="curve")
    assert torch.allclose(dark_on_light, light_on_dark, atol=1e-5)
    assert (as_mnist_digit(transparent) - dark_on_light).abs().max() < 0.15  # blue ink is not quite black
    assert torch.allclose(ink_of(np.asarray(pad(SEVEN))), ink_of(pad(SEVEN)))


def test_the_judge_reads_a_drawn_digit(writer):
    assert writer.read(pad(SEVEN))[0] == "7"
    assert writer.read(pad([(112, 30), (104, 194)]))[0] == "1"


@pytest.mark.parametrize("drawing, message", [
    (pad(), "The pad is blank"),
    (pad([(40, 40), (184, 184)], [(184, 40), (40, 184)]), "That does not"),  # an X
    (pad([(40, 190), (112, 30), (184, 190)], [(70, 130), (154, 130)]), "That does not"),  # a letter A
    (pad([(50, 50), (174, 50), (174, 174), (50, 174), (50, 50)]), "That does not"),  # a square
])
def test_a_blank_pad_a_sign_or_a_letter_is_refused_in_one_line(writer, drawing, message):
    with pytest.raises(InputError, match=message) as refused:
        writer.hand_from(drawing)
    assert "\n" not in str(refused.value)


def test_the_found_hand_draws_the_given_digit_closer_than_random_hands_do(writer, unseen):
    """Inversion, on real digits of writers neither network trained on: the found hand's drawing of the given digit
    is nearer the digit than any of 20 hands drawn at random."""
    generator = writer.source.generator
    for index in (0, 100, 200):
        digit = as_mnist_digit(unseen.images[index].numpy())
        label = int(unseen.labels[index])
        latent, error = find_latent(generator, digit, label)
        assert error <= MAX_FIT_ERROR
        with torch.no_grad():
            drawn = generator(torch.cat([latent[None], torch.randn(20, 64)]), torch.full((21,), label))
        gaps = ((drawn + 1) / 2 - digit).pow(2).mean(dim=(1, 2, 3))
        assert gaps[0] < gaps[1:].min()


def test_a_hand_carries_the_slant_of_the_given_digit_to_other_digits(writer):
    """A seven leaning right and one leaning left: the other digits drawn in their hands lean the same ways."""
    leaning = {direction: writer.hand_from(pad([(60 + 40 * direction, 40), (170 + 40 * direction, 40),
                                                (110 - 40 * direction, 190)]), "7") for direction in (-1, 1)}
    others = torch.tensor([0, 1, 2, 3, 4, 5, 6, 8, 9])
    slant = {direction: slant_and_thickness(writer.source.draw(others, writer_style(hand))[:, 0])[0].mean()
             for direction, hand in leaning.items()}
    assert slant[1] < slant[-1] - 0.1  # image rows grow downwards: a right lean is a negative shear here


def writer_style(hand):
    from kepkreator.handwriting import Style
    return Style(seed=0, variation=0.0, hand=hand)


def test_text_in_a_found_hand_keeps_the_hand_whatever_the_layout(writer):
    hand = writer.hand_from(pad(SEVEN))
    assert hand.character == "7"
    drawn = writer("2026", seed=3, hand=hand, scale=2)
    assert not np.array_equal(np.asarray(drawn), np.asarray(writer("2026", seed=3, scale=2)))
    in_red = writer("2026", seed=3, hand=hand, scale=2, ink=(200, 0, 0))
    inked = lambda image: (np.asarray(image.convert("RGB")) != 255).any(axis=2)  # noqa: E731
    assert np.array_equal(inked(drawn), inked(in_red))  # the same strokes, another ink


def test_a_hand_code_round_trips_and_anything_else_is_refused(writer):
    hand = writer.hand_from(pad(SEVEN))
    code = hand.code()
    assert len(code) < 200 and writer.hand_of(code).character == "7"
    assert np.allclose(writer.hand_of(code).latent, hand.latent, atol=1e-2)  # float16 in the code
    forged = "hand1:" + base64.urlsafe_b64encode(np.full(64, np.inf, dtype=np.float16).tobytes() + b"7").decode()
    for bad in ("", "hand1:", "hand1:@@@", code[:-8], code + "AAAA", forged, "hand2:" + code[6:], 7, None):
        with pytest.raises(InputError, match="hand is not a hand code"):
            writer.hand_of(bad)


@pytest.mark.parametrize("sent, message", [
    ("", "Draw a digit on the pad first"),
    ("/etc/passwd", "must be a data URL of an image"),
    ("data:image/png;base64,@@@", "not a readable image"),
    ("data:image/png;base64," + base64.b64encode(b"not a png").decode(), "not a readable image"),
    ("data:image/png;base64," + "A" * 800_000, "over 500 kB"),
    (data_url(Image.new("L", (5000, 5000), 255)), "5000x5000 pixels"),  # 25 megapixels in a few kB of PNG
])
def test_a_drawing_sent_wrong_is_refused_in_one_line(sent, message):
    with pytest.raises(InputError, match=message):
        decode_drawing(sent)


def test_a_jpeg_drawing_is_read_too(writer):
    assert writer.read(decode_drawing(data_url(pad(SEVEN).convert("RGB"), "JPEG")))[0] == "7"


def test_an_inversion_stops_at_its_time_bound(writer, unseen):
    digit = as_mnist_digit(unseen.images[0].numpy())
    latent, _ = find_latent(writer.source.generator, digit, int(unseen.labels[0]), Inversion(steps=10_000,
                                                                                             time_bound=0.0))
    assert latent.shape == (64,) and torch.isfinite(latent).all()


def test_without_a_reader_the_character_must_be_given(writer):
    bare = Handwriter(writer.source)
    with pytest.raises(InputError, match="say which character it is"):
        bare.hand_from(pad(SEVEN))
    assert bare.hand_from(pad(SEVEN), "7").character == "7"
    with pytest.raises(InputError, match="character must be one of the digits 0-9, got 'x'"):
        bare.hand_from(pad(SEVEN), "x")
