"""Training checkpoints as one safetensors file: module and optimizer states, never a pickle.

Written to a temporary file and renamed into place, so a run killed mid-write
leaves the previous checkpoint intact.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

CHECKPOINT_NAME = "checkpoint.safetensors"


class CheckpointError(RuntimeError):
    pass


def _flatten_optimizer(name: str, optimizer: torch.optim.Optimizer, tensors: dict) -> dict:
    state = optimizer.state_dict()
    for param_id, param_state in state["state"].items():
        for key, value in param_state.items():
            tensors[f"optim.{name}.{param_id}.{key}"] = torch.as_tensor(value).detach().clone().contiguous()
    return {"param_groups": state["param_groups"]}


def first_non_finite(tensors: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating-point tensor holding NaN or an infinity, if any."""
    return next((name for name, t in tensors.items() if t.dtype.is_floating_point and not torch.isfinite(t).all()),
                None)


def save_checkpoint(path: Path, step: int, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                    run_config: dict, elapsed_seconds: float = 0.0) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().clone().contiguous()
    optim_meta = {name: _flatten_optimizer(name, opt, tensors) for name, opt in optimizers.items()}
    if (bad := first_non_finite(tensors)) is not None:
        raise CheckpointError(f"not writing checkpoint {path}: tensor {bad} holds NaN or infinite values")
    metadata = {"step": str(step), "optimizers": json.dumps(optim_meta),
                "run_config": json.dumps(run_config, sort_keys=True), "elapsed_seconds": repr(float(elapsed_seconds))}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        save_file(tensors, str(partial), metadata=metadata)
        os.replace(partial, path)
    except (OSError, SafetensorError) as err:  # safetensors reports a full disk as its own error
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise CheckpointError(f"could not write checkpoint {path}: {write_failure(err)}") from err


def write_failure(err: Exception) -> str:
    """What went wrong writing a file, in words: 'No space left on device', 'Permission denied', ..."""
    text = getattr(err, "strerror", None) or str(err)
    return text.removeprefix("Error while serializing: I/O error: ")


def read_run_config(path: Path) -> tuple[int, dict, float]:
    """The step, the run settings and the training seconds so far of a checkpoint."""
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
        step, config, elapsed = int(meta["step"]), json.loads(meta["run_config"]), float(meta.get("elapsed_seconds", 0))
        if not isinstance(config, dict):
            raise ValueError("run_config is not a JSON object")
        return step, config, elapsed
    except (SafetensorError, OSError, KeyError, ValueError, RecursionError) as err:
        raise CheckpointError(f"{path} is not a KepKreator checkpoint ({type(err).__name__}: {str(err)[:200]}); "
                              "delete it or start without --resume") from err


def load_checkpoint(path: Path, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]) -> int:
    """Restores the modules and optimizers; any fault (a missing, misshapen or non-finite tensor, a damaged
    optimizer record) is a CheckpointError naming it, and nothing is half-loaded into a run that goes on."""
    step, _, _ = read_run_config(path)
    try:
        with safe_open(str(path), "pt") as f:
            optim_meta = json.loads(f.metadata()["optimizers"])
        tensors = load_file(str(path))
    except (SafetensorError, OSError, KeyError, ValueError, RecursionError) as err:
        raise CheckpointError(f"{path} is damaged ({type(err).__name__}: {str(err)[:200]}); delete it or start "
                              "without --resume") from err
    if (bad := first_non_finite(tensors)) is not None:
        raise CheckpointError(f"{path}: tensor {bad} holds NaN or infinite values; the checkpoint is damaged, delete "
                              "it or start without --resume")
    try:
        for name, module in modules.items():
            prefix = f"module.{name}."
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        for name, optimizer in optimizers.items():
            prefix = f"optim.{name}."
            state: dict[int, dict] = {}
            for key, value in tensors.items():
                if key.startswith(prefix):
                    param_id, field = key[len(prefix):].split(".", 1)
                    state.setdefault(int(param_id), {})[field] = value
            optimizer.load_state_dict({"state": state, "param_groups": optim_meta[name]["param_groups"]})
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as err:
        detail = " ".join(str(err).split())[:300]
        raise CheckpointError(f"{path} does not fit this run's models ({type(err).__name__}: {detail}); delete it "
                              "or start without --resume") from err
    return step
