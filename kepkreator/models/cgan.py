"""Conditional GAN for 28x28 characters (Mirza & Osindero 2014), built to train stably on a CPU.

Generator: latent + class embedding -> 7x7 -> 14x14 -> 28x28, class-conditional
batch norm at every scale so the label reaches every layer.
Discriminator: spectrally normalised convolutions (Miyato et al. 2018), a
minibatch standard-deviation channel (Karras et al. 2018) and a projection
head (Miyato & Koyama 2018), trained with the hinge loss.
"""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from kepkreator.models.card_template import MODEL_CARD_TEMPLATE

HUB_KWARGS = dict(
    library_name="kepkreator",
    license="mit",
    pipeline_tag="unconditional-image-generation",
    model_card_template=MODEL_CARD_TEMPLATE,
)


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift are looked up per class."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.gain(labels)[:, :, None, None] + self.bias(labels)[:, :, None, None]


class UpBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_classes: int):
        super().__init__()
        self.norm = ConditionalBatchNorm(in_channels, num_classes)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.norm(x, labels))
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


class Generator(nn.Module, PyTorchModelHubMixin, tags=["conditional-gan", "handwriting"], **HUB_KWARGS):
    """Draws one character image per (latent, class) pair, in [-1, 1]."""

    def __init__(self, classes: str = "0123456789", latent_dim: int = 64, width: int = 64):
        super().__init__()
        self.classes = classes
        self.latent_dim = latent_dim
        n = len(classes)
        self.embed = nn.Embedding(n, latent_dim)
        self.project = nn.Linear(2 * latent_dim, 2 * width * 7 * 7)
        self.width = width
        self.up1 = UpBlock(2 * width, width, n)
        self.up2 = UpBlock(width, width // 2, n)
        self.out_norm = ConditionalBatchNorm(width // 2, n)
        self.to_image = nn.Conv2d(width // 2, 1, 3, padding=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, self.embed(labels)], dim=1)).view(-1, 2 * self.width, 7, 7)
        h = self.up2(self.up1(h, labels), labels)
        return torch.tanh(self.to_image(torch.relu(self.out_norm(h, labels))))


def minibatch_stddev(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the mean feature std over groups of samples (Karras et al. 2018), so the discriminator can see
    a batch that lacks variety: the usual symptom of a conditional generator ignoring its latent. Sample i is
    grouped with samples i + n/g, i + 2n/g, ...; train.cgan scores real and generated digits in one batch, so each
    of its groups holds both and the channel cannot single out a generated batch. Scoring them apart was tried and
    narrowed the hands (docs/handwriting-cgan.md); the shipped weights were trained as the code stands."""
    n, c, height, width = h.shape
    g = min(group, n)
    while n % g:
        g -= 1
    std = h.view(g, n // g, c, height, width).std(dim=0, unbiased=False).add(1e-8).mean(dim=(1, 2, 3))
    return torch.cat([h, std.repeat(g).view(n, 1, 1, 1).expand(n, 1, height, width)], dim=1)


class Discriminator(nn.Module, PyTorchModelHubMixin, tags=["conditional-gan", "discriminator"], **HUB_KWARGS):
    """Real/fake score for (image, class); higher means more real."""

    def __init__(self, num_classes: int = 10, width: int = 64):
        super().__init__()
        sn = spectral_norm
        self.features = nn.Sequential(
            sn(nn.Conv2d(1, width // 2, 3, padding=1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width // 2, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # 14x14
            sn(nn.Conv2d(width, width, 3, padding=1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # 7x7
        )
        self.head = nn.Sequential(sn(nn.Conv2d(2 * width + 1, 2 * width, 3, padding=1)), nn.LeakyReLU(0.2))
        self.score = sn(nn.Linear(2 * width, 1))
        self.class_projection = sn(nn.Embedding(num_classes, 2 * width))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.head(minibatch_stddev(self.features(images))).sum(dim=(2, 3))
        return self.score(h).squeeze(1) + (self.class_projection(labels) * h).sum(dim=1)
