"""Each recipe holds the settings of the run that made its shipped weights, so training by the recipe redoes them;
a script's defaults are its shipped recipe, and nothing trains into weights/ unless asked to."""
import json

import pytest

from tests.conftest import ROOT
from train.recipes import RECIPES


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_recipe_holds_the_settings_of_its_shipped_run(name):
    settings = RECIPES[name].defaults()
    shipped = ROOT / "weights" / name
    record = json.loads((shipped / "training.json").read_text())
    run = {**record["run_config"], **record.get("card", {}).get("hyperparameters", {})}
    if "steps" in record:  # a fitted model (Fisherfaces) has none
        run["steps"] = record["steps"]
    if settings.pop("blend_norm", False):  # a drawing setting, which the shipped model's config.json holds
        assert json.loads((shipped / "config.json").read_text())["blend_norm"]
    assert {flag: run.get(flag, "(not recorded)") for flag in settings} == settings


@pytest.mark.parametrize("script, argv, recipe", [
    ("train.gcn", [], "gcn-qmnist"),
    ("train.gcn", ["--dataset", "yale"], "gcn-yale"),
    ("train.gcn", ["--dataset", "kdef"], "gcn-yale"),
    ("train.cgan", ["--dataset", "emnist-letters"], "cgan-mnist"),
    ("train.gcn", ["--dataset", "yale", "--classifier-only"], "judge-yale"),
    ("train.gcn", ["--classifier-only"], "judge-qmnist-styles"),
    ("train.cgan", [], "cgan-mnist"),
    ("train.judge", [], "judge-mnist"),
    ("train.fisherfaces", [], "fisherfaces-yale"),
])
def test_without_a_recipe_a_script_trains_what_it_ships(script, argv, recipe):
    import importlib

    args = importlib.import_module(script).parse_args(argv)
    assert args.recipe == recipe
    for name, value in RECIPES[recipe].defaults().items():
        if name != "dataset" or not argv:
            assert getattr(args, name) == value, name
    other_data = [arg for arg in argv if arg in ("kdef", "emnist-letters")]
    assert str(args.output_dir) == "-".join([f"runs/{recipe}", *other_data])  # never weights/ by default


def test_steps_scale_the_recipes_cooldown_unless_it_is_given(capsys):
    from train.gcn_arguments import parse_args

    assert parse_args(["--recipe", "gcn-yale", "--steps", "300"]).cooldown == 100  # 1000 of 3000 steps
    assert parse_args(["--recipe", "gcn-qmnist", "--steps", "20"]).cooldown == 6  # 1500 of 5000 steps
    assert parse_args(["--recipe", "gcn-yale", "--steps", "300", "--cooldown", "7"]).cooldown == 7
    assert parse_args(["--recipe", "gcn-yale"]).cooldown == 1000
    assert capsys.readouterr().err == ""


def test_writing_into_weights_says_it_replaces_a_shipped_model(capsys):
    from train.judge import parse_args

    args = parse_args(["--output-dir", str(ROOT / "weights" / "judge-mnist")])
    assert args.output_dir == ROOT / "weights" / "judge-mnist"
    assert "replaces the shipped model there" in capsys.readouterr().err
