"""The Fisherface judge's fit and its leave-one-out reliability (command: train/fisherfaces.py)."""
from __future__ import annotations

import argparse
import json
import time

import torch
from safetensors import SafetensorError
from tqdm.auto import tqdm

from kepkreator.cards import write_card
from kepkreator.data.digits import DataError
from kepkreator.data.transforms import TRANSFORMS, dihedral
from kepkreator.models.fisherfaces import FACE_SPACE_ENERGY, TRANSFORM, FisherfaceJudge
from kepkreator.data.settings import from_flags
from kepkreator.data.settings import record as data_record
from train.checkpoint import write_failure
from train.loop import fail, machine_summary, push


CONDITION = "condition"  # the attribute whose confusions the card spells out (Yale's conditions, KDEF's expressions)
# Where things are read from and written to: not part of what the judge is, and private paths stay off its card.
NOT_RECORDED = {"data_dir", "output_dir", "push_to_hub", "token", "command"}


@torch.no_grad()
def leave_one_out(images: torch.Tensor, attributes: torch.Tensor, schema: list) -> tuple[dict[str, float], dict]:
    """Per attribute, the share read right when each upright face is left out in turn, the judge fitted on
    the others, and the face left out read in each of the 8 transforms (as the evaluation reads faces);
    and, per condition, how it was read (which conditions a judge can tell apart at all)."""
    names = [name for name, _ in schema]
    transform_column, condition_column = names.index(TRANSFORM), names.index(CONDITION)
    conditions = schema[condition_column][1]
    hits, seen = torch.zeros(len(names)), 0
    confusion = torch.zeros(len(conditions), len(conditions), dtype=torch.long)  # true x read
    for i in tqdm(range(len(images)), desc="leave-one-out", dynamic_ncols=True):
        rest = torch.arange(len(images)) != i
        try:
            judge = FisherfaceJudge.fit(images[rest], attributes[rest], schema)
        except ValueError:  # the face left out was its value's only example: nothing to learn it from
            continue
        faces = torch.stack([dihedral(images[i], t) for t in range(len(TRANSFORMS))]).float() / 255
        truth = attributes[i].repeat(len(TRANSFORMS), 1)
        truth[:, transform_column] = torch.arange(len(TRANSFORMS))
        readings = judge(faces)
        hits += torch.tensor([(readings[name].argmax(1) == truth[:, column]).sum().item()
                              for column, name in enumerate(names)])
        confusion[attributes[i, condition_column]] += readings[CONDITION].argmax(1).bincount(
            minlength=len(conditions))
        seen += len(faces)
    shares = {name: hits[column].item() / max(seen, 1) for column, name in enumerate(names)}
    return shares, by_condition(confusion, conditions)


def by_condition(confusion: torch.Tensor, conditions: list[str]) -> dict[str, dict]:
    """Per condition: the share of its faces read right, and the other condition it was most often read as."""
    out = {}
    for true, row in enumerate(confusion):
        if row.sum() == 0:
            continue
        wrong = row.clone()
        wrong[true] = 0
        out[conditions[true]] = {"right": row[true].item() / row.sum().item(),
                                 "mostly_misread_as": conditions[wrong.argmax()] if wrong.any() else None,
                                 "faces": row.sum().item()}
    return out


def run(args: argparse.Namespace) -> None:
    """Train the Fisherface judge with parsed, checked settings; raises TrainingError with one line when it cannot."""
    data_settings = from_flags(args)
    try:
        data = data_settings.load(args.data_dir)
    except DataError as err:
        fail(str(err))
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)  # before the work, not after it
    except OSError as err:
        fail(f"cannot write to --output-dir {args.output_dir}: {err.strerror or err}")
    train = data.train
    upright = train.subset(train.attributes[:, list(data.schema).index(TRANSFORM)] == 0)
    schema = list(data.schema.items())
    started = time.perf_counter()
    try:
        judge = FisherfaceJudge.fit(upright.images, upright.attributes, schema)
    except ValueError as err:
        fail(str(err))
    seconds = time.perf_counter() - started
    reliability, conditions = leave_one_out(upright.images, upright.attributes, schema)
    record = {
        "fit_seconds": round(seconds, 2), "machine": machine_summary(), "face_components": judge.eigenfaces.shape[0],
        "face_space_energy": FACE_SPACE_ENERGY,
        "leave_one_out": reliability,
        "leave_one_out_by_condition": conditions,
        "run_config": {k: v for k, v in vars(args).items() if k not in NOT_RECORDED},
        "data": data_record(data_settings),
        "card": {"title": f"Fisherface judge: {args.dataset}", "kind": "fisherfaces", "dataset": args.dataset,
                 "images": len(upright),
                 "command": args.command},
    }
    try:
        judge.save_pretrained(args.output_dir)
        (args.output_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
        write_card(judge, args.output_dir)
    except (OSError, SafetensorError) as err:
        fail(f"could not write the judge in {args.output_dir}: {write_failure(err)}")
    print(f"saved {args.output_dir}: {judge.eigenfaces.shape[0]} eigenfaces, fitted in {seconds:.2f} s; "
          "leave-one-out accuracy " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in reliability.items()))
    if args.push_to_hub:
        push(args.push_to_hub, args.output_dir, args.token)
