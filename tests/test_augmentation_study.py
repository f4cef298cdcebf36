"""The augmentation study, run as a user runs it: a generator trained without some people, then condition
classifiers trained with and without its synthesized faces and tested on the people it never saw."""
import json

import pytest

from kepkreator.data.faces import held_out_identities
from tests.conftest import refusal, run, train_here

TINY_GCN = ["--image-size", "32", "--steps", "2", "--batch-size", "16", "--width", "8", "--classifier-width", "8"]
TINY_STUDY = ["--seeds", "2", "--steps", "3", "--synthetic", "8"]


@pytest.fixture(scope="module")
def yale_study_gcn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gcn-study")
    train_here("train.gcn", "--dataset", "yale", "--exclude-identities", "3", *TINY_GCN, "--output-dir", str(folder))
    return folder


def test_the_study_tests_on_people_the_generator_never_saw(yale_study_gcn, tmp_path):
    run("studies.augmentation_study", "--gcn", str(yale_study_gcn), *TINY_STUDY, "--out", str(tmp_path / "study"))
    record = json.loads((tmp_path / "study.json").read_text())
    everyone = [f"subject{n:02d}" for n in range(1, 16)]
    assert record["test_identities"] == held_out_identities(everyone, 3)
    assert set(record["accuracy"]) == {"real only", "real + synthesized"}
    assert all(len(values) == 2 and all(0 <= v <= 1 for v in values) for values in record["accuracy"].values())
    report = (tmp_path / "study.md").read_text()
    assert "of 3 identities" in report and "| real + synthesized |" in report


def test_a_kdef_generator_is_studied_on_the_users_copy(kdef_dir, tmp_path):
    gcn = tmp_path / "gcn"
    train_here("train.gcn", "--dataset", "kdef", "--data-dir", str(kdef_dir), "--exclude-identities", "1", *TINY_GCN,
               "--output-dir", str(gcn))
    missing = run("studies.augmentation_study", "--gcn", str(gcn), *TINY_STUDY, check=False)  # the real command
    assert missing.returncode == 2 and "KDEF is not redistributable: pass --data-dir" in missing.stderr
    train_here("studies.augmentation_study", "--gcn", str(gcn), "--data-dir", str(kdef_dir), *TINY_STUDY,
               "--out", str(tmp_path / "study"))
    assert len(json.loads((tmp_path / "study.json").read_text())["test_identities"]) == 1


@pytest.mark.parametrize("flags, message", [
    (["--gcn", "no-such-model"], "no weights folder 'no-such-model'"),
    (["--gcn", "gcn-qmnist"], "gcn-qmnist is not a face model: it draws digit, writer, colour, transform"),
    (["--gcn", "gcn-yale"], "gcn-yale has seen every identity: train it with --exclude-identities"),
    (["--gcn", "gcn-yale", "--seeds", "0"], "argument --seeds: must be a whole number of at least 1, got 0"),
])
def test_mistakes_get_clear_messages(flags, message, capsys):
    assert message in refusal("studies.augmentation_study", flags, capsys)
