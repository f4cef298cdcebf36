"""Does synthesizing new people help? The seed paper's augmentation claim, measured on the Yale faces (or KDEF).

    python -m train.gcn --dataset yale --exclude-identities 3 --output-dir runs/gcn-yale-study
    python -m studies.augmentation_study --gcn runs/gcn-yale-study

A condition classifier is trained on the real faces of the generator's
identities, either alone or with faces of new people synthesized by blending
two identities at 0.5, and tested on the identities held out of both the
generator and the classifier. Both arms run for several seeds; the table gives
mean and spread, whichever way they come out. The faces are read as the
generator's training recorded them (a KDEF generator needs --data-dir).
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.attributes import AttributeModel
from kepkreator.synthesis import synthesize
from kepkreator.cards import markdown_table
from kepkreator.data.digits import DataError
from kepkreator.evaluation.face_metrics import face_data
from kepkreator.hub import WeightsError, resolve
from kepkreator.models.gcn import AttributeClassifier
from kepkreator.validation import HelpWithDefaults, positive_int
from train.diffaugment import translate
from train.loop import command_line, fail


def fit_condition_classifier(images: torch.Tensor, labels: torch.Tensor, conditions: list[str], seed: int,
                             steps: int, batch_size: int = 32) -> AttributeClassifier:
    torch.manual_seed(seed)
    model = AttributeClassifier([("condition", conditions)], image_size=images.shape[-1], channels=images.shape[1],
                                width=16)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(images), (batch_size,))
        batch = translate(images[index] * 2 - 1, 3) * 0.5 + 0.5  # a few pixels of shift, the background kept
        loss = F.cross_entropy(model(batch)["condition"], labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def train(argv=None) -> None:
    parser = argparse.ArgumentParser(formatter_class=HelpWithDefaults, prog="python -m studies.augmentation_study",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--gcn", required=True, help="a face GCN trained with --exclude-identities")
    parser.add_argument("--data-dir", type=Path, default=None, help="dataset root")
    parser.add_argument("--seeds", type=positive_int, default=5, help="classifier trainings per arm")
    parser.add_argument("--synthetic", type=positive_int, default=264, help="synthesized faces added in the second arm")
    parser.add_argument("--steps", type=positive_int, default=400, help="each classifier's training steps")
    parser.add_argument("--out", type=Path, default=Path("results") / "augmentation-yale",
                        help="report path, without suffix")
    args = parser.parse_args(argv)

    try:
        model = AttributeModel.from_pretrained(args.gcn)
        if "identity" not in model.schema:
            fail(f"{args.gcn} is not a face model: it draws {', '.join(model.schema)}")
        faces = face_data(resolve(args.gcn)).faces(args.data_dir, exclude=False)
    except (WeightsError, DataError) as err:
        fail(str(err))
    identities, conditions = model.schema["identity"], model.schema["condition"]
    if len(identities) < 2:
        fail(f"{args.gcn} knows {len(identities)} identity: blending new people needs at least two")
    everyone = sorted({f[0] for f in faces})
    test_ids = [i for i in everyone if i not in identities]
    if not test_ids:
        parser.error(f"{args.gcn} has seen every identity: train it with --exclude-identities")
    as_tensors = lambda chosen: (torch.stack([f[2] for f in chosen]).float() / 255,
                                 torch.tensor([conditions.index(f[1]) for f in chosen]))
    train_x, train_y = as_tensors([f for f in faces if f[0] in identities])
    test_x, test_y = as_tensors([f for f in faces if f[0] in test_ids])

    results = {"real only": [], "real + synthesized": []}
    for seed in range(args.seeds):
        fake = synthesize(model, args.synthetic, seed=seed, blend=0.5)
        fake_x = torch.stack([f.image for f in fake])
        fake_y = torch.tensor([conditions.index(f.condition) for f in fake])
        arms = {"real only": (train_x, train_y),
                "real + synthesized": (torch.cat([train_x, fake_x]), torch.cat([train_y, fake_y]))}
        for arm, (x, y) in arms.items():
            classifier = fit_condition_classifier(x, y, conditions, seed, args.steps)
            with torch.no_grad():
                accuracy = (classifier(test_x)["condition"].argmax(dim=1) == test_y).double().mean().item()
            results[arm].append(accuracy)
            print(f"seed {seed}, {arm}: {100 * accuracy:.1f}%")

    rows = [{"condition classifier trained on": arm, "images": len(train_x) + (args.synthetic if "+" in arm else 0),
             "test accuracy, mean": f"{100 * statistics.mean(v):.1f}%",
             "std over seeds": f"{100 * statistics.stdev(v):.1f}" if len(v) > 1 else "-",
             "per seed": " ".join(f"{100 * a:.0f}" for a in v)} for arm, v in results.items()]
    command = "python -m studies.augmentation_study " + " ".join(argv if argv is not None
                                                                   else __import__("sys").argv[1:])
    report = (f"```\n{command}\n```\n\nTest: the {len(test_x)} real faces of {len(test_ids)} identities "
              f"({', '.join(test_ids)}) held out of both the generator `{args.gcn}` and the classifiers; "
              f"{len(conditions)} conditions (chance {100 / len(conditions):.1f}%). Synthesized faces: 0.5 blends of "
              f"two of the generator's {len(identities)} identities, random conditions, upright.\n\n"
              + markdown_table(rows) + "\n")
    print(report)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".md").write_text(report)
        args.out.with_suffix(".json").write_text(json.dumps({"command": command, "test_identities": test_ids,
                                                             "accuracy": results}, indent=2) + "\n")
    except OSError as err:
        fail(f"could not write {args.out}.md / .json: {err.strerror or err}")


main = command_line(train)

if __name__ == "__main__":
    main()
