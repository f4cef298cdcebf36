"""A small character classifier that scores generated images (never trained on generated ones)."""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from kepkreator.models.card_template import MODEL_CARD_TEMPLATE


class Judge(nn.Module, PyTorchModelHubMixin, library_name="kepkreator", license="mit",
            tags=["image-classification", "evaluation"], pipeline_tag="image-classification",
            model_card_template=MODEL_CARD_TEMPLATE):
    """Classifies 1 x 28 x 28 images in [-1, 1]; `features` is the space the distances are measured in."""

    def __init__(self, classes: str = "0123456789", width: int = 32, feature_dim: int = 128):
        super().__init__()
        self.classes = classes

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *block(1, width), *block(width, width), nn.MaxPool2d(2),
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, feature_dim), nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, len(classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(images)))

    @torch.no_grad()
    def read(self, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """(class probabilities, features) for many images, in eval mode."""
        was_training = self.training
        self.eval()
        probs, feats = [], []
        for chunk in images.split(batch_size):
            f = self.features(chunk)
            feats.append(f)
            probs.append(self.head(f).softmax(dim=1))
        self.train(was_training)
        return torch.cat(probs), torch.cat(feats)
