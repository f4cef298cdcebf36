"""The Fisherface judge that scores the face-blending generator: fitted on real Yale faces, read back, saved,
and used by the evaluation only for a model of the same faces and split."""
import json
import shutil

import pytest
import torch

from kepkreator.data.faces import face_styles, read_yale
from kepkreator.evaluate import main as evaluate_main
from kepkreator.hub import load_model
from kepkreator.data.transforms import TRANSFORMS, dihedral, undo
from kepkreator.models.fisherfaces import FisherfaceJudge
from tests.conftest import ROOT, refusal, run, train_here
from train.fisherfaces_task import by_condition


@pytest.fixture(scope="module")
def yale(data_dir):
    return face_styles(read_yale(data_dir, size=64), holdout=0.1, seed=0)


@pytest.fixture(scope="module")
def judge(yale):
    train = yale.train
    upright = train.upright
    return FisherfaceJudge.fit(upright.images, upright.attributes, list(yale.schema.items()))


def test_undo_reverses_every_transform():
    image = torch.arange(12.0).view(1, 3, 4)
    for t in range(len(TRANSFORMS)):
        assert torch.equal(dihedral(dihedral(image, t), undo(t)), image)


def test_it_reads_people_and_transforms_of_real_faces_it_never_saw(judge, yale):
    held = yale.held_out  # 15 (identity, condition) pairs x 8 transforms, none of them fitted
    readings = judge(held.images.float() / 255)
    accuracy = {name: (readings[name].argmax(1) == held.attributes[:, column]).double().mean().item()
                for column, name in enumerate(yale.schema)}
    assert accuracy["identity"] >= 0.85 and accuracy["transform"] >= 0.85
    assert accuracy["condition"] > 1 / 11  # above chance; Yale's conditions are hard to tell apart (README)


def test_it_saves_and_loads_to_the_same_readings(judge, yale, tmp_path):
    judge.save_pretrained(tmp_path)
    loaded = load_model(FisherfaceJudge, tmp_path)
    faces = yale.held_out.images[:16].float() / 255
    for name, scores in judge(faces).items():
        assert torch.allclose(loaded(faces)[name], scores)


def test_fitting_explains_what_it_cannot_do(yale):
    train = yale.train
    upright = train.upright
    without_happy = upright.attributes[:, 1] != yale.schema["condition"].index("happy")
    with pytest.raises(ValueError, match=r"no upright training face has condition \['happy'\]"):
        FisherfaceJudge.fit(upright.images[without_happy], upright.attributes[without_happy], list(yale.schema.items()))
    with pytest.raises(ValueError, match="ends in the attribute 'transform'"):
        FisherfaceJudge([("identity", ["a", "b"])])


def test_each_condition_is_reported_with_what_it_is_mistaken_for():
    confusion = torch.tensor([[6, 2, 0], [5, 3, 0], [0, 0, 0]])  # true x read; nobody had the third condition
    assert by_condition(confusion, ["normal", "sleepy", "wink"]) == {
        "normal": {"right": 0.75, "mostly_misread_as": "sleepy", "faces": 8},
        "sleepy": {"right": 0.375, "mostly_misread_as": "normal", "faces": 8}}
    assert by_condition(torch.tensor([[4]]), ["happy"])["happy"]["mostly_misread_as"] is None


def test_the_entry_point_fits_a_kdef_judge_with_a_card(kdef_dir, tmp_path):
    result = run("train.fisherfaces", "--dataset", "kdef", "--data-dir", str(kdef_dir), "--image-size", "32",
                 "--output-dir", str(tmp_path))
    assert "leave-one-out accuracy identity" in result.stdout
    config = json.loads((tmp_path / "config.json").read_text())
    assert [name for name, _ in config["schema"]] == ["identity", "condition", "transform"]
    assert config["channels"] == 3 and config["image_size"] == 32
    card = (tmp_path / "README.md").read_text()
    assert "python -m train.fisherfaces --dataset kdef" in card and "Leave-one-out accuracy" in card
    record = json.loads((tmp_path / "training.json").read_text())
    by_condition = record["leave_one_out_by_condition"]
    read_right = sum(entry["right"] * entry["faces"] for entry in by_condition.values())
    assert read_right / sum(entry["faces"] for entry in by_condition.values()) == pytest.approx(
        record["leave_one_out"]["condition"])  # the per-condition rows add up to the overall figure
    assert "| condition | read right | most often misread as | faces |" in card
    assert load_model(FisherfaceJudge, tmp_path)(torch.rand(2, 3, 32, 32))["identity"].shape == (2, 3)


@pytest.mark.parametrize("flags, message", [
    (["--holdout", "0.7"], "argument --holdout: must be a number above 0 and below 0.5, got 0.7"),
    (["--dataset", "kdef"], "KDEF is not redistributable: pass --data-dir"),
    (["--push-to-hub", "no-owner"], "--push-to-hub takes OWNER/NAME, got 'no-owner'"),
])
def test_bad_flags_get_clear_messages(flags, message, tmp_path, capsys):
    assert message in refusal("train.fisherfaces", ["--output-dir", str(tmp_path / "out"), *flags], capsys)
    assert not (tmp_path / "out").exists()


def test_an_empty_folder_gets_a_clear_message(tmp_path, capsys):
    said = refusal("train.fisherfaces", ["--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")], capsys)
    assert "no Yale faces under" in said and "Yale Face Database (Belhumeur, Hespanha & Kriegman 1997" in said


def test_a_judge_of_other_faces_is_refused(kdef_dir, tmp_path, capsys):
    def refused(judge) -> str:
        with pytest.raises(SystemExit) as stop:
            evaluate_main(["faces", "--judge", str(judge)])
        assert stop.value.code == 2
        return capsys.readouterr().err

    split1 = tmp_path / "split1"  # the shipped judge's files, recorded as fitted on split 1
    shutil.copytree(ROOT / "weights" / "fisherfaces-yale", split1)
    record = json.loads((split1 / "training.json").read_text())
    record["data"]["split_seed"] = record["run_config"]["split_seed"] = 1
    (split1 / "training.json").write_text(json.dumps(record))
    assert ("fitted on other faces than the model 'gcn-yale' was trained on (split_seed 1 vs 0), so it may have "
            "seen the held-out faces") in refused(split1)
    train_here("train.fisherfaces", "--dataset", "kdef", "--data-dir", str(kdef_dir), "--output-dir",
               str(tmp_path / "kdef"))
    assert "dataset 'kdef' vs 'yale'" in refused(tmp_path / "kdef")
    (tmp_path / "kdef" / "training.json").unlink()  # a judge made elsewhere, without a record: its schema still tells
    assert "reads other attributes than the model 'gcn-yale' draws (it knows 3 identity" in refused(tmp_path / "kdef")


def test_a_failed_push_keeps_the_judge(kdef_dir, tmp_path, capsys):
    said = refusal("train.fisherfaces", ["--dataset", "kdef", "--data-dir", str(kdef_dir), "--output-dir",
                                         str(tmp_path), "--push-to-hub", "someone/faces-judge"], capsys)  # offline
    assert "push to someone/faces-judge failed" in said
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "README.md").exists()


def test_an_unwritable_output_folder_is_refused_before_the_fit(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    said = refusal("train.fisherfaces", ["--output-dir", str(blocker / "out")], capsys)
    assert "cannot write to --output-dir" in said and "leave-one-out" not in said  # no work was done and lost


def test_a_model_that_draws_no_faces_is_refused(capsys):
    with pytest.raises(SystemExit):
        evaluate_main(["faces", "--weights", "gcn-qmnist"])
    assert "'gcn-qmnist' is not a face model: it draws digit, writer, colour, transform" in capsys.readouterr().err
