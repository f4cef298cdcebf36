"""Side-by-side figures of face models: what a reader of the README judges with their own eyes.

- held-out faces: the real photograph of each held-out (identity, condition) pair above each model's drawing of it;
- blends: for a few pairs of people, each model's faces from A to B, between the real photographs of A and B;
- blend targets: for 8 pairs of people, the real photographs of A and B, their pixel mix and their flow morph
  (kepkreator/morphs.py) beside each model's 0.5 blend.

Every model's pixels are shown as drawn, enlarged without smoothing to the largest model's size.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.attributes import AttributeModel, blend
from kepkreator.data.attribute_sets import AttributeSet, Partners
from kepkreator.imaging import blend_captions, labelled_grid
from kepkreator.morphs import morph

BLEND_PAIRS = 4
BLEND_STEPS = 6
TARGET_PAIRS = 8


def same_size(images: torch.Tensor, side: int) -> torch.Tensor:
    return images if images.shape[-1] == side else F.interpolate(images, size=(side, side), mode="nearest")


@torch.no_grad()
def held_out_figure(models: dict[str, AttributeModel], data: AttributeSet, side: int):
    held = data.held_out
    upright = held.upright
    captions = [f"{data.schema['identity'][i][-2:]} {data.schema['condition'][c][:6]}"
                for i, c, _ in upright.attributes.tolist()]
    rows = [same_size(upright.images.float() / 255, side)]
    rows += [same_size(model.generate(upright.one_hot()), side) for model in models.values()]
    return labelled_grid(torch.cat(rows), captions, ["real", *(Path(name).name for name in models)], scale=1)


@torch.no_grad()
def blend_figure(models: dict[str, AttributeModel], data: AttributeSet, side: int, seed: int = 0):
    """Rows: for each of BLEND_PAIRS pairs (seeded), each model from A to B, with the real upright photographs of A
    and B in the shared condition at the ends."""
    train = data.train.upright
    rng = torch.Generator().manual_seed(seed)
    schema = next(iter(models.values())).schema
    rows, names = [], []
    for _ in range(BLEND_PAIRS):
        condition = torch.randint(len(schema["condition"]), (), generator=rng).item()
        people = train.attributes[train.attributes[:, 1] == condition, 0].unique()
        a, b = people[torch.randperm(len(people), generator=rng)[:2]].tolist()
        real = lambda who: train.images[(train.attributes[:, 0] == who) & (train.attributes[:, 1] == condition)][:1]
        ends = same_size(torch.cat([real(a), real(b)]).float() / 255, side)
        for name, model in models.items():
            vectors = torch.cat([model.vector(identity=blend(schema["identity"][a], schema["identity"][b], t),
                                              condition=schema["condition"][condition], transform="identity")
                                 for t in torch.linspace(0, 1, BLEND_STEPS).tolist()])
            rows.append(torch.cat([ends[:1], same_size(model.generate(vectors), side), ends[1:]]))
            names.append(f"{schema['identity'][a][-2:]}-{schema['identity'][b][-2:]} {Path(name).name}")
    return labelled_grid(torch.cat(rows), ["real A", *blend_captions(BLEND_STEPS), "real B"], names, scale=1)


@torch.no_grad()
def blend_target_figure(models: dict[str, AttributeModel], data: AttributeSet, side: int, blended: str,
                        seed: int = 0):
    """Rows: TARGET_PAIRS pairs of real upright training images (seeded) that differ only in the `blended`
    attribute (two people in one condition; two writers' same digit in one colour); columns: real A, their pixel
    mix, their flow morph, each model's 0.5 blend of the two, real B."""
    train = data.train.upright
    schema = next(iter(models.values())).schema
    partners = Partners(train, list(schema).index(blended))
    rng = torch.Generator().manual_seed(seed)
    rows, names = [], []
    for _ in range(100 * TARGET_PAIRS):
        if len(names) == TARGET_PAIRS:
            break
        first = torch.randint(len(train), (), generator=rng).item()
        partner, values, found = partners.draw(train.attributes[first:first + 1], generator=rng)
        a, b = train.images[first].float() / 255, partner[0]
        morphed = morph(a, b, 0.5) if found.item() else None
        if morphed is None:
            continue
        choices = {name: schema[name][value] for name, value in zip(schema, train.attributes[first].tolist())}
        ends = (choices[blended], schema[blended][values.item()])
        choices[blended] = blend(*ends, 0.5)
        drawn = [model.generate(model.vector(**choices)) for model in models.values()]
        row = [a[None], ((a + b) / 2)[None], morphed[None], *drawn, b[None]]
        rows.append(torch.cat([same_size(image, side) for image in row]))
        shared = len(os.path.commonprefix(ends).rstrip("0123456789"))  # "subject03", "subject09": "03+09"
        names.append(f"{ends[0][shared:]}+{ends[1][shared:]}")
    columns = ["real A", "pixel mix", "flow morph", *(f"{Path(name).name}" for name in models), "real B"]
    return labelled_grid(torch.cat(rows), columns, names, scale=max(2, 128 // side))


def write_face_figures(models: dict[str, AttributeModel], data: AttributeSet, path: Path) -> list[Path]:
    """`path` (held-out faces), `path` with -blends (blend strips) and with -blend-targets, all PNG."""
    side = max(model.generator.image_size for model in models.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    blends = path.with_name(path.stem + "-blends" + path.suffix)
    targets = path.with_name(path.stem + "-blend-targets" + path.suffix)
    held_out_figure(models, data, side).save(path)
    blend_figure(models, data, side).save(blends)
    blend_target_figure(models, data, side, "identity").save(targets)
    return [path, blends, targets]
