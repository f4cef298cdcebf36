"""The tabs' handlers, called directly as plain functions with the shipped models."""
import concurrent.futures
import functools
import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from kepkreator.attributes import AttributeModel
from kepkreator.handwriting import Handwriter
from kepkreator.ui import faces_tab, handwriting_tab, styles_tab
from kepkreator.ui.wiring import first_drawing, keeps_last_drawing
from kepkreator.ui.files import RecentFolders, file_name, image_file
from kepkreator.ui.readback import readback_labels
from kepkreator.validation import InputError

HANDWRITING = dict(text="2026", seed=7, variation=0.15, neatness=0.5, ink="#141e5a", paper="#ffffff",
                   transparent=False, stroke=0, scale=3, line_width=24)


@pytest.fixture(scope="module")
def handwriter():
    return Handwriter.from_pretrained()


@pytest.fixture(scope="module")
def styles():
    return AttributeModel.from_pretrained("gcn-qmnist")


@pytest.fixture(scope="module")
def faces():
    return AttributeModel.from_pretrained("gcn-yale")


def test_a_drawing_is_named_after_what_it_shows_and_described(handwriter):
    result = handwriting_tab.handwrite(handwriter, **{**HANDWRITING, "text": "+1 (555) 123-4567"})
    assert Path(result["value"]).name == "1-555-123-4567.png"
    assert result["alt_text"] == "+1 (555) 123-4567, handwritten"
    assert Image.open(result["value"]).width > 0


@pytest.mark.parametrize("text, name", [("1984 31", "1984-31"), ("24/11/2026", "24-11-2026"), ("3.14", "3.14"),
                                        ("../../etc", "etc"), ("\n\n", "kepkreator"), ("9" * 99, "9" * 60)])
def test_file_names_keep_letters_digits_and_dots_only(text, name):
    assert file_name(text) == name


def test_on_the_page_a_mistake_keeps_every_output_and_says_why(handwriter):
    page = keeps_last_drawing(lambda *args: handwriting_tab.handwrite(handwriter, *args), outputs=1)
    image, status = page(*{**HANDWRITING, "text": "12x"}.values())
    assert image == gr.skip() and "Cannot draw 'x'" in status and "last one that worked" in status
    image, status = page(*HANDWRITING.values())
    assert Path(image["value"]).name == "2026.png" and status == ""


def test_the_newest_folders_stay_and_concurrent_requests_never_collide(tmp_path):
    folders = RecentFolders("kepkreator-test-", keep=5)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: folders.write(lambda folder: folder), range(200)))
    assert len(set(made)) == 200
    assert sum(folder.exists() for folder in made) == 5
    assert len(list(folders.root.iterdir())) == 5


def test_folders_with_their_files_are_removed_and_a_swept_root_comes_back():
    folders = RecentFolders("kepkreator-test-", keep=1)

    def png(name):
        return folders.write(lambda folder: (folder / name).write_bytes(b"png") and folder)
    first = png("a.png")
    (first / "nested").mkdir()  # more than the one file a request writes
    second = png("b.png")
    assert not first.exists() and second.exists()
    shutil.rmtree(folders.root)  # what Gradio's hourly cache sweep may do to an empty-looking root
    third, fourth = png("c.png"), png("d.png")
    assert not third.exists() and list(folders.root.iterdir()) == [fourth]
    assert (fourth / "d.png").read_bytes() == b"png"


def test_the_pages_opening_drawings_outlive_any_number_of_requests(handwriter):
    """Every new visitor's page shows the opening drawings: they must not be evicted with the requests' images."""
    inputs = [gr.Textbox(value="1984"), *(gr.Number(value=v) for v in list(HANDWRITING.values())[1:])]
    opening = Path(first_drawing(functools.partial(handwriting_tab.handwrite, handwriter), inputs)["value"])
    later = [Path(image_file(Image.new("L", (4, 4)), f"request-{i}")) for i in range(image_file.folders.keep + 1)]
    assert opening.exists() and opening.name == "1984.png"
    assert not later[0].exists() and later[-1].exists()  # the requests' own images are still evicted


def test_exports_race_free_under_concurrency(faces):
    folders = RecentFolders("kepkreator-test-exports-", keep=3)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda seed: faces_tab.export(faces, folders, 1, 0.5, seed), range(40)))
    assert len(set(paths)) == 40 and sum(Path(p).exists() for p in paths) == 3


def test_ink_brightness_shows_the_colour_picked(styles):
    """The model draws a mix of colours at a third of white's brightness (weights sum to one); the tab shows the ink
    at the picked brightness: white ink white, half red dark red."""
    args = dict(digit="8", writer_a=styles.schema["writer"][0], writer_b=styles.schema["writer"][1], blend=0,
                transform="identity")
    pixels = lambda result: np.asarray(Image.open(result[0]["value"]).convert("RGB")).reshape(-1, 3).astype(float)
    white = pixels(styles_tab.style_digit(styles, **args, red=1, green=1, blue=1))
    brightest = white[white.sum(axis=1).argsort()[-20:]]
    assert brightest.min() > 150 and np.ptp(brightest.mean(axis=0)) < 60  # bright and grey, not one hue
    red, half = (pixels(styles_tab.style_digit(styles, **args, red=r, green=0, blue=0)) for r in (1.0, 0.5))
    assert 0.4 < half[:, 0].max() / red[:, 0].max() < 0.6


def test_all_colours_at_zero_is_a_message(styles):
    with pytest.raises(InputError, match="Set at least one of red, green and blue above zero"):
        styles_tab.style_digit(styles, "8", styles.schema["writer"][0], styles.schema["writer"][1], 0, 0, 0, 0,
                               "identity")


@pytest.mark.parametrize("picked, sliders", [("#cccccc", (0.8, 0.8, 0.8)), ("#ff8000", (1.0, 0.5, 0.0)),
                                             ("rgb(255, 255, 0)", (1.0, 1.0, 0.0)), ("#abc", (0.67, 0.73, 0.8))])
def test_a_picked_colour_becomes_rounded_slider_values(picked, sliders):
    assert styles_tab.picked_colour(picked) == sliders


def test_the_read_back_says_what_was_asked_and_hides_what_it_cannot_read(faces):
    image = faces.generate(faces.vector(identity="subject01", condition="happy", transform="identity"))[0]
    asked = {"identity": {"subject01": 0.5, "subject02": 0.5}, "condition": "happy", "transform": "identity"}
    model = AttributeModel(faces.generator, faces.classifier, reliability={"identity": 0.9, "condition": 0.25})
    identity, condition, transform = readback_labels(model, image, asked)
    assert identity["label"].startswith("identity: you asked subject01 50% + subject02 50%")
    assert "right on 90% of real held-out images" in identity["label"] and identity["value"]
    assert condition["value"] == "not read back"
    assert "reads only 25% of real held-out conditions right" in condition["label"]
    assert transform["value"] and "you asked identity" in transform["label"]


def test_face_downloads_say_who_and_how(faces):
    result = faces_tab.face(faces, "subject01", "subject07", 0.5, "happy", "mirror")
    assert Path(result[0]["value"]).name == "face-subject01-subject07-0.50-happy-mirror.jpg"
    assert result[0]["alt_text"] == ("Left, subject01; middle, a generated face 50% subject01 and 50% subject07; "
                                     "right, subject07; happy, mirror")


def test_the_blend_is_shown_between_the_two_people_it_mixes(faces):
    """A | blend | B: each third of the picture is nearest the model's own drawing of A, of the blend and of B in the
    chosen condition and transform."""
    from kepkreator.attributes import blend

    path = faces_tab.face(faces, "subject03", "subject09", 0.5, "glasses", "rotate 90")[0]["value"]
    shown = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255
    side, scale = faces_tab.SHOWN, faces_tab.SHOWN // 64
    drawn = [faces.generate(faces.vector(identity=blend("subject03", "subject09", share), condition="glasses",
                                         transform="rotate 90"))[0, 0].numpy() for share in (0.0, 0.5, 1.0)]
    for position in range(3):
        third = shown[:side, position * (side + 8):position * (side + 8) + side]
        small = third.reshape(64, scale, 64, scale).mean(axis=(1, 3))
        assert np.argmin([np.abs(small - face).mean() for face in drawn]) == position


def test_the_face_tab_opens_on_the_plain_photograph_of_a_pair_that_blends(faces):
    from kepkreator.ui.faces_tab import opening_condition, opening_people

    assert opening_people(faces.schema["identity"]) == ("subject03", "subject07")  # Yale: the chosen pair
    assert opening_people(["F01", "M02", "F03"]) == ("F01", "M02")  # KDEF, or a user's own faces: the first two

    assert opening_condition(["centerlight", "glasses", "normal"]) == "normal"  # Yale
    assert opening_condition(["afraid", "angry", "neutral"]) == "neutral"  # KDEF
    assert opening_condition(["dim", "lit"]) == "dim"  # a dataset of the user's with neither
