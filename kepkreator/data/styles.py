"""QMNIST styles for the Generative Cooperative Net.

As in the paper's QMNIST experiment: the writers who wrote all
ten digits, one digit per (writer, class), each put into red, green and blue
and through the 8 dihedral transforms. Some (writer, digit) items lose one
colour and others one transform from training, so generating combinations
never seen can be measured.
"""
from __future__ import annotations

from pathlib import Path

import torch

from kepkreator.data.attribute_sets import AttributeSet
from kepkreator.data.digits import load_qmnist_test
from kepkreator.data.transforms import COLOURS, TRANSFORMS, colourise, dihedral

SPLITS = ("train", "unseen colour", "unseen transform")


def complete_writer_digits(root: Path | str | None = None) -> tuple[torch.Tensor, list[int]]:
    """One grey image per (writer, digit) for the writers who wrote all ten: (W x 10 x 28 x 28 uint8, writer ids)."""
    data = load_qmnist_test(root)
    first: dict[tuple[int, int], int] = {}
    for index, key in enumerate(zip(data.writers.tolist(), data.labels.tolist())):
        first.setdefault(key, index)  # the first image, in file order
    digits_of: dict[int, int] = {}
    for writer, _ in first:
        digits_of[writer] = digits_of.get(writer, 0) + 1
    writers = sorted(w for w, count in digits_of.items() if count == 10)
    index = torch.tensor([[first[(w, d)] for d in range(10)] for w in writers])
    images = data.images[index]
    return images, writers


def qmnist_styles(root: Path | str | None = None, holdout: float = 0.1, seed: int = 0) -> AttributeSet:
    """Every (writer, digit, colour, transform) combination; `holdout` of the (writer, digit) items lose one
    colour and as many lose one transform from training."""
    grey, writers = complete_writer_digits(root)
    n_items = grey.shape[0] * 10
    grey = grey.view(n_items, 28, 28).float() / 255
    item_writer = torch.arange(len(writers)).repeat_interleave(10)
    item_digit = torch.arange(10).repeat(len(writers))

    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_items, generator=rng)
    k = round(holdout * n_items)
    lost_colour = torch.full((n_items,), -1)
    lost_colour[order[:k]] = torch.randint(0, len(COLOURS), (k,), generator=rng)
    lost_transform = torch.full((n_items,), -1)
    lost_transform[order[k:2 * k]] = torch.randint(0, len(TRANSFORMS), (k,), generator=rng)

    images, attributes, split = [], [], []
    for c in range(len(COLOURS)):
        coloured = colourise(grey, torch.nn.functional.one_hot(torch.tensor(c), 3).float())
        for t in range(len(TRANSFORMS)):
            images.append((dihedral(coloured, t) * 255).round().to(torch.uint8))
            attributes.append(torch.stack([item_digit, item_writer, torch.full_like(item_digit, c),
                                           torch.full_like(item_digit, t)], dim=1))
            split.append(torch.where(lost_colour == c, 1, torch.where(lost_transform == t, 2, 0)))
    schema = {"digit": [str(d) for d in range(10)], "writer": [str(w) for w in writers],
              "colour": list(COLOURS), "transform": list(TRANSFORMS)}
    return AttributeSet(torch.cat(images), torch.cat(attributes), schema, torch.cat(split), SPLITS)
