"""Each recipe holds the settings of the run that made its shipped weights, so training by the recipe redoes them."""
import json
from pathlib import Path

import pytest

from train.recipes import RECIPES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_recipe_holds_the_settings_of_its_shipped_run(name):
    settings = RECIPES[name].defaults()
    record = json.loads((ROOT / settings.pop("output_dir") / "training.json").read_text())
    run = {**record["run_config"], **record.get("card", {}).get("hyperparameters", {})}
    if "steps" in record:  # a fitted model (Fisherfaces) has none
        run["steps"] = record["steps"]
    if settings.pop("blend_norm", False):  # a drawing setting, which the shipped model's config.json holds
        assert json.loads((ROOT / RECIPES[name].defaults()["output_dir"] / "config.json").read_text())["blend_norm"]
    assert {flag: run.get(flag, "(not recorded)") for flag in settings} == settings
