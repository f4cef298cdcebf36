"""Large augmentation sets on disk: synthesized faces as shards of a Hugging Face image folder.

    OUT/README.md                                the set's card: how it was made, its terms
    OUT/LICENSE.md                               the terms of the weights it was drawn by, where they have some
    OUT/data/shard-00000/metadata.jsonl          one line per face: file_name, identities, weights, condition, ...
    OUT/data/shard-00000/face-0000000.png        ...

`datasets.load_dataset("imagefolder", data_dir=OUT)` reads it as it is. Shard k holds faces k * shard_size onward,
drawn from a generator seeded by (seed, k) alone, so the set is the same however many processes write it and however
often it is resumed. A shard is written under a temporary name and renamed into place when whole: a killed run
leaves only whole shards and partial folders no reader takes for finished ones, and the next run removes the
partial folders and writes only the shards that are missing. Process i of n writes shards i, i + n, ... .
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from kepkreator.attributes import AttributeModel
from kepkreator.synthesis import synthesize, to_png
from kepkreator.processes import process_alive
from kepkreator.validation import InputError

SHARD = "shard-{:05d}"


@dataclass(frozen=True)
class FaceSet:
    """What a set holds: `count` faces in shards of `shard_size`, blends at `blend`, from `seed`."""
    count: int
    shard_size: int = 1000
    seed: int = 0
    blend: float = 0.5
    conditions: tuple[str, ...] | None = None
    transforms: tuple[str, ...] | None = None

    @property
    def shards(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_range(self, shard: int) -> range:
        return range(shard * self.shard_size, min((shard + 1) * self.shard_size, self.count))


def write_shard(model: AttributeModel, spec: FaceSet, shard: int, data: Path) -> int:
    """Write one shard whole (temporary folder, then a rename); returns its face count."""
    faces_range = spec.shard_range(shard)
    faces = synthesize(model, len(faces_range), seed=spec.seed * 1_000_003 + shard, blend=spec.blend,
                       conditions=list(spec.conditions) if spec.conditions else None,
                       transforms=list(spec.transforms) if spec.transforms else None)
    final = data / SHARD.format(shard)
    partial = data / f".{final.name}.partial-{os.getpid()}"
    partial.mkdir(parents=True)
    with open(partial / "metadata.jsonl", "w") as metadata:
        for index, face in zip(faces_range, faces):
            name = f"face-{index:07d}.png"
            (partial / name).write_bytes(to_png(face.image))
            metadata.write(json.dumps({"file_name": name, "identity_a": face.identity_a,
                                       "weight_a": round(1 - face.weight_b, 6), "identity_b": face.identity_b,
                                       "weight_b": face.weight_b, "condition": face.condition,
                                       "transform": face.transform}) + "\n")
    if final.exists():  # a shard found broken (rows or files missing): replaced whole
        shutil.rmtree(final)
    os.replace(partial, final)
    return len(faces)


def write_set(model: AttributeModel, spec: FaceSet, out: Path, process: int = 0, processes: int = 1,
              progress: bool = True) -> tuple[int, int]:
    """This process's missing shards of the set under `out`; (shards written, shards found already whole)."""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for leftover in data.glob(".shard-*.partial-*"):
        owner = leftover.name.rsplit("-", 1)[1]
        if not owner.isdigit():
            continue  # not a name this tool writes: left alone
        if int(owner) == os.getpid() or not process_alive(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)
    mine = range(process, spec.shards, processes)
    missing = missing_shards(spec, out)
    todo = [k for k in mine if k in missing]
    for shard in tqdm(todo, desc=f"shards (process {process + 1} of {processes})", disable=not progress,
                      dynamic_ncols=True):
        write_shard(model, spec, shard, data)
    return len(todo), len(mine) - len(todo)


def missing_shards(spec: FaceSet, out: Path) -> set[int]:
    """The shards of the set not yet whole under `out`."""
    return {k for k in range(spec.shards) if not shard_whole(spec, out, k)}


def shard_whole(spec: FaceSet, out: Path, shard: int) -> bool:
    """Whether a shard holds its metadata.jsonl with a row for each of its faces and each face's PNG."""
    folder = out / "data" / SHARD.format(shard)
    expected = [f"face-{index:07d}.png" for index in spec.shard_range(shard)]
    try:
        rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
        names = [row["file_name"] for row in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return names == expected and all((folder / name).is_file() for name in names)


def check_settings(out: Path, spec: FaceSet, weights: str) -> None:
    """A set is only ever resumed with the settings it was started with: its record says them."""
    record = out / "set.json"
    wanted = {"weights": weights, **spec.__dict__, "conditions": list(spec.conditions or []),
              "transforms": list(spec.transforms or [])}
    if record.exists():
        try:
            saved = json.loads(record.read_text())
        except (OSError, ValueError) as err:
            raise InputError(f"{record} is damaged ({type(err).__name__}): delete {out} or choose another --out") \
                from err
        if not isinstance(saved, dict):
            raise InputError(f"{record} is damaged (not a record of settings): delete {out} or choose another --out")
        changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        if changed:
            raise InputError(f"{out} holds a set made with other settings ({', '.join(changed)}); resume it with "
                             "the same ones, or choose another --out")
    else:
        out.mkdir(parents=True, exist_ok=True)
        partial = out / f".set.json.{os.getpid()}"
        partial.write_text(json.dumps(wanted, indent=2) + "\n")
        os.replace(partial, record)


def write_card(out: Path, spec: FaceSet, weights: str, licence: Path | None, faces_per_second: float | None,
               blends_learned_from: str | None = None) -> None:
    """README.md (a dataset card) and, for weights with terms of their own, their LICENSE.md beside it."""
    terms = "license: other\nlicense_name: same-as-the-weights\nlicense_link: LICENSE.md\n" if licence else \
        "license: mit\n"
    if licence:
        shutil.copyfile(licence, out / "LICENSE.md")
    speed = f" Written at {faces_per_second:.0f} faces/s." if faces_per_second else ""
    how = (f" A blend is the model drawing the two people's identity vectors mixed; it learned blends from "
           f"{blends_learned_from}." if blends_learned_from else "")
    (out / "README.md").write_text(
        f"---\n{terms}task_categories:\n- image-classification\ntags:\n- synthetic\n- kepkreator\n---\n\n"
        f"# Synthesized faces\n\n{spec.count} faces drawn by the face model `{weights}`: each a blend of two different "
        f"people at {spec.blend:g} on the second, in {spec.shards} shards of up to {spec.shard_size} (seed "
        f"{spec.seed}).{how}{speed} Each shard's `metadata.jsonl` gives every face's two identities, their weights, "
        "its condition and its transform.\n\n```python\nfrom datasets import load_dataset\n\n"
        "faces = load_dataset(\"imagefolder\", data_dir=\"PATH\")\n```\n")


def push_set(out: Path, repo_id: str, token: str | None) -> str:
    """Upload the set as a dataset repo; returns its address."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=out, ignore_patterns=["**/.*", ".*"],
                      commit_message="Upload synthesized faces")
    return f"https://huggingface.co/datasets/{repo_id}"


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start
