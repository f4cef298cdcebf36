"""Faces: held-out (identity, condition) pairs drawn by the GCN, and 0.5 identity blends.

- MSE and PSNR against the real held-out faces, beside two baselines that need
  no learning: the mean training face of that identity, and the mean training
  face of that condition (both in the same transform);
- identity and condition accuracy of the generated held-out faces, read by
  judges fitted or trained only on real training faces (the first judge named
  is the one checked against the targets) and by a HOG reader, of another kind,
  fitted here; every reader also reads the real held-out faces, which shows how
  far it can be trusted;
- sharpness and a two-sample test (kepkreator/evaluation/readers.py): whether
  the faces have the real ones' detail, and whether a simple classifier can
  tell them from real faces;
- at a 0.5 blend of two identities, how often the two are a reader's top two,
  beside the same share for 50/50 pixel mixes of two real training faces.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from torch import nn

from kepkreator.attributes import AttributeModel
from kepkreator.batching import in_chunks
from kepkreator.cards import markdown_table
from kepkreator.data.settings import FaceData, record, recorded
from kepkreator.data.attribute_sets import AttributeSet, mix, one_hot_parts
from kepkreator.evaluation.shared import (checklist, judge_config, mean_of_matching, per_image_mse, progress, psnr,
                                          readback_note, top_k_accuracy)
from kepkreator.evaluation.figures import write_face_figures
from kepkreator.evaluation.readers import HogReader, sharpness, two_sample_accuracy
from kepkreator.hub import WeightsError, load_model, resolve, weights_path
from kepkreator.models.fisherfaces import FisherfaceJudge
from kepkreator.models.gcn import AttributeClassifier
from kepkreator.morphs import morphs

HOG_READER = "HOG + logistic regression"
# Conditions some reader tells apart on real held-out faces (the Fisherface card's leave-one-out table, and the HOG
# reader); the others (normal, no glasses, centre light, sad, sleepy, wink) look alike to every reader here.
READABLE = {"yale": ("leftlight", "rightlight", "happy", "surprised", "glasses")}
SHARPNESS_TARGET = 0.9
BLEND_TARGET = 0.5
# Blends a visitor would take for people. The card measures the pixel mixes and flow morphs of the photographs
# against the same figures: what a blend target in the data itself reaches.
HOG_BLEND_TARGET = 0.7
TOLD_APART_TARGET = 0.75
# The two-sample figure of one step moves with the seed that picks the real faces and the folds: over
# `python -m kepkreator.evaluate faces --seed S` for S = 0-4, the shipped model's strip ends span 90.6-94.0% and its
# 0.5 blends 96.0-98.3% (a standard deviation of about 1.2 points), 3.3-6.4 points above the ends at every seed.
STRIP_NOISE = 0.02


def load_face_judge(name: str, model_schema: dict) -> tuple[nn.Module, Path]:
    """A Fisherface judge or a convolutional attribute classifier, told apart by their config, and its folder."""
    folder = resolve(name)
    config = judge_config(name, folder, model_schema, "python -m train.fisherfaces")
    fisherfaces = config is not None and "face_components" in config
    return load_model(FisherfaceJudge if fisherfaces else AttributeClassifier, folder), folder


def faces_as_trained(folder: Path, data_dir: Path | None) -> AttributeSet:
    """The faces, and the split into training and held-out pairs, that the model in `folder` was trained with."""
    return face_data(folder).load(data_dir)


def face_data(folder: Path) -> FaceData:
    settings = recorded(folder)
    if not isinstance(settings, FaceData):
        raise WeightsError(f"{folder} was trained on {settings.dataset}, not on faces")
    return settings


def check_same_split(judge_folder: Path, model_folder: Path, judge: str, model: str) -> None:
    """A judge fitted on other faces may have seen the model's held-out faces, which would flatter the model."""
    if not (judge_folder / "training.json").exists():
        return  # a judge without a record (made elsewhere): nothing to compare
    judge_split, model_split = record(face_data(judge_folder)), record(face_data(model_folder))
    differences = [f"{key} {judge_split[key]!r} vs {model_split[key]!r}" for key in judge_split
                   if judge_split[key] != model_split[key]]
    if differences:
        raise WeightsError(f"the judge {judge!r} was fitted on other faces than the model {model!r} was trained on "
                           f"({', '.join(differences)}), so it may have seen the held-out faces: fit a judge with "
                           "the model's data settings")


def top_two_share(judge: nn.Module, images: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    top2 = in_chunks(judge, images)["identity"].topk(2, dim=1).indices
    return ((top2 == a[:, None]).any(dim=1) & (top2 == b[:, None]).any(dim=1)).double().mean().item()


@torch.no_grad()
def blend_faces(model: AttributeModel, share: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The (1 - share) A + share B face of every pair of people (a < b) in every condition, upright, and the pairs
    (a, b). A 0.5 mix is the same either way round, so each pair comes once; the share read from them is the share
    over all the pairs the target speaks of, with no sampling noise."""
    sizes = [len(v) for v in model.schema.values()]
    pairs = torch.combinations(torch.arange(sizes[0]), 2)
    pair, condition = torch.cartesian_prod(torch.arange(len(pairs)), torch.arange(sizes[1])).T
    a, b = pairs[pair].T
    one_hot = torch.nn.functional.one_hot
    vectors = torch.cat([mix(a, b, share, sizes[0]), one_hot(condition, sizes[1]).float(),
                         one_hot(torch.zeros_like(a), sizes[2]).float()], dim=1)
    return model.generate(vectors), a, b


def photograph_pairs(train: AttributeSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two people's real upright training faces in one condition, for every such pair: (faces of A, faces of B, in
    [0, 1], a, b). A person with several photographs in a condition (KDEF's two sessions) gives the first, so the
    pairs are those `blend_faces` draws and their number stays (people choose 2) x conditions."""
    upright = train.upright
    first_photograph = {tuple(key): i for i, key in reversed(list(enumerate(upright.attributes.tolist())))}
    upright = upright.subset(torch.tensor(sorted(first_photograph.values())))
    identity, others = upright.attributes[:, 0], upright.attributes[:, 1:]
    first, second = torch.triu_indices(len(upright), len(upright), offset=1)
    kept = (others[first] == others[second]).all(dim=1) & (identity[first] != identity[second])
    first, second = first[kept], second[kept]
    images = upright.images.float() / 255
    return images[first], images[second], identity[first], identity[second]


def top_two_shares(readers: dict, faces: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    return {name: top_two_share(reader, faces, a, b) if len(faces) else float("nan")
            for name, reader in readers.items()}


def load_judges(names: list[str], model: AttributeModel, folder: Path, model_name: str) -> dict[str, nn.Module]:
    judges = {}
    for name in names:
        judge, judge_folder = load_face_judge(name, model.schema)
        check_same_split(judge_folder, folder, name, model_name)
        if judge.schema != model.schema:
            raise WeightsError(f"the judge {name!r} reads other attributes than the model {model_name!r} draws "
                               f"(it knows {', '.join(f'{len(v)} {k}' for k, v in judge.schema.items())}; the model "
                               f"{', '.join(f'{len(v)} {k}' for k, v in model.schema.items())})")
        judges[name] = judge
    return judges


@torch.no_grad()
def every_pair(model: AttributeModel) -> torch.Tensor:
    """The generator's upright face for every (identity, condition) pair, seen in training or not."""
    sizes = [len(v) for v in model.schema.values()]
    identity, condition = torch.cartesian_prod(torch.arange(sizes[0]), torch.arange(sizes[1])).T
    transform = torch.zeros_like(identity)
    return model.generate(torch.cat(one_hot_parts(torch.stack([identity, condition, transform], 1), model.schema), 1))


def readable_conditions(schema: dict, dataset: str) -> list[int]:
    conditions = schema["condition"]
    return [conditions.index(c) for c in READABLE.get(dataset, conditions) if c in conditions]


@contextlib.contextmanager
def codes_mixed_plainly(model: AttributeModel):
    """Inside, a model with `blend_norm` draws blends from the plain mix of the codes, as the training loop draws
    them, for comparison. Only for a model whose networks run as Python modules."""
    saved, model.generator.blend_norm = model.generator.blend_norm, False
    try:
        yield
    finally:
        model.generator.blend_norm = saved


@torch.no_grad()
def face_figures(model: AttributeModel, data: AttributeSet, judges: dict[str, nn.Module], dataset: str,
                 seed: int, blend_realism: bool = True) -> dict:
    """Every figure of a face model on its held-out split, as numbers (shares in [0, 1]); without `blend_realism`,
    none of the realism figures of blends: the A-to-B strip (`strip_figures`) and the flow morphs of the
    photographs it is set against (a minute and a half of the Yale split's evaluation, most of its time).

    The judges read all 8 transforms of the held-out faces; the HOG reader reads them upright. Sharpness and the
    two-sample test compare upright faces: generated held-out faces with the real ones, the generator's faces of
    every pair and its 0.5 blends with the real upright training faces."""
    train, held = data.train, data.held_out
    progress(f"drawing {len(held)} held-out faces and reading them with {', '.join(judges)} and HOG")
    real, generated = held.images.float() / 255, model.generate(held.one_hot())
    upright_held = held.upright
    real_upright, generated_upright = upright_held.images.float() / 255, model.generate(upright_held.one_hot())
    readers = {**judges, HOG_READER: HogReader(train)}
    accuracy, readable = {}, {}
    kept = torch.isin(held.attributes[:, 1], torch.tensor(readable_conditions(model.schema, dataset)))
    kept_upright = torch.isin(upright_held.attributes[:, 1], torch.tensor(readable_conditions(model.schema, dataset)))
    for name, reader in readers.items():
        on_upright = name == HOG_READER
        faces = (generated_upright, real_upright, upright_held) if on_upright else (generated, real, held)
        accuracy[name] = top1(reader, *faces)
        mask = kept_upright if on_upright else kept
        if mask.any():
            readable[name] = top1(reader, faces[0][mask], faces[1][mask], faces[2].subset(mask))["condition"]
    progress("drawing and reading a 0.5 blend of every pair of people in every condition")
    blends, a, b = blend_faces(model)
    plain = None
    if model.generator.blend_norm:
        with codes_mixed_plainly(model):
            plain = blend_faces(model)[0]
    faces_a, faces_b, mixed_a, mixed_b = photograph_pairs(train)
    mixes = (faces_a + faces_b) / 2
    morphed, found = None, None
    if blend_realism:
        progress(f"morphing {len(mixes)} pairs of photographs along their optical flow (the blend target in the "
                 "data)")
        morphed, found = morphs(faces_a, faces_b, 0.5)
    real_train_upright = train.upright.images.float() / 255
    progress("telling generated faces from real ones (two-sample tests on HOG features)")
    every = every_pair(model)
    mse = {name: per_image_mse(images, real) for name, images in (
        ("GCN", generated), ("identity-mean baseline", mean_of_matching(train, held, [0, 2])),
        ("condition-mean baseline", mean_of_matching(train, held, [1, 2])))}
    return {
        "faces": len(held), "pairs": len({tuple(pair) for pair in held.attributes[:, :2].tolist()}),
        "upright_faces": len(upright_held), "size": model.generator.image_size,
        "mse": {name: {"mse": value.mean().item(), "psnr": psnr(value).mean().item()} for name, value in mse.items()},
        "accuracy": accuracy,
        "readable_conditions": readable,
        "readable_faces": int(kept_upright.sum()),
        "realism": {
            "real held-out": {"sharpness": sharpness(real_upright), "told_apart": None},
            "generated held-out": {"sharpness": sharpness(generated_upright), "told_apart": None},
            "generated, every pair": {"sharpness": sharpness(every),
                                      "told_apart": two_sample_accuracy(real_train_upright, every, seed)},
            "pixel mixes of two photographs": {"sharpness": sharpness(mixes),
                                               "told_apart": two_sample_accuracy(real_train_upright, mixes, seed)},
            **({"flow morphs of two photographs": {
                "sharpness": sharpness(morphed), "told_apart": two_sample_accuracy(real_train_upright, morphed, seed)}}
               if blend_realism else {})},
        **({"strip": strip_figures(model, real_train_upright, seed)} if blend_realism else {}),
        "blends": len(blends), "pixel_mixes": len(mixes),
        "blend_top2_share": top_two_shares(readers, blends, a, b),
        "plain_blends": None if plain is None else {
            "sharpness": sharpness(plain),
            "top2_share": top_two_shares(readers, plain, a, b)},
        "pixel_mix_top2_share": top_two_shares(readers, mixes, mixed_a, mixed_b),
        **({"flow_morphs": len(morphed), "pairs_without_flow": int((~found).sum()),
            "flow_morph_top2_share": top_two_shares(readers, morphed, mixed_a[found], mixed_b[found])}
           if blend_realism else {}),
    }


def strip_figures(model: AttributeModel, real: torch.Tensor, seed: int, steps: int = 9) -> dict:
    """The A-to-B strip of every pair of people in every condition, upright, at B's shares 0, 1/(steps - 1), ..., 1:
    at each share, how often the faces are told apart from `real` and their sharpness; between shares, the mean
    pixel change from the previous step (in [0, 1] units). A strip a visitor takes for one person turning into
    another has no step told apart more than its ends and changes evenly."""
    shares = [i / (steps - 1) for i in range(steps)]
    progress(f"drawing the A-to-B strip of every pair in every condition in {steps} steps and telling each step's "
             "faces from real ones")
    strips = torch.stack([blend_faces(model, share)[0] for share in shares], dim=1)  # pair x step x C x H x W
    change = (strips[:, 1:] - strips[:, :-1]).abs().mean(dim=(2, 3, 4))
    return {"shares": shares,
            "told_apart": [two_sample_accuracy(real, strips[:, i], seed) for i in range(steps)],
            "sharpness": [sharpness(strips[:, i]) for i in range(steps)],
            "step_change": change.mean(dim=0).tolist(),
            "largest_step_over_mean": (change.max(dim=1).values / change.mean(dim=1)).mean().item()}


def top1(reader, generated: torch.Tensor, real: torch.Tensor, faces: AttributeSet) -> dict[str, dict[str, float]]:
    """{attribute: {"generated" | "real": top-1 share}} for the attributes `reader` reads, wherever they sit in
    the model's schema."""
    columns = [list(faces.schema).index(name) for name in reader.schema]
    shares = top_k_accuracy(reader, generated, real, faces.attributes[:, columns])
    return {attribute: {source: top[1] for source, top in by_source.items()} for attribute, by_source in shares.items()}


def face_checks(figures: dict, first_judge: str, dataset: str) -> list[tuple[str, bool, str]]:
    """The targets: identity by two readers of different kinds, sharpness, blends, conditions."""
    checks = []
    for reader in (first_judge, HOG_READER):
        identity = figures["accuracy"][reader]["identity"]
        generated, real = identity["generated"], identity["real"]
        checks.append((f"identity read by `{reader}` >= 90% and at most 5 points below real faces",
                       generated >= 0.90 and generated >= real - 0.05,
                       f"{100 * generated:.1f}% vs {100 * real:.1f}% real"))
    realism = figures["realism"]
    ratio = realism["generated held-out"]["sharpness"] / realism["real held-out"]["sharpness"]
    checks.append((f"sharpness of held-out faces >= {SHARPNESS_TARGET}x real", ratio >= SHARPNESS_TARGET,
                   f"{ratio:.3f}x"))
    share = figures["blend_top2_share"][first_judge]
    checks.append((f"0.5 blends with both people on `{first_judge}`'s top two >= {100 * BLEND_TARGET:.0f}%",
                   share >= BLEND_TARGET, f"{100 * share:.1f}%"))
    if "flow_morph_top2_share" in figures:  # the blends a visitor accepts as people: near what morphs reach
        share = figures["blend_top2_share"][HOG_READER]
        checks.append((f"0.5 blends with both people on `{HOG_READER}`'s top two >= {100 * HOG_BLEND_TARGET:.0f}%",
                       share >= HOG_BLEND_TARGET, f"{100 * share:.1f}%"))
    if "strip" in figures:
        strip = figures["strip"]
        told_apart = dict(zip(strip["shares"], strip["told_apart"]))
        for share in (0.25, 0.5, 0.75):
            told = told_apart[share]
            checks.append((f"{share:g} blends told apart from real faces <= {100 * TOLD_APART_TARGET:.0f}%",
                           told <= TOLD_APART_TARGET, f"{100 * told:.1f}%"))
        ends, middle = max(strip["told_apart"][0], strip["told_apart"][-1]), max(strip["told_apart"][1:-1])
        checks.append((f"no step of the A-to-B strip told apart from real faces more than {100 * STRIP_NOISE:.0f} "
                       "points above its ends", middle <= ends + STRIP_NOISE,
                       f"{100 * middle:.1f}% vs {100 * ends:.1f}% at the ends"))
    for reader, condition in figures["readable_conditions"].items():
        if reader in (first_judge, HOG_READER):
            checks.append((f"readable conditions read by `{reader}` at least as well as on real faces",
                           condition["generated"] >= condition["real"],
                           f"{100 * condition['generated']:.1f}% vs {100 * condition['real']:.1f}% real"))
    if dataset == "kdef":
        condition = figures["accuracy"][first_judge]["condition"]["generated"]
        checks.append(("condition >= 80%", condition >= 0.80, f"{100 * condition:.1f}%"))
    return checks


def face_notes(figures: dict, judges: list[str], dataset: str) -> str:
    percent = lambda share: f"{100 * share:.1f}%"
    size, readers = figures["size"], [*judges, HOG_READER]
    pairs = figures["pairs"]
    notes = [f"{pairs} held-out (identity, condition) pairs x 8 transforms = {figures['faces']} faces, {size}x{size}."]
    roles = {0: "targets checked here", len(readers) - 1: "a reader of another kind, fitted here on the real upright "
             "training faces; it reads the upright faces only"}
    for order, reader in enumerate(readers):
        rows = [{"attribute": attribute, "generated top-1": percent(shares["generated"]),
                 "real top-1": percent(shares["real"])} for attribute, shares in figures["accuracy"][reader].items()]
        notes.append(f"Read by `{reader}` ({roles.get(order, 'a second reader')}):\n\n" + markdown_table(rows))
    if figures["readable_conditions"]:
        names = ", ".join(READABLE.get(dataset, ["every condition"]))
        notes.append(f"Conditions a reader can tell apart on real faces ({names}), held-out faces only:\n\n"
                     + markdown_table([{"reader": f"`{reader}`", "generated": percent(shares["generated"]),
                                        "real": percent(shares["real"])}
                                       for reader, shares in figures["readable_conditions"].items()]))
    reference = figures["realism"]["real held-out"]["sharpness"]
    notes.append("Realism of upright faces. Sharpness: the mean absolute Laplacian, and its ratio to the real held-out "
                 "faces'. Told apart: the cross-validated accuracy of a linear classifier on HOG features telling "
                 "these faces from the real upright training faces (50%: it cannot tell them apart).\n\n"
                 + markdown_table([{"faces": name, "sharpness": f"{entry['sharpness']:.4f} "
                                                                f"({entry['sharpness'] / reference:.2f}x)",
                                    "told apart from real": percent(entry["told_apart"])
                                    if entry["told_apart"] is not None else "-"}
                                   for name, entry in figures["realism"].items()]))
    if "strip" in figures:
        strip = figures["strip"]
        notes.append("The A-to-B strip, as the face tab draws it: every pair of people in every condition, upright, "
                     "at B's share of the identity code (told apart and sharpness as above; the change: the mean "
                     "absolute pixel change from the previous step, in [0, 1] units). Over the strips, the largest "
                     f"step is {strip['largest_step_over_mean']:.2f}x the mean step (1.00x: even steps).\n\n"
                     + markdown_table([{"B's share": f"{share:.3f}", "told apart from real": percent(told),
                                        "sharpness": f"{sharp / reference:.2f}x",
                                        "change": "-" if i == 0 else f"{strip['step_change'][i - 1]:.4f}"}
                                       for i, (share, told, sharp) in enumerate(zip(
                                           strip["shares"], strip["told_apart"], strip["sharpness"]))]))
    notes.append("Blends: the share of faces whose two source identities are a reader's top two, over every pair of "
                 f"people in every condition ({figures['blends']} blends; {figures['pixel_mixes']} pixel mixes, "
                 "two people's real training faces in one condition, each pair once):\n\n" + markdown_table(
                     [{"faces": "GCN, 0.5 identity A + 0.5 identity B (upright)"
                                + (", the mixed code's norm restored (`blend_norm`)" if figures.get("plain_blends")
                                   else ""),
                       **{f"`{n}`": percent(v) for n, v in figures["blend_top2_share"].items()}},
                      *([{"faces": "the same GCN and pairs, the codes mixed plainly (sharpness "
                                   f"{figures['plain_blends']['sharpness'] / reference:.2f}x)",
                          **{f"`{n}`": percent(v) for n, v in figures["plain_blends"]["top2_share"].items()}}]
                        if figures.get("plain_blends") else []),
                      {"faces": "reference: pixel mean of real A and real B faces in one condition",
                       **{f"`{n}`": percent(v) for n, v in figures["pixel_mix_top2_share"].items()}},
                      *([{"faces": "reference: flow morph of the same two faces (each warped half way along their "
                                   f"TV-L1 optical flow, then mixed; {figures['pairs_without_flow']} pairs without "
                                   "a flow)",
                          **{f"`{n}`": percent(v) for n, v in figures["flow_morph_top2_share"].items()}}]
                        if "flow_morph_top2_share" in figures else [])]))
    notes.append(checklist(face_checks(figures, judges[0], dataset)))
    return "\n\n".join(notes)


def evaluate_faces(args) -> dict:
    """Every figure of a face model on its held-out split, as `python -m kepkreator.evaluate faces` prints them.

    Returns:
        {"rows", "notes", "figures", ...}: the card's table, its text, and the figures as numbers.
    """
    folder = weights_path(args.weights)
    model = AttributeModel.from_pretrained(folder)
    if "identity" not in model.schema:
        raise WeightsError(f"{args.weights!r} is not a face model: it draws {', '.join(model.schema)}")
    judges = load_judges(args.judges, model, folder, args.weights)
    data = faces_as_trained(folder, args.data_dir)
    dataset = face_data(folder).dataset
    figures = face_figures(model, data, judges, dataset, args.seed)
    rows = [{"held-out faces": name, "MSE": f"{value['mse']:.4f}", "PSNR": f"{value['psnr']:.2f} dB"}
            for name, value in figures["mse"].items()]
    if args.figure:
        others = {}
        for name in args.compare:
            other_folder = weights_path(name)
            if face_data(other_folder) != face_data(folder):
                raise WeightsError(f"{name!r} was trained on another split than {args.weights!r}: a side-by-side "
                                   "figure compares models on the same held-out faces")
            others[name] = AttributeModel.from_pretrained(other_folder)
        for path in write_face_figures({**others, args.weights: model}, data, args.figure):
            print(f"wrote {path}")
    held = data.held_out
    readback = {name: shares["real"] for name, shares in
                top1(model.classifier, model.generate(held.one_hot()), held.images.float() / 255, held).items()}
    notes = face_notes(figures, args.judges, dataset) + "\n\n" + readback_note(readback)
    return {"rows": rows, "notes": notes, "figures": figures,
            "readback": readback,
            "checks": [{"target": name, "met": ok, "value": value}
                       for name, ok, value in face_checks(figures, args.judges[0], dataset)]}
