"""Faces: held-out (identity, condition) pairs drawn by the GCN, and 0.5 identity blends.

- MSE and PSNR against the real held-out faces, beside two baselines that need
  no learning: the mean training face of that identity, and the mean training
  face of that condition (both in the same transform);
- identity and condition accuracy of the generated held-out faces, read by
  judges fitted or trained only on real training faces (the first judge named
  is the one checked against the targets; every judge also reads the real
  held-out faces, which shows how far it can be trusted);
- at a 0.5 blend of two identities, how often the two are a judge's top two,
  beside the same share for 50/50 pixel mixes of two real training faces.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from kepkreator.attributes import AttributeModel
from kepkreator.cards import markdown_table
from kepkreator.data.faces import face_styles, load_faces
from kepkreator.data.styles import AttributeSet, Partners
from kepkreator.evaluation.common import (attribute_accuracy, checklist, judge_config, mean_of_matching, per_image_mse,
                                          psnr, training_settings)
from kepkreator.hub import WeightsError, load_model, resolve, weights_path
from kepkreator.models.fisherfaces import FisherfaceJudge
from kepkreator.models.gcn import AttributeClassifier

TARGETS = {"identity": 0.90, "condition": 0.80}
SPLIT_SETTINGS = ("dataset", "holdout", "split_seed", "exclude_identities", "image_size", "grey", "kdef_sessions",
                  "kdef_expressions", "kdef_angles")
BLENDS = 300


def load_face_judge(name: str, model_schema: dict) -> tuple[nn.Module, Path]:
    """A Fisherface judge or a convolutional attribute classifier, told apart by their config, and its folder."""
    folder = resolve(name)
    config = judge_config(name, folder, model_schema, "python -m train.fisherfaces")
    fisherfaces = config is not None and "face_components" in config
    return load_model(FisherfaceJudge if fisherfaces else AttributeClassifier, folder), folder


def face_settings(folder: Path) -> dict:
    """A face model's recorded training settings (the Yale faces for a model without a record)."""
    return {"dataset": "yale", **training_settings(folder)}


def faces_as_trained(folder: Path, data_dir: Path | None, image_size: int) -> AttributeSet:
    """The faces, and the split into training and held-out pairs, that the model in `folder` was trained with."""
    settings = face_settings(folder)
    faces = load_faces(**{**settings, "data_dir": data_dir, "image_size": image_size})
    return face_styles(faces, holdout=settings["holdout"], seed=settings["split_seed"])


def data_split(folder: Path) -> dict:
    """The settings that decide which real faces were fitted or trained on."""
    settings = face_settings(folder)
    return {key: settings.get(key) for key in SPLIT_SETTINGS}


def check_same_split(judge_folder: Path, model_folder: Path, judge: str, model: str) -> None:
    """A judge fitted on another split may have seen the model's held-out faces, which would flatter the model."""
    if not (judge_folder / "training.json").exists():
        return  # a judge without a record (made elsewhere): nothing to compare
    judge_split, model_split = data_split(judge_folder), data_split(model_folder)
    differences = [f"{key} {judge_split[key]!r} vs {model_split[key]!r}" for key in SPLIT_SETTINGS
                   if judge_split[key] != model_split[key]]
    if differences:
        raise WeightsError(f"the judge {judge!r} was fitted on other faces than the model {model!r} was trained on "
                           f"({', '.join(differences)}), so it may have seen the held-out faces: fit a judge with "
                           "the model's data settings")


def top_two_share(judge: nn.Module, images: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    top2 = judge(images)["identity"].topk(2, dim=1).indices
    return ((top2 == a[:, None]).any(dim=1) & (top2 == b[:, None]).any(dim=1)).double().mean().item()


def random_pairs(identities: int, count: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.randint(0, identities, (count,), generator=rng)
    return a, (a + torch.randint(1, identities, (count,), generator=rng)) % identities


@torch.no_grad()
def identity_blends(model: AttributeModel, judges: dict[str, nn.Module], seed: int) -> dict[str, float]:
    """Per judge, the share of 0.5 A + 0.5 B faces (random pairs and conditions, upright) read with A and B on top."""
    rng = torch.Generator().manual_seed(seed)
    sizes = [len(v) for v in model.schema.values()]
    a, b = random_pairs(sizes[0], BLENDS, rng)
    condition = torch.randint(0, sizes[1], (BLENDS,), generator=rng)
    one_hot = torch.nn.functional.one_hot
    vectors = torch.cat([0.5 * one_hot(a, sizes[0]) + 0.5 * one_hot(b, sizes[0]), one_hot(condition, sizes[1]),
                         one_hot(torch.zeros(BLENDS, dtype=torch.long), sizes[2])], dim=1).float()
    faces = model.generate(vectors)
    return {name: top_two_share(judge, faces, a, b) for name, judge in judges.items()}


@torch.no_grad()
def pixel_mix_blends(train: AttributeSet, judges: dict[str, nn.Module], seed: int) -> dict[str, float]:
    """The same share for the plainest blend of two people: the pixel mean of two real upright training faces of
    one condition. A reference for what a judge calls a blend, not a target."""
    upright = train.subset(train.attributes[:, 2] == 0)
    rng = torch.Generator().manual_seed(seed)
    firsts = torch.randint(0, len(upright), (BLENDS,), generator=rng)
    seconds, b, found = Partners(upright, column=0).draw(upright.attributes[firsts], generator=rng)
    if not found.any():
        return {name: float("nan") for name in judges}
    faces = (upright.images[firsts].float() / 255 + seconds)[found] / 2
    a = upright.attributes[firsts, 0][found]
    return {name: top_two_share(judge, faces, a, b[found]) for name, judge in judges.items()}


def evaluate_faces(args) -> dict:
    folder = weights_path(args.weights)
    model = AttributeModel.from_pretrained(folder)
    if "identity" not in model.schema:
        raise WeightsError(f"{args.weights!r} is not a face model: it draws {', '.join(model.schema)}")
    judges = {}
    for name in args.judges:
        judge, judge_folder = load_face_judge(name, model.schema)
        check_same_split(judge_folder, folder, name, args.weights)
        judges[name] = judge
        if judge.schema != model.schema:
            raise WeightsError(f"the judge {name!r} reads other attributes than the model {args.weights!r} draws "
                               f"(it knows {', '.join(f'{len(v)} {k}' for k, v in judge.schema.items())}; the model "
                               f"{', '.join(f'{len(v)} {k}' for k, v in model.schema.items())})")
    size = model.generator.image_size
    data = faces_as_trained(folder, args.data_dir, size)
    train, held = data.train, data.held_out
    real = held.images.float() / 255
    generated = model.generate(held.one_hot())
    rows = []
    for name, images in (("GCN", generated), ("identity-mean baseline", mean_of_matching(train, held, [0, 2])),
                         ("condition-mean baseline", mean_of_matching(train, held, [1, 2]))):
        mse = per_image_mse(images, real)
        rows.append({"held-out faces": name, "MSE": f"{mse.mean():.4f}", "PSNR": f"{psnr(mse).mean():.2f} dB"})
    readings, checks = {}, []
    for name, judge in judges.items():
        readings[name], judge_checks = attribute_accuracy(judge, generated, real, held.attributes, TARGETS)
        if name == args.judges[0]:
            checks = judge_checks
    blends, mixes = identity_blends(model, judges, args.seed), pixel_mix_blends(train, judges, args.seed)
    pairs = len({tuple(a) for a in held.attributes[:, :2].tolist()})
    notes = [f"{pairs} held-out (identity, condition) pairs x 8 transforms = {len(held)} faces, {size}x{size}."]
    for order, (name, accuracy_rows) in enumerate(readings.items()):
        role = "targets checked here" if order == 0 else "a second reader"
        notes.append(f"Read by `{name}` ({role}):\n\n" + markdown_table(accuracy_rows))
    notes.append(checklist(checks))
    notes.append(f"Blends: the share of faces whose two source identities are a judge's top two, out of {BLENDS} "
                 f"random pairs (seed {args.seed}):\n\n" + markdown_table(
                     [{"faces": "GCN, 0.5 identity A + 0.5 identity B (random conditions, upright)",
                       **{f"`{n}`": f"{100 * v:.1f}%" for n, v in blends.items()}},
                      {"faces": "reference: pixel mean of real A and real B faces in one condition",
                       **{f"`{n}`": f"{100 * v:.1f}%" for n, v in mixes.items()}}]))
    return {"rows": rows, "notes": "\n\n".join(notes), "attributes": readings, "blend_top2_share": blends,
            "pixel_mix_top2_share": mixes}
