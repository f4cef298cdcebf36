"""Where weights come from: a folder under `weights/` (or any path), loaded through PyTorchModelHubMixin.

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
    shipped = sorted(p.name for p in WEIGHTS_DIR.iterdir() if (p / "config.json").exists()) if WEIGHTS_DIR.is_dir() else []
    raise WeightsError(f"no weights folder {name_or_path!r}: not a folder, and not one of the shipped models "
                       f"({', '.join(shipped) or f'none in {WEIGHTS_DIR}'})")


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


def load_model(cls: type[T], name_or_path: str | Path) -> T:
    """`cls.from_pretrained` on a checked folder; a mismatch names the file and the model class."""
    folder = weights_path(name_or_path)
    check_folder(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # from_pretrained prints a line per local load
            model = cls.from_pretrained(folder, strict=True)
    except (RuntimeError, TypeError, ValueError, KeyError) as err:
        raise WeightsError(f"{folder / 'model.safetensors'} does not fit {cls.__name__} with {folder / 'config.json'}: "
                           f"{str(err).splitlines()[0][:300]}") from err
    return model.eval()
