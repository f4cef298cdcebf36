"""Model cards: one README.md per weights folder, rendered from what the commands recorded there.

`training.json` is written by the training loop and `metrics.json` by
`python -m kepkreator.evaluate`; the card only shows what those files hold.
"""
from __future__ import annotations

import json
from pathlib import Path

from torch import nn

DATA_NOTES = {
    "mnist": "MNIST test digits (LeCun, Cortes & Burges) with QMNIST writer ids (Yadav & Bottou 2019, BSD). "
             "MNIST terms: free for research and demos.",
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
        "(DiffAugment, Zhao et al. 2020) stop it memorising a small training set; and the saved generator is an "
        "exponential moving average of the trained one (Yazici et al. 2019), which smooths the last oscillations. "
        "The class reaches every generator layer through class-conditional batch norm."
    ),
    "judge": (
        "A small convolutional digit classifier used only to *score* generators: its softmax gives accuracy and "
        "the Inception Score family, its penultimate layer the feature space for the Frechet distance and for "
        "precision and recall. It is trained on some QMNIST writers and tested on writers it never saw."
    ),
}


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(row.get(h, "")) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def render_body(folder: Path) -> tuple[str, str]:
    training = json.loads((folder / "training.json").read_text()) if (folder / "training.json").exists() else {}
    metrics = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").exists() else {}
    card = training.get("card", {})
    kind = card.get("kind", "")
    parts = [KIND_NOTES.get(kind, "")]
    parts.append("## Use\n\n```python\n" + card.get("usage", "") + "\n```" if card.get("usage") else "")
    if training:
        parts.append(
            "## Training\n\n"
            f"```\n{card.get('command', '')}\n```\n\n"
            f"Data: {DATA_NOTES.get(card.get('dataset', ''), card.get('dataset', ''))} "
            f"{card.get('images', '?')} training images.\n\n"
            f"{training['steps']} steps in {training['training_seconds'] / 60:.1f} minutes on "
            f"{training['processes']} process(es), {training['samples_per_second']} samples/s "
            f"({training.get('machine', 'CPU')}).\n\n"
            + _table([{"setting": k, "value": v} for k, v in card.get("hyperparameters", {}).items()])
        )
    if metrics:
        parts.append("## Evaluation\n\n" + f"```\n{metrics.get('command', '')}\n```\n\n"
                     + metrics.get("notes", "") + "\n\n" + _table(metrics.get("rows", [])))
    if (folder / "samples" / "final.png").exists():
        parts.append("## Samples\n\n![samples](samples/final.png)\n\n" + card.get("samples_caption", ""))
    return card.get("title", "KepKreator model"), "\n\n".join(p for p in parts if p)


def write_card(model: nn.Module, folder: Path) -> Path:
    """(Re)write folder/README.md for `model` from the records in the folder."""
    title, body = render_body(folder)
    path = folder / "README.md"
    model.generate_model_card(title=title, body=body).save(path)
    return path
