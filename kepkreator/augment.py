"""The augmentation tool: synthesize faces of new people (blends of two identities) and export them.

    python -m kepkreator.augment --count 200 --out synthetic-faces.zip
    python -m kepkreator.augment --weights gcn-yale --count 50 --blend 0.3 --conditions happy sad --out faces.zip
    python -m kepkreator.augment --count 100000 --out faces/                      # a sharded set, resumable
    torchrun --nproc_per_node 2 -m kepkreator.augment --count 100000 --out faces/  # the same set, two processes
    python -m kepkreator.augment --count 100000 --out faces/ --push-to-hub OWNER/NAME

A zip (up to 5,000 faces) holds one PNG per face and labels.csv: the two identities and their weights, the condition
and the transform of each image. A folder gets a Hugging Face image folder of any size in shards, with the same
labels in each shard's metadata.jsonl (kepkreator/face_sets.py).
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
from kepkreator.validation import InputError, number_flag, positive_int, seed_flag
from kepkreator.hub import WeightsError
from kepkreator.imaging import to_pil

MAX_EXPORT = 5000  # faces in one zip, which is written whole; a folder set has no bound but the disk


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
    for start in range(0, count, 256):
        rows = range(start, min(start + 256, count))
        vectors = torch.cat([model.vector(identity=mixed(identities[a[i]], identities[b[i]], blend),
                                          condition=conditions[c[i]], transform=transforms[t[i]]) for i in rows])
        for i, image in zip(rows, model.generate(vectors)):
            out.append(Synthetic(image, identities[a[i]], identities[b[i]], blend, conditions[c[i]], transforms[t[i]]))
    return out


def to_png(image: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG", compress_level=1)
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
    parser.add_argument("--count", type=positive_int, default=100,
                        help=f"faces to synthesize (a .zip holds up to {MAX_EXPORT}; a folder any number)")
    parser.add_argument("--blend", type=number_flag(0, 1), default=0.5, help="weight of the second identity")
    parser.add_argument("--conditions", nargs="+", default=None, help="conditions to draw (default: all)")
    parser.add_argument("--transforms", nargs="+", default=None, help="transforms to draw (default: identity)")
    parser.add_argument("--seed", type=seed_flag, default=0)
    parser.add_argument("--out", type=Path, required=True, help="a .zip to write, or a folder for a sharded set")
    parser.add_argument("--shard-size", type=positive_int, default=1000, help="faces per shard of a folder set")
    parser.add_argument("--push-to-hub", metavar="OWNER/NAME", default=None, help="upload a folder set as a dataset")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the cached login)")
    args = parser.parse_args(argv)
    zipped = args.out.suffix.lower() == ".zip"
    if zipped and args.count > MAX_EXPORT:
        parser.error(f"a .zip holds up to {MAX_EXPORT} faces, got --count {args.count}: give a folder for more")
    if args.push_to_hub and (zipped or args.push_to_hub.count("/") != 1):
        parser.error("--push-to-hub takes OWNER/NAME and uploads a folder set, not a .zip")
    try:
        model = AttributeModel.from_pretrained(args.weights)
        if zipped:
            faces = synthesize(model, args.count, args.seed, args.blend, args.conditions, args.transforms)
            print(f"wrote {len(faces)} faces and labels.csv to {export_zip(faces, args.out)}")
        else:
            export_set(model, args)
    except (InputError, WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)


def export_set(model: AttributeModel, args) -> None:
    """The sharded set, this process's share of it; the main process waits for the others, then writes the card
    and pushes."""
    from accelerate import PartialState

    from kepkreator import face_sets
    from kepkreator.hub import resolve

    state = PartialState(cpu=True)
    spec = face_sets.FaceSet(args.count, args.shard_size, args.seed, args.blend,
                             tuple(args.conditions) if args.conditions else None,
                             tuple(args.transforms) if args.transforms else None)
    synthesize(model, 1, args.seed, args.blend, args.conditions, args.transforms)  # the choices, checked up front
    try:
        if state.is_main_process:
            face_sets.check_settings(args.out, spec, str(args.weights))
            missing = face_sets.missing_shards(spec, args.out)
        state.wait_for_everyone()
        face_sets.check_settings(args.out, spec, str(args.weights))
        _, seconds = face_sets.timed(face_sets.write_set, model, spec, args.out, state.process_index,
                                     state.num_processes, progress=state.is_main_process)
        state.wait_for_everyone()
        if not state.is_main_process:
            return
        new_faces = sum(len(spec.shard_range(k)) for k in missing)
        speed = new_faces / seconds if new_faces else None
        licence = resolve(args.weights) / "LICENSE.md"
        face_sets.write_card(args.out, spec, str(args.weights), licence if licence.exists() else None, speed)
    except OSError as err:
        raise InputError(f"cannot write {args.out}: {err.strerror or err}") from err
    rate = f" at {speed:.0f} faces/s over {state.num_processes} process(es)" if speed else ""
    print(f"{args.out}: {spec.count} faces in {spec.shards} shards; {len(missing)} shards ({new_faces} faces) "
          f"written now{rate}, {spec.shards - len(missing)} were already whole")
    if args.push_to_hub:
        from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

        try:
            print(f"pushed to {face_sets.push_set(args.out, args.push_to_hub, args.token)}")
        except (HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled, OSError, ValueError) as err:
            raise InputError(f"push to {args.push_to_hub} failed: {type(err).__name__}: {str(err)[:200]}. The set "
                             f"is kept in {args.out}; push it later with `hf upload --repo-type dataset`") from err


if __name__ == "__main__":
    main()
