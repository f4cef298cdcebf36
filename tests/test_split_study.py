"""The split study, run once as a user runs it on one small split (trained by the recipe for 2 steps, judged, the
report written); what it does with runs it finds is checked in-process on that run."""
import json

import pytest

from kepkreator.data.faces import face_styles, read_yale
from studies.split_study import prepare_split, recipe_differences, report
from tests.conftest import ROOT, run
from train.loop import TrainingError


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """`python -m studies.split_study --splits 1 --steps 2 --guided 1`: its runs folder and its record."""
    folder = tmp_path_factory.mktemp("study")
    run("studies.split_study", "--splits", "1", "--steps", "2", "--guided", "1", "--runs-dir", str(folder / "runs"),
        "--out", str(folder / "study"))
    return folder, json.loads((folder / "study.json").read_text())


def test_a_split_is_trained_by_the_recipe_judged_and_reported(study, data_dir):
    folder, record = study
    trained = json.loads((folder / "runs" / "gcn-yale-split1" / "training.json").read_text())
    assert trained["steps"] == 2 and trained["run_config"]["split_seed"] == 1
    assert trained["card"]["command"].startswith("python -m train.gcn --recipe gcn-yale")  # the shipped recipe
    judge = json.loads((folder / "runs" / "fisherfaces-yale-split1" / "training.json").read_text())
    assert judge["data"]["split_seed"] == 1
    figures = record["splits"]["1"]
    assert figures["faces"] == len(face_styles(read_yale(data_dir), 0.1, seed=1).held_out) == 120
    assert figures["apart_from_recipe"] == []
    report_md = (folder / "study.md").read_text()
    assert "| readable conditions, HOG |" in report_md
    assert "| 1 (guided) |" in report_md and "Over the" not in report_md  # every split guided: nothing to sum up


def test_the_summary_counts_only_the_splits_that_never_guided_a_choice(study):
    _, record = study
    figures = {1: record["splits"]["1"]}
    unguided = report(figures, "python -m studies.split_study --splits 1", guided=[])
    assert "| 1 |" in unguided and "Over the 1 split(s) that never guided a choice" in unguided
    assert "readable conditions are read on the generated faces at least as well as" in unguided


def test_a_finished_split_is_reused_and_one_of_another_recipe_is_refused_or_measured_as_trained(study):
    folder, _ = study
    runs = folder / "runs"
    record = runs / "gcn-yale-split1" / "training.json"
    before = record.stat().st_mtime_ns
    model, judge, differences = prepare_split(1, runs, ["--steps", "2"], None)
    assert (model, judge, differences) == (runs / "gcn-yale-split1", runs / "fisherfaces-yale-split1", [])
    assert record.stat().st_mtime_ns == before  # not trained again
    with pytest.raises(TrainingError, match="was trained by another recipe than the shipped model's") as refused:
        prepare_split(1, runs, ["--steps", "3"], None)
    assert "steps 2 (recipe: 3)" in str(refused.value) and "--as-trained" in str(refused.value)
    assert prepare_split(1, runs, ["--steps", "3"], None, as_trained=True)[2] == ["steps 2 (recipe: 3)"]
    figures = {1: {**json.loads((folder / "study.json").read_text())["splits"]["1"],
                   "apart_from_recipe": ["steps 2 (recipe: 3)"]}}
    kept = report(figures, "python -m studies.split_study --splits 1 --as-trained", guided=[])
    assert "except in the settings the last column names" in kept and kept.count("| steps 2 (recipe: 3) |") == 1


def test_split_0_is_the_shipped_model_and_its_judge():
    model, judge, differences = prepare_split(0, ROOT / "runs-unused", [], None)
    assert (model, judge) == (ROOT / "weights" / "gcn-yale", ROOT / "weights" / "fisherfaces-yale")
    assert differences == []


def test_a_run_from_before_a_recipe_change_is_told_apart_by_its_settings():
    shipped = json.loads((ROOT / "weights" / "gcn-yale" / "training.json").read_text())["card"]["hyperparameters"]
    assert recipe_differences(shipped, ["--recipe", "gcn-yale"]) == []  # the shipped model is the recipe's
    older = {name: value for name, value in shipped.items() if name != "unseen_weight"}  # before the flag
    assert recipe_differences(older, ["--recipe", "gcn-yale"]) == [
        f"unseen_weight 0.0 (recipe: {shipped['unseen_weight']})"]  # the flag's default
    assert recipe_differences({**shipped, "blend_norm": False}, ["--recipe", "gcn-yale"]) == []  # drawing only


def test_bad_splits_get_a_clear_message(tmp_path, capsys):
    from studies.split_study import main

    with pytest.raises(SystemExit) as stop:
        main(["--splits", "1", "1", "--out", str(tmp_path / "x")])
    assert stop.value.code == 2 and "--splits takes distinct seeds, got [1, 1]" in capsys.readouterr().err
