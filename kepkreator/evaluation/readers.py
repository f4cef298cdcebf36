"""Readers of generated faces that do not reward an average face.

A class-mean judge (Fisherfaces) reads a smooth, average-looking face more easily than a real one, so it cannot
be the only judge of a generator. These readers look at edges and texture instead:

- `HogReader`: histograms of oriented gradients (Dalal & Triggs 2005) and a linear classifier per attribute,
  fitted on the real upright training faces only. A blurred face loses the gradients it reads.
- `sharpness`: high-frequency energy, the mean absolute Laplacian. Speckle and checkerboards raise it too,
  so it is reported beside the two-sample test, never alone.
- `two_sample_accuracy`: how well a linear classifier on the same features tells real faces from generated
  ones (cross-validated); 50% means it cannot tell them apart.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skimage.feature import hog
from threadpoolctl import threadpool_limits

from kepkreator.data.attribute_sets import AttributeSet

READ = ("identity", "condition")
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def hog_features(images: torch.Tensor) -> np.ndarray:
    """N x C x H x W faces in [0, 1] -> N x features: 9 orientations in cells of an eighth of the side,
    blocks of 2 x 2 cells (L2-Hys), read from the grey image."""
    grey = images.float().mean(dim=1).numpy()
    cell = max(4, images.shape[-1] // 8)
    return np.stack([hog(face, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
                         block_norm="L2-Hys") for face in grey])


def linear_classifier():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))


def one_thread():
    """The solver's path, and so a borderline reading, changes with how many threads the linear algebra splits its
    sums over (a held-out face of the shipped split flips between one thread and two): the readers fit and read on
    one thread, so their figures are the same on every machine."""
    return threadpool_limits(limits=1)


class HogReader:
    """Reads identity and condition of upright faces; fitted on real upright training faces only. Answers like
    an AttributeClassifier ({attribute: N x values scores}) for those two attributes."""

    def __init__(self, train: AttributeSet):
        upright = train.upright
        features = hog_features(upright.images.float() / 255)
        self.schema = {name: train.schema[name] for name in READ}
        self.models = {}
        for name in READ:
            labels = upright.attributes[:, list(train.schema).index(name)].numpy()
            with one_thread():
                self.models[name] = linear_classifier().fit(features, labels)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = hog_features(images)
        scores = {}
        for name, model in self.models.items():
            out = torch.full((len(images), len(self.schema[name])), -torch.inf, dtype=torch.float64)
            with one_thread():
                log_probabilities = torch.as_tensor(model.predict_log_proba(features), dtype=torch.float64)
            out[:, torch.as_tensor(model.classes_)] = log_probabilities
            scores[name] = out
        return scores


def sharpness(images: torch.Tensor) -> float:
    """Mean absolute Laplacian of the grey images (N x C x H x W in [0, 1]), inside a one-pixel border."""
    grey = images.float().mean(dim=1, keepdim=True)
    return F.conv2d(grey, LAPLACIAN.view(1, 1, 3, 3)).abs().mean().item()


def two_sample_accuracy(real: torch.Tensor, generated: torch.Tensor, seed: int = 0) -> float:
    """Cross-validated accuracy (5 folds, balanced) of a linear classifier on HOG features telling `real` from
    `generated`: 0.5 when it cannot tell them apart, 1.0 when it always can."""
    count = min(len(real), len(generated))
    rng = torch.Generator().manual_seed(seed)
    real = real[torch.randperm(len(real), generator=rng)[:count]]
    generated = generated[torch.randperm(len(generated), generator=rng)[:count]]
    features = hog_features(torch.cat([real, generated]))
    labels = np.repeat([0, 1], count)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    with one_thread():
        return float(cross_val_score(linear_classifier(), features, labels, cv=folds).mean())
