"""The app as a real server on loopback, called the way any client calls it."""
import subprocess
import sys

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from tests.conftest import ROOT, start_app

DEFAULTS = dict(text="2026", seed=7, variation=0.15, neatness=0.5, ink="#141e5a", paper="#ffffff", transparent=False,
                stroke=0, scale=3, line_width=24, hand="")


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def handwrite(client, **changes):
    args = {**DEFAULTS, **changes}
    return client.predict(*args.values(), api_name="/handwrite")


def test_the_api_lists_the_named_endpoint(client):
    assert "/handwrite" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_handwrite_returns_a_png_of_the_number(client):
    path = handwrite(client)
    assert path.endswith("2026.png")  # a download named after what it shows
    image = Image.open(path)
    assert image.format == "PNG" and image.mode == "P"  # one ink on paper: a palette PNG, half the bytes
    pixels = np.asarray(image.convert("RGB"))
    assert image.width > 1.5 * image.height  # four characters side by side
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert (pixels.sum(axis=2) < 300).sum() > 200  # dark-blue ink


def test_same_seed_same_image_through_the_server(client):
    first, second = (np.asarray(Image.open(handwrite(client, seed=5))) for _ in range(2))
    assert np.array_equal(first, second)


def test_transparent_background_keeps_alpha(client):
    image = Image.open(handwrite(client, transparent=True, ink="rgba(255, 0, 0, 1)"))
    assert image.mode == "RGBA" and np.asarray(image)[0, 0, 3] == 0


@pytest.mark.parametrize("changes, message", [
    ({"text": "12b4"}, "Cannot draw 'b'"),
    ({"text": ""}, "Type something to write"),
    ({"text": "9" * 101}, "the most is 100"),
    ({"seed": -3}, "seed must be a whole number from 0 to 9223372036854775807, got -3"),
    ({"ink": "blue-ish"}, "ink colour 'blue-ish' is not a colour"),
    ({"scale": 8, "text": "1" * 90, "line_width": 100}, "too large"),
    ({"line_width": -1}, "line width must be a whole number from 0 to 100, got -1"),
])
def test_wrong_input_gets_its_message(client, changes, message):
    with pytest.raises(AppError, match=message):
        handwrite(client, **changes)


def test_a_digit_drawn_on_the_pad_gives_a_hand_the_number_is_written_in(client):
    from tests.test_hands import SEVEN, data_url, pad

    drawing = data_url(pad(SEVEN))
    character, note = client.predict(drawing, api_name="/read_drawing")
    assert character == "7" and note.startswith("It reads as a 7")
    code, character, note = client.predict(drawing, "", api_name="/find_hand")
    assert code.startswith("hand1:") and character == "7" and "your hand" in note
    mine = [np.asarray(Image.open(handwrite(client, hand=code))) for _ in range(2)]
    assert np.array_equal(*mine)  # the hand is kept: the same drawing again
    assert not np.array_equal(mine[0], np.asarray(Image.open(handwrite(client))))  # not the seed's hand
    assert client.predict(drawing, "7", api_name="/find_hand")[0] == code  # named as the judge read it
    with pytest.raises(AppError, match="That does not look like a 1 this model can draw"):
        client.predict(drawing, "1", api_name="/find_hand")  # a character named is the one drawn


@pytest.mark.parametrize("endpoint, data, message", [
    ("/find_hand", ["", ""], "Draw a digit on the pad first"),
    ("/find_hand", ["A", ""], "must be a data URL of an image"),
    ("/find_hand", ["pad", "x"], "character must be one of the digits 0-9, got 'x'"),
    ("/find_hand", ["letter A", ""], "That does not"),
    ("/read_drawing", ["data:image/png;base64,@@"], "not a readable image"),
    ("/handwrite", ["hand1:AAAA"], "hand is not a hand code"),
])
def test_a_wrong_drawing_or_hand_gets_its_message(client, endpoint, data, message):
    from tests.test_hands import SEVEN, data_url, pad

    drawings = {"pad": data_url(pad(SEVEN)),
                "letter A": data_url(pad([(40, 190), (112, 30), (184, 190)], [(70, 130), (154, 130)]))}
    data = [drawings.get(value, value) for value in data]
    with pytest.raises(AppError, match=message):
        if endpoint == "/handwrite":
            handwrite(client, hand=data[0])
        else:
            client.predict(*data, api_name=endpoint)


@pytest.fixture(scope="module")
def sharing_client():
    proc, url = start_app("--share-passes", "--workers", "0")
    yield Client(url, verbose=False)
    proc.terminate()
    proc.wait(timeout=30)


def test_concurrent_requests_share_passes_but_a_bad_one_fails_alone(sharing_client):
    client = sharing_client
    texts = ["2026", "12!", "7", "31 41", "", "0123456789", "88", "x"]
    jobs = [client.submit(*{**DEFAULTS, "text": text, "seed": 5}.values(), api_name="/handwrite") for text in texts]
    for text, job in zip(texts, jobs):
        if text in ("12!", "", "x"):
            with pytest.raises(AppError, match="Cannot draw|Type something"):
                job.result(timeout=120)
        else:
            shared = np.asarray(Image.open(job.result(timeout=120)).convert("RGB")).astype(int)
            alone = np.asarray(Image.open(handwrite(client, text=text, seed=5)).convert("RGB")).astype(int)
            # A pass shared with other requests may round the last float bits differently.
            assert shared.shape == alone.shape and np.abs(shared - alone).max() <= 1


@pytest.mark.parametrize("flags, message", [
    (["--concurrency", "0"], "argument --concurrency: must be a whole number from 1 to 64, got 0"),
    (["--concurrency", "many"], "argument --concurrency: must be a whole number from 1 to 64, got 'many'"),
    (["--torch-threads", "0"], "argument --torch-threads: must be a whole number from 1 to 64, got 0"),
    (["--workers", "17"], "argument --workers: must be a whole number from 0 to 16, got 17"),
    (["--workers", "-1"], "argument --workers: must be a whole number from 0 to 16, got -1"),
    (["--port", "99999"], "argument --port: must be a whole number from 0 to 65535, got 99999"),
    (["--share-passes"], "--share-passes needs --workers 0"),
    (["--precision", "half"], "argument --precision: invalid choice: 'half'"),
])
def test_app_refuses_bad_flags(flags, message, capsys):
    from kepkreator.server_settings import parse_args

    with pytest.raises(SystemExit) as stop:
        parse_args(flags)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_the_apps_help_answers_before_torch_and_gradio_load():
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--faces-repo OWNER/NAME" in result.stdout and "(default: 2)" in result.stdout
    code = "import sys, app; print(sorted({'torch', 'gradio'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "[]"


def test_the_server_log_names_each_tabs_weights_and_the_apps_own_share_flag(app_url):
    port = app_url.rstrip("/").rsplit(":", 1)[1]
    log = (ROOT / "test-artifacts" / f"app-{port}.log").read_text()
    for tab, folder in (("Handwriting tab", "cgan-mnist"), ("QMNIST styles tab", "gcn-qmnist"),
                        ("Face blending tab", "gcn-yale"), ("Handwriting tab's drawing pad", "judge-mnist")):
        assert f"{tab}: {ROOT / 'weights' / folder} (--" in log
    assert f"KepKreator is serving on {app_url} (python app.py --share for a public link)" in log
    assert "share=True" not in log


def test_app_refuses_to_start_on_broken_weights(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 10)
    result = subprocess.run([sys.executable, "app.py", "--cgan", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert f"error: cannot start: {tmp_path / 'model.safetensors'} is unreadable or truncated" in result.stderr


STYLE = dict(digit="7", writer_a=None, writer_b=None, blend=0.0, red=1.0, green=0.0, blue=0.0, transform="identity")


@pytest.fixture(scope="module")
def writers():
    from kepkreator.attributes import AttributeModel

    return AttributeModel.from_pretrained("gcn-qmnist").schema["writer"]


def style(client, writers, endpoint, **changes):
    args = {**STYLE, "writer_a": writers[0], "writer_b": writers[1], **changes}
    return client.predict(*args.values(), api_name=endpoint)


def test_style_digit_returns_the_image_and_the_classifiers_reading(client, writers):
    image_path, digit, writer, colour, transform = style(client, writers, "/style_digit", digit="4", green=1.0, red=0.0)
    image = np.asarray(Image.open(image_path).convert("RGB"))
    assert image.shape[:2] == (224, 224)
    assert image[:, :, 1].sum() > 5 * image[:, :, 0].sum()  # green ink
    assert digit["label"] == "4" and colour["label"] == "green" and transform["label"] == "identity"
    assert writer["label"] in writers


@pytest.mark.parametrize("changes, message", [
    ({"writer_a": "123456"}, "unknown writer '123456': choose one of"),
    ({"red": 0.0, "green": 0.0, "blue": 0.0}, "Set at least one of red, green and blue above zero"),
    ({"transform": "upside down"}, "unknown transform 'upside down': choose one of identity, rotate 90"),
])
def test_style_messages(client, writers, changes, message):
    with pytest.raises(AppError, match=message):
        style(client, writers, "/style_digit", **changes)


def test_a_number_in_the_chosen_hand_and_the_grids(client, writers):
    args = {**STYLE, "writer_a": writers[0], "writer_b": writers[1]}
    number = Image.open(client.predict("1905", *list(args.values())[1:], api_name="/style_number"))
    assert number.width > 1.5 * number.height
    grid = Image.open(client.predict(*[args[k] for k in ("writer_a", "writer_b", "blend", "red", "green", "blue")],
                                     api_name="/style_grid"))
    assert grid.width > grid.height  # 10 digits across, 8 transforms down, each captioned
    sweep = Image.open(client.predict(*[args[k] for k in ("digit", "writer_a", "writer_b", "red", "green", "blue",
                                                          "transform")], 6, api_name="/style_sweep"))
    assert sweep.width == (6 * (28 + 2) + 2) * 4 and sweep.height < 2 * (28 + 2) * 4  # one captioned row of 6
    with pytest.raises(AppError, match="steps must be a whole number from 2 to 16, got 40"):
        client.predict(*[args[k] for k in ("digit", "writer_a", "writer_b", "red", "green", "blue", "transform")], 40,
                       api_name="/style_sweep")


@pytest.fixture(scope="module")
def face_schema():
    from kepkreator.attributes import AttributeModel

    return AttributeModel.from_pretrained("gcn-yale").schema


def test_face_blend_returns_a_face_and_its_reading(client, face_schema):
    a, b = face_schema["identity"][:2]
    path, identity, condition, transform = client.predict(a, b, 0.5, "happy", "identity", api_name="/face")
    face = Image.open(path)
    assert face.size == (3 * 192 + 2 * 8, 215) and face.format == "JPEG"  # A, the blend, B: photographs
    assert path.endswith(f"face-{a}-{b}-0.50-happy.jpg")
    assert identity["label"] in face_schema["identity"] and transform["label"] == "identity"
    # No reader here tells most Yale conditions apart on real faces, so the app shows no reading of it.
    assert condition == {"label": "not read back", "confidences": None}
    strip = Image.open(client.predict(a, b, "identity", 4, api_name="/face_strip"))
    assert strip.height > 2 * strip.width  # 4 blend steps across, 11 conditions down
    with pytest.raises(AppError, match="unknown identity 'nobody': choose one of subject01"):
        client.predict("nobody", b, 0.5, "happy", "identity", api_name="/face")


def test_export_faces_downloads_a_zip_with_labels(client, tmp_path):
    import zipfile

    path = client.predict(5, 0.5, 1, api_name="/export_faces")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        terms = archive.read("LICENSE.md").decode()
    assert "labels.csv" in names and sum(n.endswith(".png") for n in names) == 5
    assert "Yale Face Database" in terms  # the weights' terms travel with what they drew
    with pytest.raises(AppError, match="count must be a whole number from 1 to 500, got 100000"):
        client.predict(100000, 0.5, 1, api_name="/export_faces")


def test_the_app_takes_no_uploads(app_url):
    """It has no upload component, so Gradio's upload route must not store strangers' files."""
    import httpx

    response = httpx.post(app_url + "gradio_api/upload", files={"files": ("big.bin", b"x" * 10_000)}, timeout=60)
    assert response.status_code == 403 and response.json() == {"error": "This app takes no uploads."}
