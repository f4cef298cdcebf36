"""`kepkreator write | digit | face`: every drawing the app makes, as a PNG from the command line."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kepkreator.cli import main
from tests.conftest import ROOT


def test_each_command_writes_the_drawing_the_app_makes(tmp_path, capsys):
    main(["write", "+1 (555) 123-4567", str(tmp_path / "phone.png"), "--seed", "7"])
    main(["digit", "7", str(tmp_path / "seven.png"), "--writer", "327", "--colour", "red", "blue=1"])
    main(["digit", "2026", str(tmp_path / "year.png"), "--writer", "327", "--writer-b", "2351", "--blend", "0.5"])
    main(["face", str(tmp_path / "face.png"), "--a", "subject01", "--b", "subject02", "--condition", "happy"])
    assert capsys.readouterr().out.count("wrote ") == 4
    phone, seven, year, face = (Image.open(tmp_path / f"{name}.png")
                                for name in ("phone", "seven", "year", "face"))
    assert phone.height == 2 * 28 + 35 and phone.width > 10 * phone.height / 2  # one line, 2x glyphs
    red, green, blue = np.asarray(seven.convert("RGB")).reshape(-1, 3).sum(axis=0)
    assert green < 0.1 * red and 0.7 < red / blue < 1.4  # red and blue ink alike, little green
    assert year.width > 3 * year.height / 2 and face.size == (256, 256)
    main(["write", "42", str(tmp_path / "again.png"), "--seed", "7"])
    main(["write", "42", str(tmp_path / "same.png"), "--seed", "7"])
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "same.png").read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["face", "out.png", "--a", "nobody"], "kepkreator face: error: unknown identity 'nobody'"),
    (["digit", "7", "out.jpg"], "argument out: must name a .png file, got 'out.jpg'"),
    (["digit", "7", "out.png", "--colour", "pink"], "argument --colour: must be red, green or blue"),
    (["digit", "x", "out.png"], "unknown digit 'x'"),
    (["write", "abc", "out.png"], "Cannot draw 'a', 'b', 'c'"),
    (["face", "out.png", "--blend", "2"], "argument --blend: must be a number from 0 to 1, got 2"),
])
def test_mistakes_get_one_line_and_write_nothing(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_write_takes_the_hand_of_a_drawn_digit_and_refuses_a_wrong_one_in_one_line(tmp_path, capsys):
    from tests.test_hands import SEVEN, pad

    pad(SEVEN).save(tmp_path / "seven.png")
    (tmp_path / "notes.png").write_text("not an image")
    main(["write", "2026", str(tmp_path / "mine.png"), "--hand", str(tmp_path / "seven.png")])
    main(["write", "2026", str(tmp_path / "seeds.png")])
    assert (tmp_path / "mine.png").read_bytes() != (tmp_path / "seeds.png").read_bytes()
    for flags, message in ((["--hand", str(tmp_path / "nothere.png")], "No such file or directory"),
                           (["--hand", str(tmp_path / "notes.png")], "not an image PIL reads"),
                           (["--hand", str(tmp_path / "seven.png"), "--hand-character", "1"],
                            "That does not look like a 1 this model can draw")):
        with pytest.raises(SystemExit) as stop:
            main(["write", "2026", str(tmp_path / "refused.png"), *flags])
        assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "refused.png").exists()


def test_every_command_reads_its_flags_before_torch_loads():
    """--help and a wrong flag answer at once: importing a command's module loads neither torch nor Gradio."""
    modules = ["app", "kepkreator.cli", "kepkreator.evaluate", "kepkreator.cards", "kepkreator.augment",
               "train.gcn", "train.cgan", "train.judge", "train.fisherfaces"]
    heavy = "{'torch', 'gradio', 'accelerate'}"
    code = f"import sys; import {', '.join(modules)}; print(sorted({heavy} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stderr[-2000:]


def test_the_module_runs_as_a_command_and_its_help_needs_no_torch():
    result = subprocess.run([sys.executable, "-m", "kepkreator", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "write" in result.stdout and "face" in result.stdout
    loaded = subprocess.run([sys.executable, "-c", "import sys; from kepkreator import cli; "
                             "print('torch' in sys.modules)"], cwd=ROOT, capture_output=True, text=True)
    assert loaded.stdout.strip() == "False"
