"""Where weights come from: `weights/<name>` or any folder first, then a Hub repo through huggingface_hub's
cache (which honours HF_HUB_OFFLINE=1), loaded through PyTorchModelHubMixin.

A broken folder fails at load time with a message naming the file and the fault.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import TypeVar

from safetensors import SafetensorError, safe_open

WEIGHTS_DIR = Path(os.environ.get("KEPKREATOR_WEIGHTS", Path(__file__).resolve().parents[1] / "weights"))
T = TypeVar("T")
# The app's models: flag -> (shipped folder, what it is).
APP_MODELS = {"cgan": ("cgan-mnist", "handwriting generator"), "gcn": ("gcn-qmnist", "QMNIST styles model"),
              "faces": ("gcn-yale", "face model")}


class WeightsError(RuntimeError):
    """Weights that are missing, truncated or made for another model."""


def weights_path(name_or_path: str | Path) -> Path:
    """A shipped model's name (`cgan-mnist`) or a folder path."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    candidate = WEIGHTS_DIR / str(name_or_path)
    if candidate.is_dir():
        return candidate
    shipped = sorted(p.name for p in WEIGHTS_DIR.iterdir()
                     if (p / "config.json").exists()) if WEIGHTS_DIR.is_dir() else []
    raise WeightsError(f"no weights folder {str(name_or_path)!r}: not a folder, and not one of the shipped models "
                       f"({', '.join(shipped) or f'none in {WEIGHTS_DIR}'})")


WEIGHT_FILES = ["config.json", "model.safetensors", "README.md", "metrics.json", "classifier/*"]


def resolve(name_or_path: str | Path, repo_id: str | None = None, revision: str | None = None) -> Path:
    """The local folder of `name_or_path`; when there is none and `repo_id` is given, that repo's snapshot in the
    Hugging Face cache (downloaded unless HF_HUB_OFFLINE=1). Only safetensors and JSON are fetched, never pickles."""
    try:
        return weights_path(name_or_path)
    except WeightsError:
        if not repo_id:
            raise
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=WEIGHT_FILES))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as err:
        reason = str(err).splitlines()[0][:300]
        raise WeightsError(f"{str(name_or_path)!r} is not a folder here, and the Hub repo {repo_id!r} is neither "
                           f"cached nor reachable ({type(err).__name__}: {reason})") from err


def check_folder(folder: Path) -> None:
    """Fail with a precise message before torch sees a broken file."""
    config, weights = folder / "config.json", folder / "model.safetensors"
    for required in (config, weights):
        if not required.is_file():
            raise WeightsError(f"{required} is missing: the folder needs config.json and model.safetensors")
    try:
        json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise WeightsError(f"{config} is not valid JSON ({err})") from err
    try:
        with safe_open(str(weights), "pt") as f:
            for key in f.keys():
                f.get_slice(key)
    except (SafetensorError, OSError) as err:
        raise WeightsError(f"{weights} is unreadable or truncated ({err})") from err


def load_model(cls: type[T], name_or_path: str | Path, repo_id: str | None = None) -> T:
    """`cls.from_pretrained` on a checked folder; a mismatch names the file and the model class."""
    folder = resolve(name_or_path, repo_id)
    check_folder(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # from_pretrained prints a line per local load
            model = cls.from_pretrained(folder, strict=True)
    except (RuntimeError, TypeError, ValueError, KeyError) as err:
        raise WeightsError(f"{folder / 'model.safetensors'} does not fit {cls.__name__} with {folder / 'config.json'}: "
                           f"{str(err).splitlines()[0][:300]}") from err
    return model.eval()
