"""The split study, run as a user runs it: the shipped model on its own split, another split trained and judged."""
import json

from kepkreator.data.faces import face_styles, read_yale
from studies.split_study import recipe_differences
from tests.conftest import ROOT, run


def test_the_study_measures_the_shipped_split_and_trains_another(tmp_path, data_dir):
    out = tmp_path / "study"
    command = ["studies.split_study", "--splits", "0", "1", "--steps", "2", "--runs-dir", str(tmp_path / "runs"),
               "--out", str(out)]
    run(*command, "--guided", "0", "1")
    splits = json.loads(out.with_suffix(".json").read_text())["splits"]
    shipped = json.loads((ROOT / "weights" / "gcn-yale" / "metrics.json").read_text())["figures"]
    assert splits["0"]["accuracy"]["fisherfaces"]["identity"] == shipped["accuracy"]["fisherfaces-yale"]["identity"]
    assert splits["0"]["blend_top2_share"]["fisherfaces"] == shipped["blend_top2_share"]["fisherfaces-yale"]
    trained = json.loads((tmp_path / "runs" / "gcn-yale-split1" / "training.json").read_text())
    assert trained["steps"] == 2 and trained["run_config"]["split_seed"] == 1
    assert trained["card"]["command"].startswith("python -m train.gcn --recipe gcn-yale")  # the shipped recipe
    assert splits["1"]["faces"] == len(face_styles(read_yale(data_dir), 0.1, seed=1).held_out) == 120
    report = out.with_suffix(".md").read_text()
    assert "| readable conditions, HOG |" in report
    assert "| 1 (guided) |" in report and "Over the" not in report  # both splits guided: nothing to sum up
    unguided = run(*command).stdout
    assert "| 1 |" in unguided and "Over the 1 split(s) that never guided a choice" in unguided
    assert "readable conditions are read on the generated faces at least as well as" in unguided
    again = run(*command)  # a finished split is reused, not trained again
    assert "Generative Cooperative Net" not in again.stderr
    other = run(*command[:-4], "--steps", "3", *command[-4:], check=False)
    assert other.returncode == 2 and "was trained by another recipe than the shipped model's" in other.stderr
    assert "steps 2 (recipe: 3)" in other.stderr and "--as-trained" in other.stderr
    kept = run(*command[:-4], "--steps", "3", *command[-4:], "--as-trained").stdout
    assert "except in the settings the last column names" in kept
    assert "| 0 (shipped, guided) |" in kept and kept.count("| steps 2 (recipe: 3) |") == 1


def test_a_run_from_before_a_recipe_change_is_told_apart_by_its_settings():
    shipped = json.loads((ROOT / "weights" / "gcn-yale" / "training.json").read_text())["card"]["hyperparameters"]
    assert recipe_differences(shipped, ["--recipe", "gcn-yale"]) == []  # the shipped model is the recipe's
    older = {name: value for name, value in shipped.items() if name != "unseen_weight"}  # before the flag
    assert recipe_differences(older, ["--recipe", "gcn-yale"]) == [
        f"unseen_weight 0.0 (recipe: {shipped['unseen_weight']})"]  # the flag's default
    assert recipe_differences({**shipped, "blend_norm": False}, ["--recipe", "gcn-yale"]) == []  # drawing only


def test_bad_splits_get_a_clear_message(tmp_path):
    result = run("studies.split_study", "--splits", "1", "1", "--out", str(tmp_path / "x"), check=False)
    assert result.returncode == 2 and "--splits takes distinct seeds, got [1, 1]" in result.stderr
