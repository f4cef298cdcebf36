"""Model cards: one README.md per weights folder, rendered from what the commands recorded there.

`training.json` is written by the training loop and `metrics.json` by
`python -m kepkreator.evaluate`; the card only shows what those files hold.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from kepkreator.validation import HelpWithDefaults

if TYPE_CHECKING:
    from torch import nn

DATA_NOTES = {
    "mnist": "MNIST test digits (LeCun, Cortes & Burges) with QMNIST writer ids (Yadav & Bottou 2019, BSD). "
             "MNIST terms: free for research and demos.",
    "qmnist": "QMNIST styles: the 124 QMNIST writers who wrote all ten MNIST test digits, one digit per (writer, "
              "class), in red, green and blue and the 8 dihedral transforms (MNIST terms; QMNIST labels BSD).",
    "yale": "The Yale Face Database (15 people x 11 conditions; Yale University, free for non-commercial research and "
            "education), cropped to the face and put through the 8 dihedral transforms.",
    "kdef": "KDEF (Lundqvist, Flykt & Ohman 1998), the user's own licensed copy; KDEF may not be redistributed.",
    "emnist-letters": "EMNIST letters (Cohen et al. 2017), read from the user's own copy.",
    "emnist-digits": "EMNIST digits (Cohen et al. 2017), read from the user's own copy.",
}

KIND_NOTES = {
    "cgan": (
        "A conditional GAN (Mirza & Osindero 2014): the generator and the discriminator both see the class.\n\n"
        "Why these parts: a plain DCGAN-style cGAN on 8k digits swings from epoch to epoch, so the discriminator "
        "is spectrally normalised (Miyato et al. 2018), which bounds how sharply it can change and keeps its "
        "gradients useful; the label enters it through a projection head (Miyato & Koyama 2018), which scores "
        "class agreement directly instead of leaving it to a concatenated input channel; the hinge loss does not "
        "saturate when the discriminator wins; random translations of everything the discriminator sees "
        "(DiffAugment, Zhao et al. 2020) stop it memorising a small training set. The class reaches every "
        "generator layer through class-conditional batch norm.\n\n"
        "A first run with only those parts collapsed within each class: the images of one class barely changed "
        "with the latent. Two parts fixed that: a minibatch "
        "standard-deviation channel in the discriminator (Karras et al. 2018), which lets it see a batch without "
        "variety, and a mode-seeking term (Mao et al. 2019; its weight is `mode_seeking` below) that asks images "
        "from different latents to differ. The generator saved is an exponential moving average of the trained "
        "one's weights (Yazici et al. 2019; `--save-generator raw` saves the trained one). GAN training never "
        "settles, and the average smooths out its last steps' swings: on these digits it lowered the Frechet "
        "distance to real digits most, and with a mode-seeking weight of 0.2 (not 0.1) it kept the hands' variety "
        "too; twice the steps (12,000) widened them further."
    ),
    "gcn": (
        "A Generative Cooperative Net (Xu, Qin & Wan 2017): a generator that turns one-hot attribute vectors into an "
        "image, trained with a reconstruction (MSE) loss against the real image of each attribute combination and "
        "a cooperating classifier (saved in `classifier/`) that must read the attributes back from the generated "
        "image. The classifier learns only from real images. Fractional vectors blend values: 0.5 writer A + 0.5 "
        "writer B, or 0.5 red + 0.5 blue."
    ),
    "attribute-judge": (
        "An attribute classifier trained on real training images only (never on generated ones, and never with "
        "the generator): the independent reader that scores how well a cooperative net's held-out combinations "
        "carry their attributes."
    ),
    "fisherfaces": (
        "A face judge fitted in closed form on real training faces only, for scoring the face-blending "
        "generator. The transform is read as the one whose undoing leaves the face closest to face space (the "
        "residual after projecting onto the leading eigenfaces; Turk & Pentland 1991). Identity and condition are "
        "read from the upright face by Fisherfaces (Belhumeur, Hespanha & Kriegman 1997): PCA, then linear "
        "discriminant analysis, then the nearest class mean. Its scores are negative squared distances."
    ),
    "judge": (
        "A small convolutional digit classifier used only to *score* generators: its softmax gives accuracy and "
        "the Inception Score family, its penultimate layer the feature space for the Frechet distance and for "
        "precision and recall. It is trained on some QMNIST writers and tested on writers it never saw."
    ),
}


USAGE = {
    "cgan": ('from kepkreator import Handwriter\n\n'
             'image = Handwriter.from_pretrained("{folder}")("2026", seed=7)  # a PIL image\n'
             'image.save("2026.png")'),
    "fisherfaces": ('from kepkreator.hub import load_model\n'
                    'from kepkreator.models.fisherfaces import FisherfaceJudge\n\n'
                    'judge = load_model(FisherfaceJudge, "{folder}")\n'
                    'scores = judge(faces)  # faces: N x C x 64 x 64 in [0, 1]\n'
                    'person = scores["identity"].argmax(1)'),
    "judge": ('from kepkreator.hub import load_model\nfrom kepkreator.models.judge import Judge\n\n'
              'judge = load_model(Judge, "{folder}")\n'
              'probabilities, features = judge.read(images)  # images: N x 1 x 28 x 28 in [-1, 1]'),
    "gcn": ('from kepkreator.attributes import AttributeModel\n\n'
            'model = AttributeModel.from_pretrained("{folder}")\n'
            'print(model.schema.keys())\n'
            '# one value name per attribute, or {{value: weight}} to blend\n'
            'image = model.generate(model.vector(**choices))[0]'),
}


CAPTIONS = {
    "cgan": "Ten samples per class, one class per row, each from its own latent drawn from N(0, I).",
    "gcn": "Training combinations spread over the whole data set, in data order.",
}


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(row.get(h, "")) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def training_summary(training: dict) -> str:
    card = training.get("card", {})
    return (f"{training['steps']} steps in {training['training_seconds'] / 60:.1f} minutes on "
            f"{training['processes']} process(es), {training['samples_per_second']} samples/s "
            f"({training.get('machine', 'CPU')}).\n\n"
            + markdown_table([{"setting": k, "value": v} for k, v in card.get("hyperparameters", {}).items()]))


def fit_summary(training: dict) -> str:
    """A model fitted in closed form (the Fisherface judge): its size, time and leave-one-out reliability."""
    readings = ", ".join(f"{name} {100 * share:.1f}%" for name, share in training.get("leave_one_out", {}).items())
    return (f"Fitted in {training['fit_seconds']} s ({training.get('machine', 'CPU')}), "
            f"{training['face_components']} eigenfaces ({100 * training['face_space_energy']:.0f}% of the training "
            "faces' variance).\n\n"
            f"Leave-one-out accuracy on the training faces (each upright face left out in turn, read in all 8 "
            f"transforms by a judge fitted on the others): {readings}."
            + condition_confusions(training.get("leave_one_out_by_condition", {})))


def condition_confusions(by_condition: dict) -> str:
    """Which conditions the judge tells apart: a condition often misread as another looks like it to the judge."""
    if not by_condition:
        return ""
    rows = [{"condition": name, "read right": f"{100 * entry['right']:.0f}%",
             "most often misread as": entry["mostly_misread_as"] or "-", "faces": entry["faces"]}
            for name, entry in sorted(by_condition.items(), key=lambda item: -item[1]["right"])]
    return "\n\nThe same leave-one-out readings, per condition:\n\n" + markdown_table(rows)


def render_body(folder: Path) -> tuple[str, str]:
    training = json.loads((folder / "training.json").read_text()) if (folder / "training.json").exists() else {}
    metrics = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").exists() else {}
    card = training.get("card", {})
    kind = card.get("kind", "")
    parts = [KIND_NOTES.get(kind, "")]
    if kind in USAGE:
        parts.append("## Use\n\n```python\n" + USAGE[kind].format(folder=folder.name) + "\n```")
    if training:
        parts.append(
            "## Training\n\n"
            f"```\n{card.get('command', '')}\n```\n\n"
            f"Data: {DATA_NOTES.get(card.get('dataset', ''), card.get('dataset', ''))} "
            f"{card.get('images', '?')} training images.\n\n"
            + (training_summary(training) if "steps" in training else fit_summary(training))
        )
    if metrics:
        parts.append("## Evaluation\n\n" + f"```\n{metrics.get('command', '')}\n```\n\n"
                     + metrics.get("notes", "") + "\n\n" + markdown_table(metrics.get("rows", [])))
    if (folder / "samples" / "final.png").exists():
        parts.append("## Samples\n\n![samples](samples/final.png)\n\n" + CAPTIONS.get(kind, ""))
    return card.get("title", "KepKreator model"), "\n\n".join(p for p in parts if p)


# Weights learned from data with terms of its own carry those terms (license: other, and a LICENSE.md beside them).
DATA_LICENCES = {
    "yale": ("yale-face-database-terms",
             "These weights were learned from the Yale Face Database (Belhumeur, Hespanha & Kriegman 1997), which "
             "Yale University provides free of charge for non-commercial research and education only. The weights "
             "are derived from those photographs and are offered on the same terms: use them for non-commercial "
             "research and education, and cite the database. The code that made them is MIT-licensed; that licence "
             "does not extend to these weights."),
    "kdef": ("kdef-terms",
             "These weights were learned from a licensed copy of the Karolinska Directed Emotional Faces (KDEF; "
             "Lundqvist, Flykt & Ohman 1998). KDEF may not be redistributed, and weights learned from it fall under "
             "the terms its owners granted you: do not publish them unless those terms allow it."),
}


def dataset_of(folder: Path) -> str:
    record = folder / "training.json"
    return json.loads(record.read_text()).get("card", {}).get("dataset", "") if record.exists() else ""


def write_card(model: nn.Module, folder: Path) -> Path:
    """(Re)write folder/README.md for `model` from the records in the folder; weights of a dataset with terms of
    its own get those terms in the card's licence and in a LICENSE.md beside them."""
    title, body = render_body(folder)
    path = folder / "README.md"
    card = model.generate_model_card(title=title, body=body)
    terms = DATA_LICENCES.get(dataset_of(folder))
    if terms:
        name, text = terms
        card.data.license, card.data.license_name, card.data.license_link = "other", name, "LICENSE.md"
        (folder / "LICENSE.md").write_text(f"# Terms of these weights\n\n{text}\n")
    card.save(path)
    return path


RESULTS_SECTIONS = [  # (heading, file under the project root)
    ("Handwriting cGAN", "weights/cgan-mnist/metrics.json"),
    ("Digit judge", "weights/judge-mnist/metrics.json"),
    ("QMNIST styles GCN", "weights/gcn-qmnist/metrics.json"),
    ("Face blending GCN", "weights/gcn-yale/metrics.json"),
    ("Benchmark", "bench/results.md"),
]
RESULTS_INTRO = ("# Results\n\nWritten by `python -m kepkreator.cards` from the files the commands below wrote "
                 "(`weights/*/metrics.json`, `bench/results.md`), on this project's machine (2 CPU cores, no GPU). "
                 "`python -m kepkreator.cards --check` measures every card again and compares.")


def results_markdown(root: Path) -> str:
    """Every recorded evaluation and the benchmark, as RESULTS.md shows them."""
    parts = [RESULTS_INTRO]
    for heading, name in RESULTS_SECTIONS:
        path = root / name
        if not path.exists():
            continue
        if path.suffix == ".json":
            metrics = json.loads(path.read_text())
            body = (f"```\n{metrics['command']}\n```\n\n" + markdown_table(metrics["rows"]) + "\n\n" + metrics["notes"])
            training = path.parent / "training.json"
            if training.exists():
                record = json.loads(training.read_text())
                card = f"{path.parent.relative_to(root)}/README.md"
                body += (f"\n\nTrained by `{record['card']['command']}`: {record['steps']} steps in "
                         f"{record['training_seconds'] / 60:.1f} minutes ({record['machine']}); "
                         f"model card: [`{card}`]({card}).")
        else:
            body = path.read_text().strip()
        parts.append(f"## {heading}\n\n{body}")
    return "\n\n".join(parts) + "\n"


# A card's figures measured again on another machine may differ by a reading or two: the same code and weights
# gave 41.7% for 41.8% (one of 1155 blends) and 13.3% for 6.7% (one of 15 held-out faces) on an AMD CPU without
# AMX, one borderline face read otherwise by the HOG reader after the CPU's kernels rounded its pixels otherwise.
SMALL_SET = 20  # the held-out sets a share is read over (15 pairs, 5 readable conditions) are at most this large
TIMED = ("Rendering the ", "Finding a hand in-process")  # note lines measured afresh each run, never equal
DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")


def small_sets(text: str) -> set[int]:
    """The sizes of the small sets a card says it reads over (its text names them: "15 held-out ... pairs")."""
    return {int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.%])", text) if 2 <= int(n) <= SMALL_SET}


def one_reading_apart(a: float, b: float, sizes: set[int]) -> bool:
    """Whether two percentages are k/n and (k +- 1)/n of a set of one of these sizes, as printed (one decimal)."""
    for n in sizes:
        ka, kb = round(a * n / 100), round(b * n / 100)
        if abs(ka - kb) == 1 and abs(100 * ka / n - a) < 0.051 and abs(100 * kb / n - b) < 0.051:
            return True
    return False


def within_tolerance(recorded: str, measured: str, sizes: set[int]) -> bool:
    """A figure measured again is the recorded one if it moved by at most one unit of its last printed digit, or,
    for a percentage of one of the card's small sets, by one reading."""
    unit = 10.0 ** -len(recorded.split(".")[1]) if "." in recorded else 1.0
    a, b = float(recorded), float(measured)
    return abs(a - b) <= 1.01 * unit or one_reading_apart(a, b, sizes)


def figure_differences(recorded: str, measured: str) -> list[str]:
    """The figures of `measured` that are not `recorded`'s within tolerance; the wording must be the same. A share
    may move by one reading only of a set size the recorded card names (a large set's share, a blend share over 1155
    pairs, may not move by a twentieth)."""
    sizes = small_sets(recorded)
    lines = lambda text: [line for line in text.splitlines() if not line.startswith(TIMED)]
    recorded_lines, measured_lines = lines(recorded), lines(measured)
    if [DECIMAL.sub("#", line) for line in recorded_lines] != [DECIMAL.sub("#", line) for line in measured_lines]:
        changed = next((a, b) for a, b in zip(recorded_lines + [""], measured_lines + [""])
                       if DECIMAL.sub("#", a) != DECIMAL.sub("#", b))
        return [f"the wording differs: {changed[0]!r} vs {changed[1]!r}"]
    return [f"{a} vs {b} in {line!r}" for line, other in zip(recorded_lines, measured_lines)
            for a, b in zip(DECIMAL.findall(line), DECIMAL.findall(other)) if not within_tolerance(a, b, sizes)]


def card_text(metrics: dict) -> str:
    return markdown_table(metrics["rows"]) + "\n\n" + metrics["notes"]


def check_card(folder: Path) -> list[str]:
    """Measure a weights folder again by the command its metrics.json names; the figures that moved beyond the
    tolerance (none: the card is what its command writes)."""
    import contextlib
    import io
    import shlex

    from kepkreator.evaluate import measure

    recorded = json.loads((folder / "metrics.json").read_text())
    argv = [arg for arg in shlex.split(recorded["command"])[3:] if arg != "--write-card"]
    with contextlib.redirect_stdout(io.StringIO()):
        measured = measure(argv)
    return figure_differences(card_text(recorded), card_text(measured))


def main(argv=None) -> None:
    """Write RESULTS.md, or with --check measure the cards again and exit 1 if any figure moved."""
    import argparse

    parser = argparse.ArgumentParser(formatter_class=HelpWithDefaults, prog="python -m kepkreator.cards",
                                     description="Write RESULTS.md from every model card's recorded figures, or "
                                                 "check the cards against a fresh evaluation.")
    parser.add_argument("--check", nargs="*", metavar="FOLDER", default=None,
                        help="measure these weights folders again (none given: every shipped card) "
                             "and list the figures that moved by more than a reading or the last printed digit")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    if args.check is None:
        (root / "RESULTS.md").write_text(results_markdown(root))
        print(f"wrote {root / 'RESULTS.md'}")
        return
    folders = [Path(f) for f in args.check] or [(root / name).parent for _, name in RESULTS_SECTIONS
                                                 if name.endswith("metrics.json")]
    stale = 0
    for folder in folders:
        print(f"measuring {folder} again ...", flush=True)
        differences = check_card(folder)
        stale += bool(differences)
        print("\n".join(f"  {d}" for d in differences) or "  the card is what its command measures")
    raise SystemExit(1 if stale else 0)


if __name__ == "__main__":
    main()
