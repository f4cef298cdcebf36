"""A moving average of a generator's weights, kept beside it in training.

Averaging the iterates of a GAN's generator damps the oscillation of the adversarial game (Yazici et al. 2019,
"The Unusual Effectiveness of Averaging in GAN Training"; Karras et al. 2018 draw with it). The average is
updated after every generator step and saved in the checkpoint; `--save-generator` picks which one a run ships.
"""
from __future__ import annotations

import copy

import torch
from torch import nn



class MovingAverage:
    """An exponential moving average of a network's weights (`average`), moved towards it by `update`."""

    def __init__(self, network: nn.Module, decay: float):
        self.network, self.decay = network, decay
        self.average = copy.deepcopy(network).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        """Move the average's weights toward the network's; its normalisation statistics are the network's."""
        for averaged, current in zip(self.average.parameters(), self.network.parameters()):
            averaged.lerp_(current, 1 - self.decay)
        for averaged, current in zip(self.average.buffers(), self.network.buffers()):
            averaged.copy_(current)
