import numpy as np
import pytest
import torch

from kepkreator.attributes import AttributeGlyphs, AttributeModel
from kepkreator.data.styles import complete_writer_digits, qmnist_styles
from kepkreator.data.transforms import TRANSFORMS, dihedral
from kepkreator.handwriting import InputError, Layout, Style, write
from kepkreator.data.digits import load_qmnist_test


@pytest.fixture(scope="module")
def styles(data_dir):
    return qmnist_styles(data_dir, holdout=0.1, seed=0)


@pytest.fixture(scope="module")
def model():
    return AttributeModel.from_pretrained("gcn-qmnist")


def test_one_digit_per_writer_and_class_for_writers_of_all_ten(data_dir):
    images, writers = complete_writer_digits(data_dir)
    assert images.shape == (124, 10, 28, 28) and len(set(writers)) == 124
    digits = load_qmnist_test(data_dir)
    first = torch.nonzero((digits.writers == writers[5]) & (digits.labels == 3))[0, 0]
    assert torch.equal(images[5, 3], digits.images[first])


def test_every_combination_once_with_held_out_colours_and_transforms(styles):
    assert len(styles) == 124 * 10 * 3 * 8
    digit, writer, colour, transform = styles.attributes.T
    keys = digit + 10 * (writer + 124 * (colour + 3 * transform))
    assert len(keys.unique()) == len(styles)
    held = styles.held_out
    assert int((held.split == 1).sum()) == 124 * 8 and int((held.split == 2).sum()) == 124 * 3
    # A held-out colour leaves the item's other colours in training: the combination is new, the item is not.
    digit, writer, colour, _ = held.attributes[held.split == 1][0].tolist()
    same_item = (styles.attributes[:, 0] == digit) & (styles.attributes[:, 1] == writer) & (styles.split == 0)
    assert set(styles.attributes[same_item, 2].tolist()) == {0, 1, 2} - {colour}


def test_the_eight_transforms_are_the_dihedral_group():
    image = torch.rand(1, 5, 5)
    results = [dihedral(image, i) for i in range(len(TRANSFORMS))]
    assert all(not torch.equal(results[i], results[j]) for i in range(8) for j in range(i))
    assert torch.equal(dihedral(dihedral(dihedral(dihedral(image, 1), 1), 1), 1), image)
    assert torch.equal(dihedral(dihedral(image, 4), 4), image)
    with pytest.raises(ValueError):
        dihedral(image, 8)


def test_blends_are_normalised_weight_vectors(model):
    writers = model.schema["writer"]
    vector = model.weights("writer", {writers[0]: 1, writers[1]: 3})
    assert vector.sum().item() == pytest.approx(1) and vector[1].item() == pytest.approx(0.75)
    purple = model.weights("colour", {"red": 0.5, "blue": 0.5})
    assert purple.tolist() == pytest.approx([0.5, 0, 0.5])


@pytest.mark.parametrize("choice, message", [
    ({"writer": "99999"}, "unknown writer '99999'"),
    ({"colour": {"red": 0, "green": 0, "blue": 0}}, "give colour at least one weight above zero"),
    ({"colour": {"red": -1, "blue": 2}}, "colour weight for 'red' must be zero or more"),
    ({"transform": "rotate 45"}, "unknown transform 'rotate 45'"),
    ({"mood": "happy"}, "unknown mood"),
])
def test_impossible_choices_get_messages(model, choice, message):
    good = {"digit": "3", "writer": model.schema["writer"][0], "colour": "red", "transform": "identity"}
    with pytest.raises(InputError, match=message):
        model.vector(**{**good, **choice})


def test_the_generator_honours_colour_and_transform(model):
    writer = model.schema["writer"][0]
    red = model.generate(model.vector(digit="1", writer=writer, colour="red", transform="identity"))[0]
    assert red[0].sum() > 3 * (red[1].sum() + red[2].sum())  # red ink, a faint haze elsewhere
    upright = model.generate(model.vector(digit="7", writer=writer, colour="blue", transform="identity"))[0]
    turned = model.generate(model.vector(digit="7", writer=writer, colour="blue", transform="rotate 180"))[0]
    # The 180-degree image is closer to the upright one turned by hand than to the upright one as it is.
    assert (turned - dihedral(upright, 2)).abs().mean() < (turned - upright).abs().mean()


def test_the_cooperating_classifier_reads_back_what_was_asked(model):
    writers = model.schema["writer"]
    vectors = torch.cat([model.vector(digit=str(d), writer=writers[d * 7], colour=("red", "green", "blue")[d % 3],
                                      transform=TRANSFORMS[d % 8]) for d in range(10)])
    read = model.read(model.generate(vectors))
    assert (read["digit"].argmax(dim=1) == torch.arange(10)).float().mean() >= 0.9
    assert (read["colour"].argmax(dim=1) == torch.arange(10) % 3).all()


def test_a_number_in_a_writers_hand(model):
    glyphs = AttributeGlyphs(model, "digit", writer=model.schema["writer"][3], colour={"red": 1, "blue": 1},
                             transform="identity")
    image = write("1905", glyphs, Style(), Layout(scale=2, ink=(0, 0, 0)))
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3))
    inked = pixels[pixels.sum(dim=1) < 600]
    assert len(inked) > 100 and (inked[:, 1] < inked[:, 0]).float().mean() > 0.9  # purple: red and blue, little green
    with pytest.raises(InputError, match="Cannot draw 'a'"):
        write("19a5", glyphs)
