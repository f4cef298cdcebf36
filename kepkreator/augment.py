"""The augmentation tool: synthesize faces of new people (blends of two identities) and export them.

    python -m kepkreator.augment --count 200 --out synthetic-faces.zip
    python -m kepkreator.augment --weights gcn-yale --count 50 --blend 0.3 --conditions happy sad --out faces.zip

The zip holds one PNG per face and labels.csv: the two identities and their
weights, the condition and the transform of each image.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from kepkreator.attributes import AttributeModel
from kepkreator.attributes import blend as mixed
from kepkreator.data.attributes import two_values
from kepkreator.validation import InputError
from kepkreator.hub import WeightsError
from kepkreator.imaging import to_pil

MAX_EXPORT = 5000


@dataclass
class Synthetic:
    image: torch.Tensor  # C x H x W in [0, 1]
    identity_a: str
    identity_b: str
    weight_b: float
    condition: str
    transform: str


def synthesize(model: AttributeModel, count: int, seed: int = 0, blend: float = 0.5,
               conditions: list[str] | None = None, transforms: list[str] | None = None) -> list[Synthetic]:
    """`count` faces, each a blend of two different random identities (weight `blend` on the second)."""
    if not 1 <= count <= MAX_EXPORT:
        raise InputError(f"count must be from 1 to {MAX_EXPORT}, got {count}")
    if not 0 <= blend <= 1:
        raise InputError(f"blend must be from 0 to 1, got {blend}")
    identities, condition_names = model.schema["identity"], model.schema["condition"]
    conditions = conditions or condition_names
    transforms = transforms or ["identity"]
    for name, chosen in (("condition", conditions), ("transform", transforms)):
        unknown = [c for c in chosen if c not in model.schema[name]]
        if unknown:
            raise InputError(f"unknown {name} {', '.join(unknown)}: choose from {', '.join(model.schema[name])}")
    if len(identities) < 2:
        raise InputError("blending needs a model with at least two identities")
    rng = torch.Generator().manual_seed(seed)
    a, b = two_values(count, len(identities), rng)
    c = torch.randint(0, len(conditions), (count,), generator=rng)
    t = torch.randint(0, len(transforms), (count,), generator=rng)
    out = []
    for start in range(0, count, 256):
        rows = range(start, min(start + 256, count))
        vectors = torch.cat([model.vector(identity=mixed(identities[a[i]], identities[b[i]], blend),
                                          condition=conditions[c[i]], transform=transforms[t[i]]) for i in rows])
        for i, image in zip(rows, model.generate(vectors)):
            out.append(Synthetic(image, identities[a[i]], identities[b[i]], blend, conditions[c[i]], transforms[t[i]]))
    return out


def to_png(image: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def export_zip(faces: list[Synthetic], path: Path) -> Path:
    """Write the zip atomically (a partial file is never left under `path`'s name)."""
    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise InputError(f"the export must be a .zip file, got {path.name}")
    labels = io.StringIO()
    table = csv.writer(labels)
    table.writerow(["file", "identity_a", "weight_a", "identity_b", "weight_b", "condition", "transform"])
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for i, face in enumerate(faces):
                name = f"face-{i:05d}.png"
                archive.writestr(name, to_png(face.image))
                table.writerow([name, face.identity_a, f"{1 - face.weight_b:g}", face.identity_b, f"{face.weight_b:g}",
                                face.condition, face.transform])
            archive.writestr("labels.csv", labels.getvalue())
        os.replace(partial, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {err.strerror or err}") from err
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.augment", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="gcn-yale", help="face model: shipped name or weights folder")
    parser.add_argument("--count", type=int, default=100, help=f"faces to synthesize (1 to {MAX_EXPORT})")
    parser.add_argument("--blend", type=float, default=0.5, help="weight of the second identity")
    parser.add_argument("--conditions", nargs="+", default=None, help="conditions to draw (default: all)")
    parser.add_argument("--transforms", nargs="+", default=None, help="transforms to draw (default: identity)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="the .zip to write")
    args = parser.parse_args(argv)
    try:
        faces = synthesize(AttributeModel.from_pretrained(args.weights), args.count, args.seed, args.blend,
                           args.conditions, args.transforms)
        path = export_zip(faces, args.out)
    except (InputError, WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)
    print(f"wrote {len(faces)} faces and labels.csv to {path}")


if __name__ == "__main__":
    main()
