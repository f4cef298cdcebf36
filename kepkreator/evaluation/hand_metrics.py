"""Is the found hand the visitor's? One real digit of each unseen writer is given to `Handwriter.hand_from`, the
other nine digits are drawn in the found hand as the page draws them, and they are compared with that writer's
real digits against every other unseen writer's.

The look of a digit is its slant and stroke thickness (`punctuation.slant_and_thickness`, from image moments),
each standardised within its class over the real digits, so a 1 and an 8 compare. A writer's distance to a drawing
is the mean, over the classes drawn that the writer wrote, of the distance from the drawn digit's look to the
writer's mean look for that class (the judge's features are read the same way). Two peers run beside the found
hand: a hand drawn at random (a seed's, what the tab drew before: at chance the writer is nearer than the median
half of the time), and the writer's own other real digits (how alike a person's digits are: the ceiling of the
correlations).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from kepkreator.data.digits import CharacterSet
from kepkreator.evaluation.shared import progress
from kepkreator.handwriting import GANGlyphs, Handwriter, Style, on_paper
from kepkreator.models.judge import Judge
from kepkreator.punctuation import slant_and_thickness
from kepkreator.validation import InputError

FOUND, RANDOM, REAL = ("found from one of their digits", "a random hand (a seed's)",
                       "the writer's own other digits (real)")


def standardised_looks(ink: torch.Tensor, labels: torch.Tensor, real_ink: torch.Tensor,
                       real_labels: torch.Tensor) -> torch.Tensor:
    """N x 2 (slant, thickness) of N x 28 x 28 ink, standardised per class by the real digits' mean and spread."""
    looks = torch.stack(slant_and_thickness(ink), dim=1)
    real = torch.stack(slant_and_thickness(real_ink), dim=1)
    classes = int(real_labels.max()) + 1
    mean = torch.stack([real[real_labels == c].mean(dim=0) for c in range(classes)])
    spread = torch.stack([real[real_labels == c].std(dim=0) for c in range(classes)])
    return (looks - mean[labels]) / spread[labels]


def nearer_than_median(drawn: torch.Tensor, labels: torch.Tensor, writer: int, real: torch.Tensor,
                       real_labels: torch.Tensor, real_writers: torch.Tensor, sample: int) -> bool:
    """Whether `writer`'s real digits (the sample left out) are nearer the drawn ones (N x D, of `labels`) than the
    median other writer's are."""
    distances = {}
    others = torch.arange(len(real_labels)) != sample
    for candidate in torch.unique(real_writers).tolist():
        mine = (real_writers == candidate) & others
        gaps = [(drawn[k] - real[mine & (real_labels == c)].mean(dim=0)).norm()
                for k, c in enumerate(labels.tolist()) if (mine & (real_labels == c)).any()]
        if gaps:
            distances[candidate] = torch.stack(gaps).mean().item()
    return distances[writer] < np.median([d for w, d in distances.items() if w != writer])


def correlation(pairs: list[tuple[float, float]]) -> float:
    a = np.array(pairs)
    return float(np.corrcoef(a[:, 0], a[:, 1])[0, 1])


def evaluate_own_hand(handwriter: Handwriter, judge: Judge, unseen: CharacterSet, seed: int) -> dict:
    """Per way of choosing the hand: how often the writer is nearer than the median other writer (by look and by
    the judge's features), the correlations of slant and thickness between the given digit and the nine drawn,
    and the judge's accuracy on them; with the inversion's times."""
    if not isinstance(handwriter.source, GANGlyphs):
        raise ValueError("the own-hand measurement needs a GAN's glyphs")
    progress(f"finding the hands of {len(torch.unique(unseen.writers))} unseen writers, one digit each")
    real_ink = (unseen.as_float()[:, 0] + 1) / 2
    real_looks = standardised_looks(real_ink, unseen.labels, real_ink, unseen.labels)
    real_probs, real_features = judge.read(unseen.as_float())
    rng = np.random.default_rng(seed)
    trials, seconds, refused = {FOUND: [], RANDOM: [], REAL: []}, [], 0
    for writer in torch.unique(unseen.writers).tolist():
        # their digits in a random order; one refused as unlike any the model draws is replaced by the next
        for sample in rng.permutation(torch.nonzero(unseen.writers == writer).flatten().numpy()).tolist():
            given = int(unseen.labels[sample])
            started = time.perf_counter()
            try:
                hand = handwriter.hand_from(real_ink[sample].numpy(), handwriter.classes[given])
            except InputError:
                refused += 1
                continue
            finally:
                seconds.append(time.perf_counter() - started)
            break
        others = torch.tensor([c for c in range(len(handwriter.classes)) if c != given])
        for way, style in ((FOUND, Style(seed=writer, hand=hand)), (RANDOM, Style(seed=writer))):
            ink = on_paper(handwriter.source.draw(others, style))
            trials[way].append((writer, sample, others, ink[:, 0]))
        trials[REAL].append((writer, sample, None, None))
    rows = []
    for way, cases in trials.items():
        near_look, near_judge, slants, thicknesses, correct, total = [], [], [], [], 0, 0
        for writer, sample, labels, ink in cases:
            given = real_looks[sample]
            if way == REAL:  # the writer's other real digits: correlations and accuracy only
                mine = (unseen.writers == writer) & (torch.arange(len(unseen.labels)) != sample)
                looks, probs, labels = real_looks[mine], real_probs[mine], unseen.labels[mine]
            else:
                looks = standardised_looks(ink, labels, real_ink, unseen.labels)
                probs, features = judge.read(ink[:, None] * 2 - 1)
                near_look.append(nearer_than_median(looks, labels, writer, real_looks, unseen.labels,
                                                    unseen.writers, sample))
                near_judge.append(nearer_than_median(features, labels, writer, real_features, unseen.labels,
                                                     unseen.writers, sample))
            slants.append((given[0].item(), looks[:, 0].mean().item()))
            thicknesses.append((given[1].item(), looks[:, 1].mean().item()))
            correct += int((probs.argmax(dim=1) == labels).sum())
            total += len(labels)
        rows.append({"hand": way,
                     "writer nearer than the median other (slant, thickness)":
                         f"{100 * np.mean(near_look):.1f}%" if near_look else "-",
                     "writer nearer (judge's features)": f"{100 * np.mean(near_judge):.1f}%" if near_judge else "-",
                     "slant correlation": f"{correlation(slants):.2f}",
                     "thickness correlation": f"{correlation(thicknesses):.2f}",
                     "judge's accuracy": f"{100 * correct / total:.1f}%"})
    times = np.sort(np.array(seconds) * 1000)
    return {"rows": rows, "writers": len(trials[FOUND]), "digits drawn": sum(len(c[2]) for c in trials[FOUND]),
            "given digits refused": refused, "given digits": len(seconds),
            "inversion ms": {"p50": float(np.median(times)), "p95": float(times[int(0.95 * (len(times) - 1))])}}
