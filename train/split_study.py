"""Does the face figure hold for other held-out faces? The Yale GCN measured over several splits.

    python -m train.split_study --splits 0 1 2 3 4 5

Split 0 is the shipped model (weights/gcn-yale, judged by weights/fisherfaces-yale).
For every other split, the shipped model's training command runs again with
--split-seed N into --runs-dir (a finished run there is reused, an unfinished
one resumed), a Fisherface judge is fitted on that split's training faces, and
both are measured as `python -m kepkreator.evaluate faces` measures the shipped
model. The shipped settings were chosen while looking at some splits' held-out
figures (--guided: split 0 throughout, split 1 as well for --mix-weight); the
splits that never guided a choice are the fairer estimate, and the summary is
theirs.
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
from kepkreator.evaluation.common import mean_of_matching, per_image_mse, top_k_accuracy
from kepkreator.evaluation.faces import check_same_split, faces_as_trained, identity_blends
from kepkreator.hub import WeightsError, load_model, weights_path
from kepkreator.models.fisherfaces import FisherfaceJudge
from kepkreator.validation import positive_int
from train.fisherfaces import main as fit_judge
from train.gcn import main as train_gcn
from train.loop import fail

SHIPPED_MODEL, SHIPPED_JUDGE = "gcn-yale", "fisherfaces-yale"


def shipped_settings(steps: int | None) -> dict:
    """The settings the shipped Yale model was trained with, as its training record holds them."""
    record = json.loads((weights_path(SHIPPED_MODEL) / "training.json").read_text())
    return dict(record["card"]["hyperparameters"], **({"steps": steps} if steps else {}))


def prepare_split(split: int, runs_dir: Path, settings: dict, data_dir: Path | None) -> tuple[Path, Path]:
    """(model folder, judge folder) for a split, training and fitting what is not there yet."""
    if split == 0:
        return weights_path(SHIPPED_MODEL), weights_path(SHIPPED_JUDGE)
    model, judge = runs_dir / f"gcn-yale-split{split}", runs_dir / f"fisherfaces-yale-split{split}"
    data = ["--data-dir", str(data_dir)] if data_dir else []
    record = model / "training.json"
    if record.exists():
        recorded = json.loads(record.read_text())["card"]["hyperparameters"]
        changed = {key: (recorded.get(key), value) for key, value in settings.items() if recorded.get(key) != value}
        if changed:
            fail(f"{model} was trained with other settings than the shipped model's ({changed}, as recorded vs "
                 "wanted): remove it or choose another --runs-dir")
    else:
        flags = [part for key, value in settings.items() for part in (f"--{key.replace('_', '-')}", str(value))]
        train_gcn(["--dataset", "yale", *flags, *data, "--split-seed", str(split), "--output-dir", str(model),
                   "--resume"])
    if not (judge / "config.json").exists():
        fit_judge(["--dataset", "yale", *data, "--split-seed", str(split), "--output-dir", str(judge)])
    return model, judge


def measure_split(model_folder: Path, judge_folder: Path, data_dir: Path | None) -> dict:
    model = AttributeModel.from_pretrained(model_folder)
    check_same_split(judge_folder, model_folder, str(judge_folder), str(model_folder))
    judge = load_model(FisherfaceJudge, judge_folder)
    data = faces_as_trained(model_folder, data_dir, model.generator.image_size)
    held = data.held_out
    real, generated = held.images.float() / 255, model.generate(held.one_hot())
    top1 = {name: {source: shares[1] for source, shares in by_source.items()}
            for name, by_source in top_k_accuracy(judge, generated, real, held.attributes).items()}
    return {"faces": len(held), **top1,
            "mse": per_image_mse(generated, real).mean().item(),
            "identity_mean_mse": per_image_mse(mean_of_matching(data.train, held, [0, 2]), real).mean().item(),
            "blends_top_two": identity_blends(model, {"judge": judge}, seed=0)["judge"],
            "training_minutes": json.loads((model_folder / "training.json").read_text())["training_seconds"] / 60}


def report(results: dict[int, dict], command: str, guided: list[int]) -> str:
    percent = lambda share: f"{100 * share:.1f}%"

    def label(split: int) -> str:
        roles = ["shipped"] * (split == 0) + ["guided"] * (split in guided)
        return f"{split} ({', '.join(roles)})" if roles else str(split)

    rows = [{"split": label(split),
             "held-out faces": r["faces"],
             "identity, generated": percent(r["identity"]["generated"]),
             "identity, real": percent(r["identity"]["real"]),
             "condition, generated": percent(r["condition"]["generated"]),
             "condition, real": percent(r["condition"]["real"]),
             "MSE": f"{r['mse']:.4f}", "identity-mean MSE": f"{r['identity_mean_mse']:.4f}",
             "0.5 blends, both on top": percent(r["blends_top_two"]),
             "trained in": f"{r['training_minutes']:.1f} min"}
            for split, r in results.items()]
    unseen = [r for split, r in results.items() if split not in guided]
    summary = ""
    if unseen:
        identity = [r["identity"]["generated"] for r in unseen]
        spread = f", std {100 * statistics.stdev(identity):.1f}" if len(identity) > 1 else ""
        summary = (f"\n\nOver the {len(unseen)} split(s) that never guided a choice: generated held-out identity "
                   f"{percent(statistics.mean(identity))} on average{spread}, lowest {percent(min(identity))}; "
                   f"the GCN's MSE beats the identity-mean baseline's on "
                   f"{sum(r['mse'] < r['identity_mean_mse'] for r in unseen)} of {len(unseen)}.")
    return (f"```\n{command}\n```\n\nEach split holds out other (identity, condition) pairs (15 pairs x 8 transforms); "
            "identity and condition are read by a Fisherface judge fitted on that split's real training faces only. "
            f"Split 0 is the shipped model; the settings were chosen while looking at the figures of the splits "
            f"marked guided ({', '.join(map(str, guided)) or 'none'}). A blend's two people are both on top when "
            "the judge reads them as its top two (300 random pairs, random conditions, upright).\n\n"
            + markdown_table(rows) + summary + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.split_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where the other splits' models go")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="train the other splits for this many steps (default: as the shipped model)")
    parser.add_argument("--guided", type=int, nargs="*", default=[0, 1],
                        help="splits whose held-out figures were looked at while choosing the shipped settings; "
                             "the summary leaves them out (default: 0 1)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("results") / "face-splits")
    args = parser.parse_args(argv)
    if any(split < 0 for split in args.splits) or len(set(args.splits)) != len(args.splits):
        fail(f"--splits takes distinct seeds of 0 or more, got {args.splits}")
    command = "python -m train.split_study " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        settings = shipped_settings(args.steps)
        results = {split: measure_split(*prepare_split(split, args.runs_dir, settings, args.data_dir), args.data_dir)
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


if __name__ == "__main__":
    main()
