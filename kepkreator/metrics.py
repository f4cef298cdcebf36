"""Scores for generated images, all computed from a judge's softmax outputs and features.

- accuracy of the judge's reading against the intended labels;
- Inception Score (Salimans et al. 2016) and its class-aware split into
  between-class and within-class IS (Benny et al. 2021): IS = BCIS x WCIS;
- Frechet distance between feature Gaussians (Heusel et al. 2017);
- precision and recall from k-nearest-neighbour manifolds (Kynkaanniemi et al. 2019).

Accuracy and IS reward a generator that draws one perfect sample per class;
only the distance, precision and recall reveal missing diversity.
"""
from __future__ import annotations

import math

import torch

EPS = 1e-12


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    return (probs.argmax(dim=1) == labels).double().mean().item()


def _kl_rows(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    p, q = p.double(), q.double()
    return (p * ((p + EPS).log() - (q + EPS).log())).sum(dim=-1)


def inception_score(probs: torch.Tensor) -> float:
    """exp E_x KL(p(y|x) || p(y)) over all images."""
    probs = probs.double()
    return math.exp(_kl_rows(probs, probs.mean(dim=0, keepdim=True)).mean().item())


def class_aware_inception_scores(probs: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(BCIS, WCIS) for images generated for `labels`, classes weighted by their share of the images.

    BCIS = exp E_c KL(p(y|c) || p(y)): how distinct the classes are (ideal: the number of classes).
    WCIS = exp E_c E_{x|c} KL(p(y|x) || p(y|c)): how much the judge's reading varies within a class (ideal: 1).
    """
    marginal = probs.double().mean(dim=0)
    between, within = 0.0, 0.0
    for c in labels.unique():
        members = probs[labels == c].double()
        weight = len(members) / len(probs)
        class_marginal = members.mean(dim=0)
        between += weight * _kl_rows(class_marginal, marginal).item()
        within += weight * _kl_rows(members, class_marginal.unsqueeze(0)).mean().item()
    return math.exp(between), math.exp(within)


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) between feature Gaussians."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # Tr (S_a S_b)^1/2 = sum of sqrt eigenvalues of the symmetric S_a^1/2 S_b S_a^1/2.
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return ((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross).item()


def _kth_neighbour_radius(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    radii = []
    for part in x.split(chunk):
        # k + 1: each point's nearest neighbour is itself.
        radii.append(torch.cdist(part, x).kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _covered(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    return torch.cat([(torch.cdist(part, centres) <= radii[None, :]).any(dim=1) for part in points.split(chunk)])


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Precision: share of fake points inside the real manifold; recall: share of real inside the fake one."""
    real, fake = real.double(), fake.double()
    precision = _covered(fake, real, _kth_neighbour_radius(real, k)).double().mean().item()
    recall = _covered(real, fake, _kth_neighbour_radius(fake, k)).double().mean().item()
    return precision, recall


def score_set(probs: torch.Tensor, features: torch.Tensor, labels: torch.Tensor,
              reference_features: torch.Tensor | None, k: int = 3) -> dict[str, float]:
    """Every metric for one set of images (judged), against a reference set's features when given."""
    bcis, wcis = class_aware_inception_scores(probs, labels)
    scores = {"accuracy": accuracy(probs, labels), "IS": inception_score(probs), "BCIS": bcis, "WCIS": wcis}
    if reference_features is not None:
        precision, recall = precision_recall(reference_features, features, k)
        scores |= {"FD": frechet_distance(features, reference_features), "precision": precision, "recall": recall}
    return scores
