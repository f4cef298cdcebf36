"""The digit judge's training task for the shared loop (command: train/judge.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.cards import write_card
from kepkreator.data.digits import DataError, load_characters, load_qmnist_test, split_by_writer
from kepkreator.models.judge import Judge
from train.diffaugment import translate
from train.loop import Run, cosine_decay, fail, make_accelerator, schedule_horizon, set_learning_rate


class JudgeTask:
    """The digit judge's network, optimizer and training step, for the shared loop (train/loop.py, `Task`)."""

    def __init__(self, args: argparse.Namespace, classes: str, accelerator):
        self.args, self.accelerator = args, accelerator
        self.judge = Judge(classes=classes, width=args.width)
        self.optimizer = torch.optim.AdamW(self.judge.parameters(), lr=args.lr, weight_decay=1e-4)
        self.model, self.optimizer_p = accelerator.prepare(self.judge, self.optimizer)

    def state_modules(self):
        return {"judge": self.judge}

    def optimizers(self):
        return {"judge": self.optimizer}

    def training_step(self, batch, step):
        set_learning_rate([self.optimizer], cosine_decay(self.args.lr, step, self.args.steps))
        images, labels = batch
        images = translate(images.unsqueeze(1).float().div(127.5).sub(1.0), self.args.shift)
        loss = F.cross_entropy(self.model(images), labels, label_smoothing=0.05)
        self.optimizer_p.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.optimizer_p.step()
        return {"loss": loss.item()}

    def sample_images(self):
        return None

    def save_model(self, output_dir: Path):
        self.judge.eval().save_pretrained(output_dir)
        write_card(self.judge, output_dir)
        return self.judge


def run(args: argparse.Namespace) -> None:
    """Train the digit judge with parsed, checked settings; raises TrainingError with one line when it cannot."""
    try:
        if args.dataset == "mnist" and not args.download:
            data = load_qmnist_test(args.data_dir)
            data = data.subset(split_by_writer(data.writers))
        else:
            data = load_characters(args.dataset, args.data_dir, args.download)
    except DataError as err:
        fail(str(err))
    data = data.head(args.limit)
    accelerator = make_accelerator()
    torch.manual_seed(args.seed)
    task = JudgeTask(args, data.classes, accelerator)
    settings = {**vars(args), "classes": data.classes, "images": len(data),
                **schedule_horizon(args.steps, decaying=True)}
    run = Run(args, accelerator, settings)
    run(task, (data.images, data.labels), {
        "title": f"Judge: {args.dataset} classifier for scoring generators",
        "kind": "judge", "dataset": args.dataset, "images": len(data),
        "command": args.command,
        "hyperparameters": {k: getattr(args, k) for k in ("steps", "batch_size", "seed", "width", "lr", "shift")},
    })
