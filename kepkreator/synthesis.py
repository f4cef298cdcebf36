"""Faces of new people for data augmentation: blends of two identities drawn by a face model, written as PNGs and
zips. The sharded sets of any size are in face_sets.py; the command line is augment.py.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from kepkreator.attributes import AttributeModel
from kepkreator.attributes import blend as mixed
from kepkreator.data.attribute_sets import two_values
from kepkreator.imaging import to_pil
from kepkreator.validation import InputError



@dataclass
class Synthetic:
    """One synthesized face and its labels: two identities, the second's weight, the condition and the transform."""
    image: torch.Tensor  # C x H x W in [0, 1]
    identity_a: str
    identity_b: str
    weight_b: float
    condition: str
    transform: str


def synthesize(model: AttributeModel, count: int, seed: int = 0, blend: float = 0.5,
               conditions: list[str] | None = None, transforms: list[str] | None = None,
               progress: bool = False) -> list[Synthetic]:
    """`count` faces, each a blend of two different random identities.

    Args:
        model: a face model (its schema has identity, condition and transform).
        count: faces to draw, at least 1.
        seed: the identities, conditions and transforms drawn; the same seed draws the same faces.
        blend: the second identity's weight, from 0 to 1.
        conditions, transforms: the values to draw from (default: every condition, the upright face).
        progress: show a progress bar (for a command; the app draws at most 500).

    Returns:
        `count` Synthetic faces, each with its image (C x H x W in [0, 1]) and labels.
    """
    if count < 1:
        raise InputError(f"count must be 1 or more, got {count}")
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
    for start in tqdm(range(0, count, 256), desc="faces", unit_scale=256, disable=not progress, dynamic_ncols=True):
        rows = range(start, min(start + 256, count))
        vectors = torch.cat([model.vector(identity=mixed(identities[a[i]], identities[b[i]], blend),
                                          condition=conditions[c[i]], transform=transforms[t[i]]) for i in rows])
        for i, image in zip(rows, model.generate(vectors)):
            out.append(Synthetic(image, identities[a[i]], identities[b[i]], blend, conditions[c[i]], transforms[t[i]]))
    return out


def to_png(image: torch.Tensor) -> bytes:
    """A C x H x W image in [0, 1] as PNG bytes (fast compression: exports write thousands)."""
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def export_zip(faces: list[Synthetic], path: Path, licence: Path | None = None) -> Path:
    """Write the faces, their labels.csv and the terms of the weights that drew them (`licence`, the weights'
    LICENSE.md, when they have one) into a zip, atomically: a partial file is never left under `path`'s name, and
    nothing is left when the write fails (the OSError is raised)."""
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
            if licence is not None:
                archive.write(licence, "LICENSE.md")
        os.replace(partial, path)
    except OSError:  # a full disk, a folder that went away: the caller says so in its own words
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return path
