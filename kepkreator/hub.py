"""Where weights come from: `weights/<name>` or any folder first, then a Hub repo through huggingface_hub's
cache (which honours HF_HUB_OFFLINE=1), loaded through PyTorchModelHubMixin.

A broken folder fails at load time with a message naming the file and the fault.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
from pathlib import Path
from typing import TypeVar

import torch
from safetensors import SafetensorError, safe_open

# The shipped weights: inside the installed package (pip install .), or beside it in a checkout (pip install -e .).
INSTALLED, CHECKOUT = Path(__file__).resolve().parent / "weights", Path(__file__).resolve().parents[1] / "weights"
WEIGHTS_DIR = Path(os.environ.get("KEPKREATOR_WEIGHTS", INSTALLED if INSTALLED.is_dir() else CHECKOUT))
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


MAX_CONFIG_BYTES = 1_000_000
# Bounds on what a config may ask for, so that building the model it describes is never large: the biggest model
# they allow holds tens of millions of numbers, where the shipped ones hold well under one million.
MAX_SIZE = 512  # any width, side, latent or component count
MAX_VALUES = 1000  # values of one attribute, or characters of a character set
MAX_SCHEMA_VALUES = 2000  # values of all attributes together
MAX_NAME = 100  # characters of an attribute's value (a person's, a writer's, a condition's name)
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


def read_config(config: Path) -> dict:
    try:
        if config.stat().st_size > MAX_CONFIG_BYTES:
            raise WeightsError(f"{config} is {config.stat().st_size:,} bytes: too large for a model's settings")
        value = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise WeightsError(f"{config} is not valid JSON ({type(err).__name__}: {str(err)[:200]})") from err
    if not isinstance(value, dict):
        raise WeightsError(f"{config} must hold a JSON object of settings, not {type(value).__name__}")
    return value


def check_config(cls: type, config: dict, path: Path) -> None:
    """Every key one of `cls`'s settings, of the type of its default, within bounds: checked before anything is
    built, so a width of 100000 or a million classes is refused, not allocated."""
    params = {name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}
    unknown = sorted(set(config) - set(params))
    missing = sorted(name for name, p in params.items() if p.default is inspect.Parameter.empty and name not in config)
    if unknown or missing:
        raise WeightsError(f"{path} does not describe a {cls.__name__}: "
                           + "; ".join(part for part in (unknown and f"unknown settings {', '.join(unknown)}",
                                                         missing and f"missing {', '.join(missing)}") if part))
    for name, value in config.items():
        default = params[name].default
        problem = setting_problem(name, value, default)
        if problem:
            raise WeightsError(f"{path}: {name} {problem}")


def setting_problem(name: str, value, default) -> str | None:
    if name == "schema":
        if not (isinstance(value, list) and 0 < len(value) <= 16 and all(
                isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], list) and 0 < len(pair[1]) <= MAX_VALUES
                and all(isinstance(v, str) for v in pair[1]) for pair in value)):
            return f"must be up to 16 [name, [values]] pairs of at most {MAX_VALUES} strings each"
        long = [(pair[0], v) for pair in value for v in pair[1] if not 0 < len(v) <= MAX_NAME]
        if long:
            attribute, name = long[0]
            shown = repr(name[:40]) + ("..." if len(name) > 40 else "")
            return f"has a name of {len(name)} characters for its {attribute} ({shown}): names are 1 to {MAX_NAME}"
        duplicated = [pair[0] for pair in value if len(set(pair[1])) != len(pair[1])]
        if sum(len(pair[1]) for pair in value) > MAX_SCHEMA_VALUES:
            return f"has over {MAX_SCHEMA_VALUES} values in all"
        return f"repeats values of {', '.join(duplicated)}" if duplicated else None
    if name == "classes":
        if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUES:
            return f"must be a string of 1 to {MAX_VALUES} characters"
        return f"repeats characters ({value[:40]!r})" if len(set(value)) != len(value) else None
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
        return None if ok else f"must be true or false, got {value!r}"
    if isinstance(default, int) or (default is None and isinstance(value, int)):
        ok = isinstance(value, int) and 1 <= value <= MAX_SIZE
        return None if ok else f"must be a whole number from 1 to {MAX_SIZE}, got {str(value)[:40]}"
    if isinstance(value, list):
        ok = len(value) <= 16 and all(isinstance(v, str) and len(v) <= 100 for v in value)
        return None if ok else "must be a short list of names"
    if value is not None and not isinstance(value, type(default)):
        return f"must be {type(default).__name__}, got {type(value).__name__}"
    return None


def check_tensors(cls: type, config: dict, weights: Path) -> None:
    """The file's tensors against the ones the config implies (the model it describes, bounded by `check_config`,
    built once to see them; torch's meta device would allocate nothing but costs the server 150 MiB to import): the
    same names, shapes and dtypes, and finite numbers. A mismatch names the tensor."""
    try:
        with torch.no_grad():
            expected = dict(cls(**config).state_dict())
    except (ValueError, TypeError) as err:
        raise WeightsError(f"{weights.parent / 'config.json'} describes no {cls.__name__} that can be built: "
                           f"{str(err)[:300]}") from err
    try:
        with safe_open(str(weights), "pt") as f:
            found = {name: f.get_slice(name) for name in f.keys()}
            missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
            if missing or unexpected:
                raise WeightsError(f"{weights} does not fit {cls.__name__} with its config.json: "
                                   + "; ".join(part for part in (missing and f"missing {', '.join(missing[:5])}",
                                                                 unexpected and f"unexpected "
                                                                 f"{', '.join(unexpected[:5])}") if part))
            for name, tensor in expected.items():
                shape, dtype = list(found[name].get_shape()), found[name].get_dtype()
                if shape != list(tensor.shape):
                    raise WeightsError(f"{weights}: tensor {name} has shape {shape}, the config implies "
                                       f"{list(tensor.shape)}")
                if DTYPES.get(dtype) != tensor.dtype:
                    raise WeightsError(f"{weights}: tensor {name} is {dtype}, expected "
                                       f"{next(k for k, v in DTYPES.items() if v == tensor.dtype)}")
                if tensor.dtype.is_floating_point and not torch.isfinite(f.get_tensor(name)).all():
                    raise WeightsError(f"{weights}: tensor {name} holds NaN or infinite values; the weights are "
                                       "damaged (retrain, or restore them)")
    except (SafetensorError, OSError) as err:
        raise WeightsError(f"{weights} is unreadable or truncated ({err})") from err


def check_folder(folder: Path, cls: type | None = None) -> None:
    """Fail with a precise message before torch sees a broken file or builds an outsized model."""
    config, weights = folder / "config.json", folder / "model.safetensors"
    for required in (config, weights):
        if not required.is_file():
            raise WeightsError(f"{required} is missing: the folder needs config.json and model.safetensors")
    settings = read_config(config)
    if cls is not None:
        check_config(cls, settings, config)
        check_tensors(cls, settings, weights)
    else:
        try:
            with safe_open(str(weights), "pt") as f:
                for key in f.keys():
                    f.get_slice(key)
        except (SafetensorError, OSError) as err:
            raise WeightsError(f"{weights} is unreadable or truncated ({err})") from err


def load_model(cls: type[T], name_or_path: str | Path, repo_id: str | None = None) -> T:
    """`cls.from_pretrained` on a checked folder; a mismatch names the file and the model class."""
    folder = resolve(name_or_path, repo_id)
    check_folder(folder, cls)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # from_pretrained prints a line per local load
            model = cls.from_pretrained(folder, strict=True)
    except (RuntimeError, TypeError, ValueError, KeyError) as err:
        detail = " ".join(str(err).split())  # torch puts the tensor that does not fit on a later line
        raise WeightsError(f"{folder / 'model.safetensors'} does not fit {cls.__name__} with {folder / 'config.json'}: "
                           f"{detail[:400]}") from err
    return model.eval()
