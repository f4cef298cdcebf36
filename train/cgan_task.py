"""The conditional GAN's training task for the shared loop: its networks, losses and step (the command is
train/cgan.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from kepkreator.cards import write_card
from kepkreator.data.digits import DataError, load_characters, load_qmnist_test, split_by_writer
from kepkreator.models.cgan import Discriminator, Generator
from train.diffaugment import translate
from train.ema import MovingAverage
from train.loop import Run, apply_cooldown, fail, make_accelerator, schedule_horizon


class CGANTask:
    """The cGAN's networks, optimizers and training step, for the shared loop (train/loop.py, `Task`)."""

    def __init__(self, args: argparse.Namespace, classes: str, accelerator):
        self.args, self.accelerator = args, accelerator
        self.generator = Generator(classes=classes, latent_dim=args.latent_dim, width=args.g_width)
        self.discriminator = Discriminator(num_classes=len(classes), width=args.d_width)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), args.lr_g, betas=(args.beta1, 0.999))
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), args.lr_d, betas=(args.beta1, 0.999))
        self.g, self.d, self.g_opt_p, self.d_opt_p = accelerator.prepare(
            self.generator, self.discriminator, self.g_opt, self.d_opt)
        self.ema = MovingAverage(self.generator, args.ema_decay)  # made where prepare put the generator
        self.sample_z = torch.randn(10 * len(classes), args.latent_dim, generator=torch.Generator().manual_seed(1234))
        self.sample_labels = torch.arange(len(classes)).repeat_interleave(10)

    def state_modules(self):
        return {"generator": self.generator, "discriminator": self.discriminator, "ema": self.ema.average}

    def optimizers(self):
        return {"generator": self.g_opt, "discriminator": self.d_opt}

    def training_step(self, batch, step):
        apply_cooldown(((self.d_opt, self.args.lr_d), (self.g_opt, self.args.lr_g)), step, self.args.steps,
                       self.args.cooldown)
        real, labels = batch
        real = real.unsqueeze(1).float().div(127.5).sub(1.0)
        n = len(labels)
        z = torch.randn(n, self.args.latent_dim, device=real.device)

        with torch.no_grad():
            fake = self.g(z, labels)
        scores = self.d(self.d_augment(torch.cat([real, fake])), torch.cat([labels, labels]))
        d_loss = F.relu(1 - scores[:n]).mean() + F.relu(1 + scores[n:]).mean()
        self.d_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.d_opt_p.step()

        # Mode seeking (Mao et al. 2019): the two halves share labels, and images from different latents must differ.
        half = n // 2
        g_labels = torch.cat([labels[:half], labels[:half]])
        fake = self.g(z[:2 * half], g_labels)
        g_loss = -self.d(self.d_augment(fake), g_labels).mean()
        if self.args.mode_seeking > 0:
            spread = (fake[:half] - fake[half:]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
            g_loss = g_loss + self.args.mode_seeking / (spread + 1e-5)
        self.g_opt_p.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt_p.step()

        self.ema.update()
        return {"d": d_loss.item(), "g": g_loss.item()}

    def d_augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment for everything the discriminator sees: random shifts."""
        return translate(images, self.args.shift)

    def saved_generator(self):
        return self.ema.average if self.args.save_generator == "ema" else self.generator

    def sample_images(self):
        model = self.saved_generator()
        was_training = model.training
        model.eval()
        with torch.no_grad():
            images = model(self.sample_z, self.sample_labels).add(1).div(2).clamp(0, 1)
        model.train(was_training)
        return images

    def save_model(self, output_dir: Path):
        model = self.saved_generator()
        model.eval().save_pretrained(output_dir)
        write_card(model, output_dir)
        return model


def load_training_set(args: argparse.Namespace):
    """MNIST with writer ids keeps the judge's held-out writers out of training; other sets are used whole."""
    if args.dataset == "mnist" and args.writers == "train" and not args.download:
        data = load_qmnist_test(args.data_dir)
        data = data.subset(split_by_writer(data.writers))
    else:
        data = load_characters(args.dataset, args.data_dir, args.download)
    return data.head(args.limit)


def run(args: argparse.Namespace) -> None:
    """Train the cGAN with parsed, checked settings; raises TrainingError with one line when it cannot."""
    try:
        data = load_training_set(args)
    except DataError as err:
        fail(str(err))
    accelerator = make_accelerator()
    torch.manual_seed(args.seed)
    task = CGANTask(args, data.classes, accelerator)
    run = Run(args, accelerator, {**vars(args), "classes": data.classes, "images": len(data),
                                  **schedule_horizon(args.steps, decaying=args.cooldown > 0)},
              resumable=("save_generator",))
    run(task, (data.images, data.labels), {
        "title": f"Conditional GAN: {args.dataset}",
        "kind": "cgan",
        "dataset": args.dataset,
        "images": len(data),
        "command": args.command,
        "hyperparameters": {k: getattr(args, k) for k in
                            ("steps", "batch_size", "seed", "latent_dim", "g_width", "d_width", "lr_g", "lr_d",
                             "beta1", "ema_decay", "save_generator", "shift", "mode_seeking", "cooldown")},
    })
