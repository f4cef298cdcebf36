"""Every shipped model's training recipe, in one place: the settings of the run that made it, each with its reason.

    python -m train.gcn --recipe gcn-yale                        # trains the shipped face model into runs/gcn-yale
    python -m train.gcn --recipe gcn-yale --steps 200 --output-dir runs/try     # the recipe, changed by flags

A recipe only sets a script's defaults, so any flag given on the command line wins. Without --recipe a script
starts from the recipe of the model it ships for that data (`python -m train.gcn --dataset yale` is gcn-yale). A
run writes into runs/RECIPE (runs/RECIPE-DATASET on other data) unless --output-dir says otherwise, so no training
overwrites a shipped model by accident. --steps scales the recipe's step-counted settings (its cooldown) unless
they are given too. The README's table, the benchmark, the split study and the model cards all read this file: a
recipe change shows in one diff.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "weights"
STEP_COUNTED = ("cooldown",)  # settings counted in steps, scaled with --steps


@dataclass(frozen=True)
class Recipe:
    """A shipped model's training settings, each with the reason it has that value."""
    script: str  # the training module: train.gcn, train.cgan, ...
    settings: dict[str, tuple[object, str]]  # flag (as argparse names it) -> (value, why)

    def defaults(self) -> dict[str, object]:
        return {name: value for name, (value, _) in self.settings.items()}


FACES_DATA = {"dataset": ("yale", "the faces this machine has; KDEF users pass --dataset kdef --data-dir PATH")}

RECIPES: dict[str, Recipe] = {
    "judge-mnist": Recipe("train.judge", {
        "steps": (1500, "its held-out-writer accuracy (99.2%) had levelled off"),
        "shift": (2, "random shifts of up to 2 pixels, so it reads digits where generators put them"),
    }),
    "cgan-mnist": Recipe("train.cgan", {
        "steps": (14000, "within the hour: 45.5 minutes on two AMD cores (its training.json); 6000 -> 12000 steps "
                         "took recall 0.811 -> 0.850 and FD 3.57 -> 3.34 (python -m kepkreator.evaluate cgan)"),
        "cooldown": (4000, "a linear decay over the last steps: against 12000 constant steps, HOG tells the digits "
                           "at the app's default neatness from real ones 62.8% of the time, not 64.9%, and the "
                           "judge's FD is 3.58, not 4.29 (means over evaluation seeds 0-2; docs/handwriting-cgan.md)"),
        "mode_seeking": (0.2, "images from different latents must differ: against collapse within a class; 0.1 drew "
                              "fewer hands, 0.3 and 0.5 misread more digits (docs/handwriting-cgan.md)"),
        "shift": (2, "DiffAugment translation for the discriminator"),
        "save_generator": ("ema", "the moving average: FD 3.57 against the trained generator's 4.42, recall 0.811 "
                                  "against 0.782, at the same accuracy (python -m kepkreator.evaluate cgan)"),
    }),
    "gcn-qmnist": Recipe("train.gcn", {
        "dataset": ("qmnist", "digit, writer, colour and transform of the MNIST test digits' QMNIST writers"),
        "generator": ("modulated", "attributes reach every layer, two convolutions per scale"),
        "content": (["digit", "writer"], "the digit and its writer shape the drawing; colour only modulates it"),
        "exact_transform": (True, "the 8 rotations and flips are exact, so capacity goes to the upright digit"),
        "blend_norm": (True, "writer blends drawn at the mixed codes' length: both writers in the independent "
                             "classifier's top five 13.8% of the time, 11.2% with the codes mixed plainly "
                             "(docs/known-limits.md)"),
        "colour_mixes": (0.5, "half the images recoloured by random mixes of red, green and blue: any mix is drawn"),
        "steps": (5000, "within the hour: 44.4 minutes beside another run (its training.json)"),
        "cooldown": (1500, "a linear decay over the last steps settled the attributes of the previous model"),
    }),
    "judge-qmnist-styles": Recipe("train.gcn", {
        "dataset": ("qmnist", "the same data and split as gcn-qmnist"),
        "classifier_only": (True, "an independent reader of real images only, to score the generator"),
        "steps": (4000, "its held-out accuracy had levelled off"),
    }),
    "gcn-yale": Recipe("train.gcn", {
        **FACES_DATA,
        "width": (48, "a 64x64 face from an 8x8 map: 96, 48, 24 and 16 channels"),
        "classifier_width": (16, "the cooperating classifier overfits 149 photographs when wider"),
        "generator": ("modulated", "needed for --content"),
        "content": (["identity"], "identity alone shapes the face and condition alone modulates it: unseen "
                                  "(identity, condition) pairs drew best this way (held-out MSE 0.039 against 0.053)"),
        "exact_transform": (True, "rotations and flips exact: every step trains the upright face"),
        "blend_norm": (True, "blends drawn at the mixed codes' length: 0.91x the real faces' high-frequency energy "
                             "against 0.78x for the plain mix (evaluate faces)"),
        "coop_weight": (0.01, "the classifier's pull, kept small beside the reconstruction"),
        "mix_weight": (2.0, "pixel mixes of two people teach blends (0.5 blends read as both people for 48%, 19% "
                            "without, in a 1500-step pilot); twice the weight beside the adversarial terms: 45.7% -> "
                            "49.7% and fewer cross-hatched faces, blends 0.86x -> 0.78x the real faces' "
                            "high-frequency energy"),
        "adversarial_weight": (0.02, "sharper faces (measured before the blend term): 0.896x the real faces' "
                                     "high-frequency energy against 0.71x without; Fisherfaces reads the conditions "
                                     "as often as on real faces (the convolutional judge less often: 10% against 30%)"),
        "adversarial_blend_weight": (0.02, "blends judged too: their high-frequency energy 0.64x -> 0.86x of real "
                                           "faces', held-out faces 0.896x -> 1.03x; both people on Fisherfaces' top "
                                           "two 45.0% -> 45.7% (measured at --mix-weight 1)"),
        "unseen_weight": (1.0, "each identity also drawn in other faces' conditions, judged by the classifier and the "
                               "discriminator: on the shipped split and on split 3 of the split study, both people of "
                               "a 0.5 blend on Fisherfaces' top two 48.3% -> 51.0% and 35.3% -> 43.0%, readable "
                               "conditions read by the HOG reader 20% -> 40% and 37.5% -> 50%"),
        "d_width": (16, "a small discriminator for 149 photographs, as in the pilots"),
        "lr_d": (4e-4, "twice the discriminator's default rate, as in the pilots"),
        "lr": (5e-4, "the rate of the pilots that chose the rest"),
        "beta1": (0.5, "as in those pilots"),
        "batch_size": (32, "149 photographs: larger batches only repeat them"),
        "steps": (3000, "twice the pilots' 1500 steps; 41.0 minutes with every term, sharing the machine with "
                        "lighter work (39 samples/s, its training.json); 26.2 without --unseen-weight on a fast day"),
        "cooldown": (1000, "a linear decay over the last third, as for QMNIST"),
    }),
    "judge-yale": Recipe("train.gcn", {
        **FACES_DATA,
        "classifier_only": (True, "a second, convolutional reader of real faces only"),
        "classifier_width": (16, "as the cooperating classifier"),
        "batch_size": (32, "as the face model"),
        "steps": (1000, "its held-out reading had levelled off"),
    }),
    "fisherfaces-yale": Recipe("train.fisherfaces", {
        **FACES_DATA,
    }),
}


def default_recipe(script: str, dataset: str | None, classifier_only: bool = False) -> str:
    """The recipe of the model `script` ships for `dataset` (its own default dataset when None)."""
    if script == "train.gcn":
        faces = dataset in ("yale", "kdef")
        return {(False, False): "gcn-qmnist", (False, True): "judge-qmnist-styles",
                (True, False): "gcn-yale", (True, True): "judge-yale"}[faces, classifier_only]
    return {"train.cgan": "cgan-mnist", "train.judge": "judge-mnist", "train.fisherfaces": "fisherfaces-yale"}[script]


def given(argv: list[str], flag: str) -> bool:
    return any(arg == flag or arg.startswith(flag + "=") for arg in argv)


def parse_with_recipe(parser: argparse.ArgumentParser, script: str, argv=None) -> argparse.Namespace:
    """Parse a training script's command line on top of a recipe: --recipe's, or the script's shipped one for the
    --dataset given. Fills in --output-dir (runs/RECIPE) and scales the recipe's step-counted settings to --steps."""
    argv = list(sys.argv[1:] if argv is None else argv)
    names = sorted(name for name, recipe in RECIPES.items() if recipe.script == script)
    parser.add_argument("--recipe", choices=names, default=None,
                        help="start from this shipped model's settings (train/recipes.py; default: the one the "
                             "script ships for --dataset); other flags override them")
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--recipe", default=None)  # a wrong name is for the full parser to refuse
    early.add_argument("--dataset", default=None)
    early.add_argument("--classifier-only", action="store_true")
    chosen, _ = early.parse_known_args(argv)
    name = chosen.recipe or default_recipe(script, chosen.dataset, chosen.classifier_only)
    recipe = RECIPES[name].defaults() if name in names else {}
    parser.set_defaults(**recipe)
    args = parser.parse_args(argv)
    args.recipe, args.command = name, " ".join(["python -m", script, *argv])
    if "steps" in recipe and args.steps != recipe["steps"]:
        for setting in STEP_COUNTED:
            if setting in recipe and not given(argv, "--" + setting.replace("_", "-")):
                setattr(args, setting, round(recipe[setting] * args.steps / recipe["steps"]))
    if args.output_dir is None:
        dataset, shipped = getattr(args, "dataset", None), recipe.get("dataset", parser.get_default("dataset"))
        args.output_dir = Path("runs") / (f"{name}-{dataset}" if dataset != shipped else name)
    elif args.output_dir.resolve().parent == SHIPPED:
        print(f"note: --output-dir {args.output_dir} replaces the shipped model there", file=sys.stderr)
    return args
