"""Create or update a Hugging Face Space that runs this app with the shipped weights.

    python -m kepkreator.space OWNER/NAME --dry-run    # list exactly what would be uploaded
    python -m kepkreator.space OWNER/NAME              # upload (token: --token, HF_TOKEN or `hf auth login`)

The README's front matter (sdk: gradio, python_version, app_file: app.py) is what makes the
repository a Space. The Space's requirements.txt is this project's with torch's CPU build: the app runs on a CPU,
and the default build of torch brings gigabytes of GPU libraries a CPU Space never uses.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kepkreator.server_settings import APP_MODELS
from kepkreator.validation import HelpWithDefaults

ROOT = Path(__file__).resolve().parents[1]
WEIGHT_PATTERNS = ["config.json", "model.safetensors", "README.md", "LICENSE.md", "metrics.json",
                   "classifier/config.json", "classifier/model.safetensors", "samples/final.png"]
PATTERNS = ["app.py", "requirements.txt", "README.md", "RESULTS.md", "LICENSE", "docs/*.md", "docs/images/*.png",
            "kepkreator/**/*.py"] + [
    f"weights/{folder}/{pattern}" for folder, _ in APP_MODELS.values() for pattern in WEIGHT_PATTERNS]


CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
CPU_BUILDS = ("torch", "torchvision")


def space_requirements(root: Path = ROOT) -> str:
    """requirements.txt as the Space installs it: the same pins, torch and torchvision as their CPU builds."""
    lines = [CPU_INDEX]
    for line in (root / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        lines.append(f"{line}+cpu" if name in CPU_BUILDS and version else line)
    return "\n".join(lines) + "\n"


def space_files(root: Path = ROOT) -> list[Path]:
    """Every file the Space needs, relative to the project root, sorted."""
    files = {p.relative_to(root) for pattern in PATTERNS for p in root.glob(pattern) if p.is_file()}
    return sorted(f for f in files if "__pycache__" not in f.parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kepkreator.space", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpWithDefaults)
    parser.add_argument("repo_id", metavar="OWNER/NAME")
    parser.add_argument("--dry-run", action="store_true", help="list the files and their sizes; upload nothing")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the cached login)")
    args = parser.parse_args(argv)
    if args.repo_id.count("/") != 1 or not all(args.repo_id.split("/")):
        parser.error(f"repo_id takes OWNER/NAME, got {args.repo_id!r}")
    files = space_files()
    requirements = space_requirements().encode()
    sizes = {f: len(requirements) if str(f) == "requirements.txt" else (ROOT / f).stat().st_size for f in files}
    total = sum(sizes.values())
    if args.dry_run:
        for f in files:
            print(f"{sizes[f]:>10,}  {f}")
        print(f"{total:>10,}  bytes in {len(files)} files would be uploaded to spaces/{args.repo_id} "
              "(requirements.txt with torch's CPU build)")
        return

    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    api = HfApi(token=args.token)
    operations = [CommitOperationAdd(str(f), requirements if str(f) == "requirements.txt" else str(ROOT / f))
                  for f in files]
    try:
        api.create_repo(args.repo_id, repo_type="space", space_sdk="gradio", private=args.private, exist_ok=True)
        api.create_commit(args.repo_id, operations, commit_message="Update the KepKreator app", repo_type="space")
    except (HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled, OSError, ValueError) as err:
        reason = str(err).splitlines()[0].rstrip(".")
        print(f"error: could not update spaces/{args.repo_id}: {type(err).__name__}: {reason}. "
              "Nothing local was changed.", file=sys.stderr)
        raise SystemExit(2)
    print(f"uploaded {len(files)} files ({total:,} bytes) to https://huggingface.co/spaces/{args.repo_id}")


if __name__ == "__main__":
    main()
