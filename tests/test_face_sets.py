"""Augmentation sets at scale: `python -m kepkreator.augment --out FOLDER` writes shards a `datasets` loader reads,
the same whether written by one process or two or resumed after a kill, and pushes them as a dataset (offline here,
so the push fails clearly and keeps the set)."""
import json
import shutil
import os
import signal
import subprocess
import sys
import time

import pytest

from kepkreator.attributes import recorded_blend_targets
from tests.conftest import ROOT, free_port, run

SET = ["kepkreator.augment", "--count", "45", "--shard-size", "10", "--seed", "3"]


def contents(folder):
    """Every file of a set's data, as bytes, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted((folder / "data").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "faces"
    result = run(*SET, "--out", str(out))
    assert "45 faces in 5 shards; 5 shards (45 faces) written now at" in result.stdout
    return out


def test_a_set_loads_with_datasets_and_keeps_its_labels(one_process):
    from datasets import load_dataset

    faces = load_dataset("imagefolder", data_dir=str(one_process), split="train")
    assert len(faces) == 45
    row = faces[0]
    assert row["image"].size == (64, 64) and row["identity_a"] != row["identity_b"] and row["weight_b"] == 0.5
    card = (one_process / "README.md").read_text()
    assert "license: other" in card and (one_process / "LICENSE.md").exists()  # the Yale weights' terms travel
    learned = recorded_blend_targets(ROOT / "weights" / "gcn-yale")
    assert learned and f"it learned blends from {learned}." in card  # how its blends were made, from the record


def test_two_processes_write_the_same_set(one_process, tmp_path):
    out = tmp_path / "faces"
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                             str(free_port()), "-m", *SET, "--out", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "over 2 process(es)" in result.stdout
    assert contents(out) == contents(one_process)


def test_a_killed_run_resumes_to_the_same_set_and_leaves_no_partial_shard(one_process, tmp_path):
    out = tmp_path / "faces"
    proc = subprocess.Popen([sys.executable, "-m", *SET, "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / "data" / "shard-00001").exists() and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    whole = {p.name for p in (out / "data").iterdir() if not p.name.startswith(".")}
    assert whole and all((out / "data" / name / "metadata.jsonl").exists() for name in whole)  # only whole shards
    resumed = run(*SET, "--out", str(out))
    assert f"{len(whole)} were already whole" in resumed.stdout
    assert not [p for p in (out / "data").iterdir() if p.name.startswith(".")]
    assert contents(out) == contents(one_process)


@pytest.mark.parametrize("flags, message", [
    (["--count", "0"], "argument --count: must be a whole number from 1 to 10000000, got 0"),
    (["--count", "6000", "--out", "x.zip"], "a .zip holds up to 5000 faces, got --count 6000"),
    (["--blend", "2"], "argument --blend: must be a number from 0 to 1, got 2"),
    (["--shard-size", "0"], "argument --shard-size: must be a whole number from 1 to 10000000, got 0"),
    (["--push-to-hub", "nobody"], "--push-to-hub takes OWNER/NAME"),
    (["--out", "x3.png"], "--out names a .zip or a folder, got x3.png"),
    (["--count", "1000000000000000"], "argument --count: must be a whole number from 1 to 10000000"),
    (["--count", "1000000", "--shard-size", "1"], "makes over 100,000 shards: give a larger --shard-size"),
])
def test_bad_flags_get_one_line(flags, message, tmp_path, capsys):
    from kepkreator.augment import main

    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path / "faces"), *flags])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_other_settings_never_resume_a_set(one_process, tmp_path, capsys):
    from kepkreator.augment import main

    out = tmp_path / "faces"
    shutil.copytree(one_process, out)
    with pytest.raises(SystemExit) as stop:
        main([*SET[1:-1], "4", "--out", str(out)])
    assert stop.value.code == 2 and "holds a set made with other settings (seed)" in capsys.readouterr().err


def test_a_push_offline_fails_clearly_and_keeps_the_set(tmp_path, capsys):
    from kepkreator.augment import main

    out = tmp_path / "faces"
    with pytest.raises(SystemExit) as stop:  # the tests run with HF_HUB_OFFLINE=1 (conftest)
        main(["--count", "3", "--out", str(out), "--push-to-hub", "someone/faces"])
    said = capsys.readouterr().err
    assert stop.value.code == 2 and "push to someone/faces failed" in said
    assert f"The set is kept in {out}" in said and len(json.loads((out / "set.json").read_text())) > 3
    assert os.path.exists(out / "data" / "shard-00000" / "metadata.jsonl")


def test_a_zip_from_the_command_carries_the_weights_terms(tmp_path):
    import zipfile

    from kepkreator.augment import main

    main(["--count", "2", "--out", str(tmp_path / "faces.zip")])
    with zipfile.ZipFile(tmp_path / "faces.zip") as archive:
        assert "non-commercial" in archive.read("LICENSE.md").decode()
        assert sorted(archive.namelist()) == ["LICENSE.md", "face-00000.png", "face-00001.png", "labels.csv"]


@pytest.mark.parametrize("damage, message", [
    (lambda out: (out / "set.json").write_text('{"weights": "gcn-ya'), "set.json is damaged (JSONDecodeError)"),
    (lambda out: (out / "set.json").write_text("[1, 2]"), "set.json is damaged (not a record of settings)"),
])
def test_a_damaged_set_record_gets_one_line(one_process, tmp_path, damage, message, capsys):
    from kepkreator.augment import main

    out = tmp_path / "faces"
    shutil.copytree(one_process, out)
    damage(out)
    with pytest.raises(SystemExit) as stop:
        main([*SET[1:], "--out", str(out)])
    said = capsys.readouterr().err
    assert stop.value.code == 2 and message in said and len(said.strip().splitlines()) == 1


def test_a_shard_is_whole_only_with_every_row_and_file_and_a_broken_one_is_written_again(one_process, tmp_path):
    from kepkreator.augment import main

    out = tmp_path / "faces"
    shutil.copytree(one_process, out)
    (out / "data" / "shard-00001" / "metadata.jsonl").write_text("")  # empty: not whole
    (out / "data" / "shard-00002" / "face-0000023.png").unlink()  # a file missing: not whole
    (out / "data" / ".shard-00000.partial-abc").mkdir()  # not a name the tool writes: left alone
    main([*SET[1:], "--out", str(out)])
    assert contents(out) == contents(one_process)
    assert (out / "data" / ".shard-00000.partial-abc").is_dir()
