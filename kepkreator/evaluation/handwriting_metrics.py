"""The judge's held-out-writer accuracy and the conditional GAN beside real digits.

The QMNIST writers held out of every training run are split in two halves, by
writer. One half is the reference; the other, "real, unseen writers", gives the
real-vs-real value each generated figure is read against, and the generated
set copies its labels one for one. Neither the judge nor the generator has seen
a digit of either half, so both real sets stand to the judge as new writing does.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from kepkreator.batching import for_serving
from kepkreator.data.digits import CharacterSet, load_qmnist_test, split_by_writer
from kepkreator.cards import markdown_table
from kepkreator.evaluation.hand_metrics import FOUND, evaluate_own_hand
from kepkreator.evaluation.shared import checklist, progress
from kepkreator.evaluation.readers import hog_features, two_sample_accuracy
from kepkreator.handwriting import Handwriter, Style, above_floor, on_paper, specks
from kepkreator.hub import load_model
from kepkreator.metrics import accuracy, frechet_distance, precision_recall, score_set
from kepkreator.models.cgan import Generator
from kepkreator.models.judge import Judge

LATENCY_TEXT = "202611230712"
APP_TRUNCATION = Style().truncation
APP_DEFAULT = f"generated, app's default neatness ({Style().neatness:g})"
APP_BFLOAT16 = f"{APP_DEFAULT}, bfloat16 (as served on CPUs with AMX)"
ON_PAPER = ", on clean paper (as the app shows it)"
TRAINING_WRITERS = "real, the generator's training writers"
HOG_COMPONENTS = 32  # the reference's leading principal components of HOG features, where FD and k-NN are read


def writer_split(data_dir: Path | None) -> tuple[CharacterSet, CharacterSet]:
    data = load_qmnist_test(data_dir)
    train_mask = split_by_writer(data.writers)
    return data.subset(train_mask), data.subset(~train_mask)


@torch.no_grad()
def generate(generator: Generator, labels: torch.Tensor, seed: int, truncation: float = 1.0,
             batch_size: int = 500, precision: str = "float32") -> torch.Tensor:
    rng = torch.Generator().manual_seed(seed)
    z = truncation * torch.randn(len(labels), generator.latent_dim, generator=rng)
    network = for_serving(generator, freeze=False, precision=precision)
    return torch.cat([network(zc, lc) for zc, lc in zip(z.split(batch_size), labels.split(batch_size))])


def like_labels(data: CharacterSet, labels: torch.Tensor, seed: int) -> CharacterSet:
    """A random sample of `data` whose item i has class labels[i]."""
    rng = torch.Generator().manual_seed(seed)
    index = torch.empty(len(labels), dtype=torch.long)
    for c in labels.unique():
        wanted, have = labels == c, torch.nonzero(data.labels == c).flatten()
        index[wanted] = have[torch.randperm(len(have), generator=rng)[:int(wanted.sum())]]
    return data.subset(index)


def latency_ms(handwriter: Handwriter, text: str, runs: int = 50) -> tuple[float, float]:
    for _ in range(5):
        handwriter(text)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        handwriter(text, seed=i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def evaluate_judge(args) -> dict:
    """The digit judge's accuracy on the writers it trained on and on held-out writers (`evaluate judge`)."""
    judge = load_model(Judge, args.weights)
    train, held_out = writer_split(args.data_dir)
    rows = []
    for name, data in (("training writers", train), ("held-out writers", held_out)):
        probs, _ = judge.read(data.as_float())
        rows.append({"digits of": name, "writers": len(data.writers.unique()), "images": len(data),
                     "accuracy": f"{100 * accuracy(probs, data.labels):.2f}%"})
    return {"rows": rows, "notes": "Writers split by `kepkreator.data.digits.split_by_writer` (seed 0, 20% held out)."}


def evaluate_cgan(args) -> dict:
    """The handwriting cGAN beside real digits of unseen writers, read by the judge and by HOG (`evaluate cgan`)."""
    progress(f"drawing digits with {args.weights} and reading them with {args.judge}")
    generator = load_model(Generator, args.weights)
    judge = load_model(Judge, args.judge)
    train, held_out = writer_split(args.data_dir)
    in_real = split_by_writer(held_out.writers, holdout=0.5, seed=args.seed)
    real, reference = held_out.subset(in_real), held_out.subset(~in_real)
    ref_probs, ref_feats = judge.read(reference.as_float())
    images = {"real, unseen writers": real.as_float(),
              # what the generator learned from: as far from the reference as a perfect generator would be
              TRAINING_WRITERS: like_labels(train, real.labels, args.seed).as_float(),
              "generated": generate(generator, real.labels, args.seed),
              # what visitors see: the app's latents are scaled by its default neatness
              APP_DEFAULT: generate(generator, real.labels, args.seed, APP_TRUNCATION)}
    for name in ("generated", APP_DEFAULT):  # and the page clears the generator's haze to paper
        images[name + ON_PAPER] = on_paper((images[name] + 1) / 2) * 2 - 1
    sets = {
        "real, held-out writers (reference)": (ref_probs, ref_feats, reference.labels, None),
        **{name: (*judge.read(drawn), real.labels, ref_feats) for name, drawn in images.items()},
        APP_BFLOAT16: (*judge.read(generate(generator, real.labels, args.seed, APP_TRUNCATION,
                                            precision="bfloat16")), real.labels, ref_feats),
    }
    progress("scoring: accuracy, IS, BCIS, WCIS, FD, precision and recall")
    scores = {name: score_set(p, f, labels, ref, k=args.k) for name, (p, f, labels, ref) in sets.items()}
    rows = []
    for name, s in scores.items():
        row = {"images": name, "accuracy": f"{100 * s['accuracy']:.2f}%", "IS": f"{s['IS']:.3f}",
               "BCIS": f"{s['BCIS']:.3f}", "WCIS": f"{s['WCIS']:.3f}"}
        for key in ("FD", "precision", "recall"):
            row[key] = f"{s[key]:.3f}" if key in s else "(reference)"
        rows.append(row)
    other, gen = scores["real, unseen writers"], scores["generated"]
    checks = [
        ("accuracy within 1 point of real", abs(gen["accuracy"] - other["accuracy"]) <= 0.01,
         f"{100 * gen['accuracy']:.2f}% vs {100 * other['accuracy']:.2f}%"),
        ("IS within 3% of real", abs(gen["IS"] / other["IS"] - 1) <= 0.03, f"{gen['IS']:.3f} vs {other['IS']:.3f}"),
        ("FD at most 1.2x real-vs-real", gen["FD"] <= 1.2 * other["FD"], f"{gen['FD']:.3f} vs 1.2 x {other['FD']:.3f}"),
        ("precision at least 0.95x real-vs-real", gen["precision"] >= 0.95 * other["precision"],
         f"{gen['precision']:.3f} vs 0.95 x {other['precision']:.3f}"),
        ("recall at least 0.95x real-vs-real", gen["recall"] >= 0.95 * other["recall"],
         f"{gen['recall']:.3f} vs 0.95 x {other['recall']:.3f}"),
    ]
    progress("reading with HOG, the reader of another kind (the longest step)")
    outsider = hog_coverage(reference.as_float(), images, args.k, args.seed)
    handwriter = Handwriter(Handwriter.from_pretrained(args.weights, reader=None).source, judge)
    own_hand = evaluate_own_hand(handwriter, judge, held_out, args.seed)
    progress("timing the app's rendering")
    p50, p95 = latency_ms(handwriter, LATENCY_TEXT)
    notes = (f"{len(real)} digits in the real and generated sets, {len(reference)} in the reference (writers split "
             f"with seed {args.seed}), k = {args.k} for precision/recall, features and probabilities from "
             f"the judge `{args.judge}`, generator latents N(0, I) (no truncation; at the app's default neatness "
             f"they are scaled by {APP_TRUNCATION:g}), seed {args.seed}. The targets are checked without truncation. "
             f"\"{TRAINING_WRITERS}\": as many digits of each class from the writers the generator learned from: "
             "where a generator that drew its training data exactly would sit."
             f"\n\n"
             + checklist(checks)
             + "\n\nRead by a reader of another kind than the judge (no trained network: histograms of oriented "
             f"gradients, projected on the reference's {HOG_COMPONENTS} leading principal components), against the "
             "same reference; told apart: the cross-validated accuracy of a linear classifier on HOG features "
             "telling the set from the reference (50%: it cannot).\n\n" + markdown_table(hog_rows(outsider))
             + "\n\nInk (in [0, 1] units, summed over a 28x28 digit) and the pixels that are exactly paper: a tanh "
             "generator leaves a faint haze the page clears, and a reader of edges sees it. Writers differ in how "
             "much ink they use.\n\n"
             + markdown_table(ink_table({"real, held-out writers (reference)": reference.as_float(), **images}))
             + "\n\n" + checklist(clean_paper_checks(scores, outsider, images, reference.as_float()))
             + "\n\n" + own_hand_notes(own_hand, args.judge)
             + f"\n\nRendering the {len(LATENCY_TEXT)}-digit string \"{LATENCY_TEXT}\" in-process: "
             f"p50 {p50:.1f} ms, p95 {p95:.1f} ms ({torch.get_num_threads()} torch threads).")
    return {"rows": rows, "notes": notes, "scores": scores, "hog": outsider, "own_hand": own_hand,
            "latency_ms": {"p50": p50, "p95": p95}}


def own_hand_notes(own_hand: dict, judge: str) -> str:
    """The card's account of `evaluate_own_hand`: the table, and the targets checked on the found hand."""
    found = next(row for row in own_hand["rows"] if row["hand"] == FOUND)
    figure = {key: float(value.rstrip("%")) for key, value in found.items() if key != "hand"}
    checks = [
        ("writer nearer than the median other writer for at least 75% of writers",
         figure["writer nearer than the median other (slant, thickness)"] >= 75,
         found["writer nearer than the median other (slant, thickness)"]),
        ("slant correlation at least 0.7", figure["slant correlation"] >= 0.7, found["slant correlation"]),
        ("thickness correlation at least 0.7", figure["thickness correlation"] >= 0.7,
         found["thickness correlation"]),
        ("judge's accuracy at least 98%", figure["judge's accuracy"] >= 98, found["judge's accuracy"]),
    ]
    times = own_hand["inversion ms"]
    return (f"Your own hand (`Handwriter.hand_from`, the tab's drawing pad): for each of the {own_hand['writers']} "
            "held-out writers, one of their real digits, picked at random, is given as the visitor's drawing; the "
            f"other nine digits are drawn in the hand found ({own_hand['digits drawn']} digits, at the app's default "
            "variation and neatness, on clean paper) and compared with that writer's real digits against every "
            "other held-out writer's, by slant and stroke thickness measured from image moments (standardised "
            f"within each digit class) and by the judge `{judge}`'s features (kepkreator/evaluation/hand_metrics.py)."
            " The correlations pair the given digit's slant or thickness with the drawn digits' mean. "
            f"{own_hand['given digits refused']} of the {own_hand['given digits']} digits given were refused as "
            "unlike any the model draws (the writer's next digit was given instead)."
            + (f" The writers held out of training are {own_hand['writers']}: fewer than the 100 a tighter figure "
               "would need." if own_hand["writers"] < 100 else "")
            + "\n\n" + markdown_table(own_hand["rows"]) + "\n\n" + checklist(checks)
            + f"\n\nFinding a hand in-process ({torch.get_num_threads()} torch threads): p50 {times['p50']:.0f} ms, "
            f"p95 {times['p95']:.0f} ms.")


def ink_table(images: dict[str, torch.Tensor]) -> list[dict]:
    """Per set of digits (in [-1, 1]): the mean ink of a digit, the share of pixels that are exactly paper, and the
    pixels per digit of ink above the floor but more than a pixel from any stroke's core (specks)."""
    return [{"images": name, "ink per digit": f"{ink_per_digit(drawn):.1f}",
             "pixels exactly paper": f"{100 * (drawn <= -1).double().mean():.1f}%",
             "specks per digit": f"{specks(above_floor((drawn + 1) / 2)).sum(dim=(1, 2, 3)).double().mean():.2f}"}
            for name, drawn in images.items()]


def hog_coverage(reference: torch.Tensor, sets: dict[str, torch.Tensor], k: int, seed: int
                 ) -> dict[str, dict[str, float]]:
    """FD, precision, recall and a two-sample test of each set against the reference, on HOG features: edges
    and their directions, which no network here was trained to produce or to read."""
    features = {name: torch.from_numpy(hog_features(images)).float() for name, images in
                {"reference": reference, **sets}.items()}
    mean = features["reference"].mean(dim=0)
    basis = torch.linalg.svd(features["reference"] - mean, full_matrices=False).Vh[:HOG_COMPONENTS].T
    ref = (features["reference"] - mean) @ basis
    figures = {}
    for name, images in sets.items():
        points = (features[name] - mean) @ basis
        precision, recall = precision_recall(ref, points, k=k)
        figures[name] = {"FD": frechet_distance(ref, points), "precision": precision, "recall": recall,
                         "told apart": two_sample_accuracy(reference, images, seed)}
    return figures


def hog_rows(figures: dict[str, dict[str, float]]) -> list[dict]:
    """`hog_coverage`'s figures as the card's table rows."""
    return [{"images, read by HOG": name, **{key: f"{value:.3f}" for key, value in set_figures.items()
                                             if key != "told apart"},
             "told apart": f"{100 * set_figures['told apart']:.1f}%"} for name, set_figures in figures.items()]


def ink_per_digit(images: torch.Tensor) -> float:
    return ((images + 1) / 2).sum(dim=(1, 2, 3)).mean().item()


def clean_paper_checks(scores: dict, hog: dict, images: dict[str, torch.Tensor], reference: torch.Tensor) -> list:
    """The targets of the digits as the app shows them, with and without its neatness: by the judge and by HOG,
    FD at most 1.5x and recall at least 0.9x real-vs-real, told apart by HOG at most 65% of the time, and ink
    within 5% of the reference's."""
    checks = []
    real_ink = ink_per_digit(reference)
    for name in ("generated" + ON_PAPER, APP_DEFAULT + ON_PAPER):
        shown = name[:-len(ON_PAPER)] + ", clean paper"
        for reader, drawn, real in (("judge", scores[name], scores["real, unseen writers"]),
                                    ("HOG", hog[name], hog["real, unseen writers"])):
            checks += [(f"{shown}, {reader}: FD at most 1.5x real-vs-real", drawn["FD"] <= 1.5 * real["FD"],
                        f"{drawn['FD']:.3f} vs 1.5 x {real['FD']:.3f}"),
                       (f"{shown}, {reader}: recall at least 0.9x real-vs-real",
                        drawn["recall"] >= 0.9 * real["recall"],
                        f"{drawn['recall']:.3f} vs 0.9 x {real['recall']:.3f}")]
        told, ink = hog[name]["told apart"], ink_per_digit(images[name])
        checks += [(f"{shown}: told apart by HOG at most 65% of the time", told <= 0.65, f"{100 * told:.1f}%"),
                   (f"{shown}: ink per digit within 5% of the reference's", abs(ink / real_ink - 1) <= 0.05,
                    f"{ink:.1f} vs {real_ink:.1f}")]
    return checks
