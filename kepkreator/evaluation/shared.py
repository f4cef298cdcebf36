"""Pieces both cooperative-net evaluations use."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from kepkreator.hub import WeightsError
from kepkreator.models.gcn import AttributeClassifier


STARTED = time.monotonic()


def progress(message: str) -> None:
    """A sign of life on stderr while an evaluation runs (minutes); stdout keeps the card's table."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def judge_config(name: str, folder: Path, model_schema: dict, how_to_make: str) -> dict | None:
    """The config of a judge of the model's attributes (None if unreadable: the loader then says what is wrong).

    Anything else is refused by name, before loading, where the loader could only say that the weights do not fit."""
    if (folder / "classifier").is_dir():
        raise WeightsError(f"{name!r} is a generator, not a judge: its cooperating classifier learned beside it "
                           f"and would flatter it; make a judge with {how_to_make}")
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    attributes = [attribute for attribute, _ in config.get("schema") or []] if isinstance(config, dict) else []
    if attributes != list(model_schema):
        reads = f"reads {', '.join(attributes)}" if attributes else "has no attribute schema"
        raise WeightsError(f"{name!r} is not a judge of this model: it {reads}, the model draws "
                           f"{', '.join(model_schema)}; make a judge with {how_to_make}")
    return config


def psnr(mse: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(1 / mse.clamp(min=1e-10))


def per_image_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).square().flatten(1).mean(dim=1)


def mean_of_matching(train, held, columns: list[int]) -> torch.Tensor:
    """For each held-out image, the mean training image sharing its attribute values in `columns`: a baseline
    that needs no learning."""
    out = torch.empty(held.images.shape)
    train_keys, held_keys = train.attributes[:, columns], held.attributes[:, columns]
    for key in held_keys.unique(dim=0):
        match = (train_keys == key).all(dim=1)
        out[(held_keys == key).all(dim=1)] = (train.images[match].float() / 255).mean(dim=0)
    return out


def top_k_share(logits: torch.Tensor, truth: torch.Tensor, k: int = 1) -> float:
    return (logits.topk(k, dim=1).indices == truth[:, None]).any(dim=1).double().mean().item()


@torch.no_grad()
def top_k_accuracy(judge: AttributeClassifier, generated: torch.Tensor, real: torch.Tensor, truth: torch.Tensor,
                   ks: tuple[int, ...] = (1,)) -> dict[str, dict[str, dict[int, float]]]:
    """{attribute: {"generated" | "real": {k: share}}}: how often the truth is among the judge's top k, for
    generated images and for the real images of the same combinations (k up to the attribute's size)."""
    readings = {"generated": judge(generated), "real": judge(real)}
    return {name: {source: {k: top_k_share(logits[name], truth[:, i], k) for k in ks if k <= logits[name].shape[1]}
                   for source, logits in readings.items()} for i, name in enumerate(judge.schema)}


def attribute_accuracy(judge: AttributeClassifier, generated: torch.Tensor, real: torch.Tensor,
                       truth: torch.Tensor, targets: dict[str, float], top5: tuple[str, ...] = ()
                       ) -> tuple[list[dict], list[tuple[str, bool, str]]]:
    """Per attribute, the judge's top-1 accuracy on generated and on real images of the same combinations (and
    top-5 for the attributes in `top5`); and for each target, whether the generated images reach it."""
    shares = top_k_accuracy(judge, generated, real, truth, ks=(1, 5) if top5 else (1,))
    rows, checks = [], []
    for name, by_source in shares.items():
        row = {"attribute": name}
        for source, top in by_source.items():
            row[f"{source} top-1"] = f"{100 * top[1]:.2f}%"
            if name in top5:
                row[f"{source} top-1"] += f" (top-5 {100 * top[5]:.2f}%)"
        if name in targets:
            top1 = by_source["generated"][1]
            checks.append((f"{name} >= {100 * targets[name]:.0f}%", top1 >= targets[name], f"{100 * top1:.2f}%"))
        rows.append(row)
    return rows, checks


def checklist(checks: list[tuple[str, bool, str]]) -> str:
    return "\n".join(f"- {'met' if ok else 'MISSED'}: {name} ({detail})" for name, ok, detail in checks)


def readback_note(readback: dict[str, float]) -> str:
    """What the app's read-back panel may be trusted with: its classifier's accuracy on real held-out images."""
    shares = ", ".join(f"{name} {100 * share:.1f}%" for name, share in readback.items())
    return (f"The app's read-back: the cooperating classifier reads real held-out images right for {shares}; the app "
            "shows its reading of an attribute only where this is at least 50%, and says so where it is not.")
