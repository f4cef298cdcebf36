"""Does the face figure hold for other held-out faces? The Yale GCN measured over several splits.

    python -m studies.split_study --splits 0 1 2 3 4 5

Split 0 is the shipped model (weights/gcn-yale, judged by weights/fisherfaces-yale).
For every other split, the shipped recipe (train/recipes.py, gcn-yale) runs again
with --split-seed N into --runs-dir (a finished run there is reused, an unfinished
one resumed), a Fisherface judge is fitted on that split's training faces, and
both are measured as `python -m kepkreator.evaluate faces` measures the shipped
model. The shipped settings were chosen while looking at some splits' held-out
figures (--guided); the splits that never guided a choice are the fairer
estimate, and the summary is theirs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from kepkreator.attributes import AttributeModel
from kepkreator.cards import markdown_table
from kepkreator.data.digits import DataError
from kepkreator.evaluation.face_metrics import HOG_READER, check_same_split, face_figures, faces_as_trained
from kepkreator.hub import WeightsError, load_model, weights_path
from kepkreator.models.fisherfaces import FisherfaceJudge
from kepkreator.validation import HelpWithDefaults, positive_int, seed_flag
from train.fisherfaces import train as fit_judge
from train.gcn import train as train_gcn
from train.gcn_arguments import get_args_parser as gcn_args_parser, hyperparameters, parse_args as parse_gcn_arguments
from train.loop import TrainingError, command_line, fail
from train.recipes import RECIPES

SHIPPED_MODEL, SHIPPED_JUDGE = "gcn-yale", "fisherfaces-yale"
JUDGE = "fisherfaces"


# Drawing settings of config.json, which change no weights: measure_split draws every split as the recipe says.
DRAWING_SETTINGS = ("blend_norm",)


def recipe_differences(trained: dict, wanted: list[str]) -> list[str]:
    """How the settings a run recorded differ from those the `wanted` train.gcn flags give today, one phrase
    each: a run kept from before a change of the recipe differs, though its command line is the same. A setting
    the run did not record came with a later flag, so it trained as that flag's default does."""
    expected = hyperparameters(parse_gcn_arguments(wanted))
    default = hyperparameters(gcn_args_parser().parse_args([]))  # each flag's own default, before any recipe
    trained = {**default, **trained}
    return [f"{name} {trained[name]} (recipe: {value})" for name, value in expected.items()
            if name not in DRAWING_SETTINGS and trained[name] != value]


def prepare_split(split: int, runs_dir: Path, overrides: list[str], data_dir: Path | None,
                  as_trained: bool = False) -> tuple[Path, Path, list[str]]:
    """(model folder, judge folder, how the model's settings differ from the recipe's) for a split, training and
    fitting what is not there yet. A run there already must have been trained by the recipe as it is now, unless
    `as_trained`."""
    if split == 0:
        shipped = weights_path(SHIPPED_MODEL)
        trained = json.loads((shipped / "training.json").read_text())["card"]["hyperparameters"]
        return shipped, weights_path(SHIPPED_JUDGE), recipe_differences(trained, ["--recipe", "gcn-yale"])
    model, judge = runs_dir / f"gcn-yale-split{split}", runs_dir / f"fisherfaces-yale-split{split}"
    data = ["--data-dir", str(data_dir)] if data_dir else []
    record = model / "training.json"
    wanted = ["--recipe", "gcn-yale", *overrides]
    differences = []
    if record.exists():
        differences = recipe_differences(json.loads(record.read_text())["card"]["hyperparameters"], wanted)
        if differences and not as_trained:
            fail(f"{model} was trained by another recipe than the shipped model's ({'; '.join(differences)}): remove "
                 "it, choose another --runs-dir, or pass --as-trained to measure it as it was trained")
    try:
        if not record.exists():
            train_gcn([*wanted, *data, "--split-seed", str(split), "--output-dir", str(model), "--resume"])
        if not (judge / "config.json").exists():
            fit_judge(["--dataset", "yale", *data, "--split-seed", str(split), "--output-dir", str(judge)])
    except TrainingError as err:
        fail(f"split {split} could not be trained: {err}")
    return model, judge, differences


def recipe_blend_norm() -> bool:
    """How the recipe's model draws blends (--blend-norm): each split's model draws them so, also one trained
    before the flag wrote the setting into config.json (it changes no weights)."""
    return bool(RECIPES["gcn-yale"].defaults().get("blend_norm", False))


def measure_split(model_folder: Path, judge_folder: Path, differences: list[str], data_dir: Path | None) -> dict:
    """The figures `python -m kepkreator.evaluate faces` gives, on this split, with this split's Fisherface judge,
    and the settings in which its model differs from the recipe."""
    model = AttributeModel.from_pretrained(model_folder)
    model.generator.blend_norm = recipe_blend_norm()
    check_same_split(judge_folder, model_folder, str(judge_folder), str(model_folder))
    data = faces_as_trained(model_folder, data_dir)
    # The report has no column for the blends' realism: a minute and a half per split spared.
    figures = face_figures(model, data, {JUDGE: load_model(FisherfaceJudge, judge_folder)}, "yale", seed=0,
                           blend_realism=False)
    return {**figures, "apart_from_recipe": differences,
            "training_minutes": json.loads((model_folder / "training.json").read_text())["training_seconds"] / 60}


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def readable(figures: dict, reader: str) -> str:
    """Held-out faces in the conditions a reader tells apart on real faces, read right: generated (real)."""
    share = figures["readable_conditions"][reader]
    return f"{percent(share['generated'])} ({percent(share['real'])})"


def split_row(split: int, figures: dict, guided: list[int], any_apart: bool) -> dict:
    roles = ["shipped"] * (split == 0) + ["guided"] * (split in guided)
    accuracy, realism = figures["accuracy"], figures["realism"]
    return {"split": f"{split} ({', '.join(roles)})" if roles else str(split),
            "identity, Fisherfaces": f"{percent(accuracy[JUDGE]['identity']['generated'])} "
                                     f"({percent(accuracy[JUDGE]['identity']['real'])})",
            "identity, HOG": f"{percent(accuracy[HOG_READER]['identity']['generated'])} "
                             f"({percent(accuracy[HOG_READER]['identity']['real'])})",
            "held-out pairs in readable conditions": str(figures["readable_faces"]),
            "readable conditions, Fisherfaces": readable(figures, JUDGE),
            "readable conditions, HOG": readable(figures, HOG_READER),
            "sharpness": f"{realism['generated held-out']['sharpness'] / realism['real held-out']['sharpness']:.2f}x",
            "0.5 blends, both on top (pixel mix)": f"{percent(figures['blend_top2_share'][JUDGE])} "
                                                   f"({percent(figures['pixel_mix_top2_share'][JUDGE])})",
            **({"0.5 blends, codes mixed plainly": percent(figures["plain_blends"]["top2_share"][JUDGE])}
               if figures.get("plain_blends") else {}),
            "MSE (identity-mean)": f"{figures['mse']['GCN']['mse']:.4f} "
                                   f"({figures['mse']['identity-mean baseline']['mse']:.4f})",
            "trained in": f"{figures['training_minutes']:.1f} min",
            **({"apart from the recipe": "; ".join(figures["apart_from_recipe"]) or "-"} if any_apart else {})}


def report(results: dict[int, dict], command: str, guided: list[int]) -> str:
    any_apart = any(figures["apart_from_recipe"] for figures in results.values())
    rows = [split_row(split, figures, guided, any_apart) for split, figures in results.items()]
    unseen = [r for split, r in results.items() if split not in guided]
    summary = ""
    if unseen:
        mean = lambda values: statistics.mean(values)
        fisher, hog = ([r["accuracy"][reader]["identity"]["generated"] for r in unseen]
                       for reader in (JUDGE, HOG_READER))
        fisher_real, hog_real = ([r["accuracy"][reader]["identity"]["real"] for r in unseen]
                                 for reader in (JUDGE, HOG_READER))
        sharp = [r["realism"]["generated held-out"]["sharpness"] / r["realism"]["real held-out"]["sharpness"]
                 for r in unseen]
        conditions = {reader: sum(r["readable_conditions"][reader]["generated"] >=
                                  r["readable_conditions"][reader]["real"] for r in unseen)
                      for reader in (JUDGE, HOG_READER)}
        blends = [r["blend_top2_share"][JUDGE] for r in unseen]
        pixel_mixes = [r["pixel_mix_top2_share"][JUDGE] for r in unseen]
        beats = sum(r["mse"]["GCN"]["mse"] < r["mse"]["identity-mean baseline"]["mse"] for r in unseen)
        summary = (f"\n\nOver the {len(unseen)} split(s) that never guided a choice, on average: identity "
                   f"{percent(mean(fisher))} (Fisherfaces, lowest {percent(min(fisher))}; real faces "
                   f"{percent(mean(fisher_real))}) and {percent(mean(hog))} (HOG, lowest {percent(min(hog))}; real "
                   f"faces {percent(mean(hog_real))}); sharpness {mean(sharp):.2f}x the real faces'; 0.5 blends "
                   f"with both people on top {percent(mean(blends))} (50/50 pixel mixes of two real faces: "
                   f"{percent(mean(pixel_mixes))}); the GCN's MSE beats the identity-mean "
                   f"baseline's on {beats} of {len(unseen)}; the readable conditions are read on the generated faces "
                   f"at least as well as on the real ones on {conditions[JUDGE]} (Fisherfaces) and "
                   f"{conditions[HOG_READER]} (HOG) of {len(unseen)}.")
    return (f"```\n{command}\n```\n\n"
            "Each split holds out other (identity, condition) pairs (15 pairs x 8 transforms) and is trained by the "
            "shipped recipe (`train/recipes.py`, `gcn-yale`) with its own `--split-seed`"
            + (", except in the settings the last column names (the recipe's value in brackets)" if any_apart else "")
            + ". Identity is read from the "
            "held-out faces by a Fisherface judge fitted on that split's real training faces and by a HOG reader "
            "fitted the same way (in brackets: the same reader on the real held-out faces); readable conditions are "
            "the held-out pairs in the conditions a reader tells apart on real faces (left light, right light, happy,"
            " surprised, glasses), read right by each reader (in brackets: on the real faces); sharpness is the held-"
            "out faces' high-frequency energy over the real ones'; a 0.5 blend counts when the Fisherface judge puts "
            "both people on its top two, over every pair of people in every condition (in brackets: the same judge on "
            "the 50/50 pixel mix of every pair of two people's real training faces in one condition; every split's "
            "model draws its blends as the shipped "
            f"model does, {'with' if recipe_blend_norm() else 'without'} `blend_norm`). Split 0 is the "
            f"shipped model; the settings were chosen while looking at the figures of the splits marked guided "
            f"({', '.join(map(str, guided)) or 'none'}).\n\n" + markdown_table(rows) + summary + "\n")


def train(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studies.split_study", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("--splits", type=seed_flag, nargs="+", default=[0, 1, 2, 3, 4, 5],
                        help="split seeds to measure (0: the shipped model)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where the other splits' models go")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="train the other splits for this many steps (default: as the shipped model)")
    parser.add_argument("--guided", type=seed_flag, nargs="*", default=[0],
                        help="splits whose held-out figures were looked at while choosing the shipped settings; "
                             "the summary leaves them out (default: 0)")
    parser.add_argument("--data-dir", type=Path, default=None, help="dataset root")
    parser.add_argument("--out", type=Path, default=Path("results") / "face-splits", help="report path, without suffix")
    parser.add_argument("--as-trained", action="store_true",
                        help="measure runs in --runs-dir trained by an older recipe as they are, naming how they "
                             "differ (default: refuse them)")
    args = parser.parse_args(argv)
    if len(set(args.splits)) != len(args.splits):
        fail(f"--splits takes distinct seeds, got {args.splits}")
    command = "python -m studies.split_study " + " ".join(argv if argv is not None else sys.argv[1:])
    overrides = ["--steps", str(args.steps)] if args.steps else []  # the recipe's cooldown scales with it
    try:
        results = {split: measure_split(*prepare_split(split, args.runs_dir, overrides, args.data_dir, args.as_trained),
                                        args.data_dir)
                   for split in args.splits}
    except (WeightsError, DataError) as err:
        fail(str(err))
    text = report(results, command, args.guided)
    print(text)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".md").write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps({"command": command, "splits": results}, indent=2) + "\n")
    except OSError as err:
        fail(f"could not write {args.out}.md / .json: {err.strerror or err}")


main = command_line(train)

if __name__ == "__main__":
    main()
