"""The augmentation tool: synthesize faces of new people (blends of two identities) and export them.

    python -m kepkreator.augment --count 200 --out synthetic-faces.zip
    python -m kepkreator.augment --weights gcn-yale --count 50 --blend 0.3 --conditions happy sad --out faces.zip
    python -m kepkreator.augment --count 100000 --out faces/                      # a sharded set, resumable
    torchrun --nproc_per_node 2 -m kepkreator.augment --count 100000 --out faces/  # the same set, two processes
    python -m kepkreator.augment --count 100000 --out faces/ --push-to-hub OWNER/NAME

A zip (up to 5,000 faces) holds one PNG per face and labels.csv: the two identities and their weights, the condition
and the transform of each image. A folder gets a Hugging Face image folder of any size in shards, with the same
labels in each shard's metadata.jsonl (kepkreator/face_sets.py). Both carry the terms of the weights that drew them.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kepkreator.validation import HelpWithDefaults, number_flag, seed_flag

MAX_EXPORT = 5000  # faces in one zip, which is written whole; a folder set has no bound but the disk
MAX_SET = 10_000_000  # faces in a folder set: some 15 GB of PNGs, 13 hours at this machine's 208 faces/s
MAX_SHARDS = 100_000  # folders in data/; each is listed and checked when a set resumes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.augment", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("--weights", default="gcn-yale", help="face model: shipped name or weights folder")
    parser.add_argument("--count", type=number_flag(1, MAX_SET, whole=True), default=100,
                        help=f"faces to synthesize (a .zip holds up to {MAX_EXPORT}; a folder any number)")
    parser.add_argument("--blend", type=number_flag(0, 1), default=0.5, help="weight of the second identity")
    parser.add_argument("--conditions", nargs="+", default=None, help="conditions to draw (default: all)")
    parser.add_argument("--transforms", nargs="+", default=None, help="transforms to draw (default: identity)")
    parser.add_argument("--seed", type=seed_flag, default=0, help="the same seed writes the same faces")
    parser.add_argument("--out", type=Path, required=True, help="a .zip to write, or a folder for a sharded set")
    parser.add_argument("--shard-size", type=number_flag(1, MAX_SET, whole=True), default=1000,
                        help=f"faces per shard of a folder set (at most {MAX_SHARDS:,} shards)")
    parser.add_argument("--push-to-hub", metavar="OWNER/NAME", default=None, help="upload a folder set as a dataset")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the cached login)")
    args = parser.parse_args(argv)
    zipped = args.out.suffix.lower() == ".zip"
    if args.out.suffix and not zipped:
        parser.error(f"--out names a .zip or a folder, got {args.out}: a folder's name may not end in a file suffix")
    if zipped and args.count > MAX_EXPORT:
        parser.error(f"a .zip holds up to {MAX_EXPORT} faces, got --count {args.count}: give a folder for more")
    if -(-args.count // args.shard_size) > MAX_SHARDS:
        parser.error(f"--count {args.count} in shards of --shard-size {args.shard_size} makes over {MAX_SHARDS:,} "
                     "shards: give a larger --shard-size")
    if args.push_to_hub and (zipped or args.push_to_hub.count("/") != 1):
        parser.error("--push-to-hub takes OWNER/NAME and uploads a folder set, not a .zip")
    # torch loads only now: --help and a wrong flag answer at once
    from kepkreator.attributes import AttributeModel
    from kepkreator.hub import WeightsError
    from kepkreator.synthesis import export_zip, synthesize
    from kepkreator.validation import InputError

    try:
        model = AttributeModel.from_pretrained(args.weights)
        if zipped:
            faces = synthesize(model, args.count, args.seed, args.blend, args.conditions, args.transforms,
                               progress=True)
            path = export_zip(faces, args.out, model.licence)
            print(f"wrote {len(faces)} faces and labels.csv to {path}")
        else:
            export_set(model, args)
    except (InputError, WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2)
    except OSError as err:
        print(f"error: cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(2)


def export_set(model, args) -> None:
    """The sharded set, this process's share of it; the main process waits for the others, then writes the card
    and pushes."""
    from accelerate import PartialState

    from kepkreator import face_sets
    from kepkreator.synthesis import synthesize
    from kepkreator.validation import InputError

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
        face_sets.write_card(args.out, spec, str(args.weights), model.licence, speed, model.blends_learned_from)
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
