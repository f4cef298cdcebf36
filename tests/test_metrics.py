import math

import torch

from kepkreator.metrics import (accuracy, class_aware_inception_scores, frechet_distance, inception_score,
                                precision_recall, score_set)


def test_inception_score_splits_into_between_and_within_class_parts():
    torch.manual_seed(0)
    probs = (torch.randn(600, 10) * 2).softmax(dim=1)
    labels = torch.randint(0, 10, (600,))
    bcis, wcis = class_aware_inception_scores(probs, labels)
    assert math.isclose(inception_score(probs), bcis * wcis, rel_tol=1e-9)


def test_ideal_conditional_generator_scores():
    labels = torch.arange(10).repeat(50)
    probs = torch.nn.functional.one_hot(labels, 10).double()
    bcis, wcis = class_aware_inception_scores(probs, labels)
    assert math.isclose(inception_score(probs), 10, rel_tol=1e-6)
    assert math.isclose(bcis, 10, rel_tol=1e-6) and math.isclose(wcis, 1, rel_tol=1e-6)
    assert accuracy(probs, labels) == 1.0


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    torch.manual_seed(0)
    a = torch.randn(20_000, 4)
    b = torch.randn(20_000, 4) * 2 + 1  # mean shift 1 per dim, std 2: d = 4 * 1 + 4 * (1 + 4 - 2 * 2) = 8
    assert abs(frechet_distance(a, a)) < 1e-9
    assert abs(frechet_distance(a, b) - 8.0) < 0.3


def test_mode_collapse_wins_accuracy_and_is_but_loses_recall():
    """One perfect sample per class: accuracy 100%, IS at its maximum, and the recall shows the collapse."""
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(100)
    centres = torch.randn(10, 16) * 5
    real = centres[labels] + torch.randn(1000, 16)
    collapsed = centres[labels] + 0.01 * torch.randn(1000, 16)
    real_probs = (torch.nn.functional.one_hot(labels, 10) * 4.0 + torch.randn(1000, 10)).softmax(dim=1)
    collapsed_probs = torch.nn.functional.one_hot(labels, 10).double()
    real_scores = score_set(real_probs, real, labels, real + 0.0)
    fake_scores = score_set(collapsed_probs, collapsed, labels, real)
    assert fake_scores["accuracy"] >= real_scores["accuracy"]
    assert fake_scores["IS"] > inception_score(real_probs)
    assert fake_scores["recall"] < 0.05
    held_out = centres[labels] + torch.randn(1000, 16)
    assert precision_recall(real, held_out)[1] > 0.6
