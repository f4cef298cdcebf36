"""The one training loop every KepKreator model uses.

A task (see `Task`) owns its models, optimizers and one training step; this
loop owns everything around it: Accelerate for devices and processes, exact
seeding, in-memory batching, tqdm progress, sample grids, atomic checkpoints,
`--resume`, the final `save_pretrained` and `--push-to-hub`.

Every step reseeds torch from (seed, step, process), and the data order of
every epoch comes from (seed, epoch), so a resumed run replays exactly the
steps an uninterrupted run would have taken.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Protocol

import torch
from accelerate import Accelerator
from safetensors import SafetensorError
from torch import nn
from tqdm.auto import tqdm
from torchvision.utils import save_image

from kepkreator.processes import process_alive
from train.flags import TrainingError, command_line, fail  # noqa: F401 (read from here too)
from train.checkpoint import (CHECKPOINT_NAME, CheckpointError, load_checkpoint, read_run_config, save_checkpoint,
                              write_failure)

LOCK_NAME = ".run.lock"  # in --output-dir while a run writes there: the process id of that run
# Settings that may change between a run and its resumption without changing its result.
RESUMABLE_CHANGES = {"steps", "resume", "checkpoint_every", "sample_every", "push_to_hub", "output_dir", "data_dir",
                     "download", "token", "command", "recipe"}


class Task(Protocol):
    """What a model brings to the loop."""

    def state_modules(self) -> dict[str, nn.Module]: ...  # everything a checkpoint must hold (unwrapped)
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...
    def training_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]: ...
    def sample_images(self) -> torch.Tensor | None: ...  # N x C x H x W in [0, 1], 10 per row; None: no grid
    def save_model(self, output_dir: Path) -> nn.Module: ...  # writes weights + card, returns the model


def cosine_decay(base: float, step: int, steps: int) -> float:
    """The learning rate at `step` of `steps`, from the step alone, so a resumed run needs no scheduler state."""
    return base * 0.5 * (1 + math.cos(math.pi * step / steps))


def set_learning_rate(optimizers, lr: float) -> None:
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr


def cooldown(base: float, step: int, steps: int, cooldown_steps: int) -> float:
    """Constant, then a linear decay to zero over the last `cooldown_steps` steps."""
    return base * min(1.0, (steps - step) / cooldown_steps) if cooldown_steps else base


def apply_cooldown(rates, step: int, steps: int, cooldown_steps: int) -> None:
    """Set each (optimizer, base learning rate) in `rates` to its rate under `cooldown` at `step`."""
    for optimizer, base in rates:
        set_learning_rate([optimizer], cooldown(base, step, steps, cooldown_steps))


def schedule_horizon(steps: int, decaying: bool) -> dict:
    """Run settings for a learning-rate schedule: a decaying one depends on --steps, so resuming it with other
    --steps would change the result."""
    return {"schedule_steps": steps} if decaying else {}


def batch_indices(n: int, batch_size: int, step: int, seed: int, rank: int, world: int) -> torch.Tensor:
    """This process's share of the global batch for `step`; each epoch is one seeded permutation."""
    per_epoch = max(1, n // batch_size)
    epoch, position = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
    return order[position * batch_size:(position + 1) * batch_size][rank::world]


class Run:
    """Runs `task` over `tensors` (same-length tensors, batched together) as the arguments say."""

    def __init__(self, args: argparse.Namespace, accelerator: Accelerator, run_config: dict,
                 resumable: tuple[str, ...] = (), records: dict[str, dict] | None = None):
        """`resumable`: the task's own settings that only choose what is saved, free to change on --resume.
        `records`: settings recorded in training.json for whoever reads them back ("data": the data settings of
        kepkreator.data.settings, "model": the networks')."""
        self.args, self.records = args, records or {}
        self.accelerator = accelerator
        self.output_dir: Path = args.output_dir
        self.checkpoint_path = self.output_dir / CHECKPOINT_NAME
        self.run_config = {k: v for k, v in run_config.items() if k not in RESUMABLE_CHANGES | set(resumable)}
        if args.push_to_hub and args.push_to_hub.count("/") != 1:
            fail(f"--push-to-hub takes OWNER/NAME, got {args.push_to_hub!r}")
        self._prepare_output_dir()

    def _prepare_output_dir(self) -> None:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            probe = self.output_dir / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            fail(f"cannot write to --output-dir {self.output_dir}: {err.strerror or err}")
        if self.accelerator.is_main_process:
            self._lock()
        if self.checkpoint_path.exists() and not self.args.resume:
            self.unlock()  # refused: the folder is free again, also for a caller that goes on in this process
            try:
                step, _, _ = read_run_config(self.checkpoint_path)
            except CheckpointError:
                fail(f"{self.output_dir} already holds a damaged checkpoint: delete it or choose another --output-dir")
            fail(f"{self.output_dir} already holds a checkpoint at step {step}: pass --resume to continue it, "
                 "or choose another --output-dir")

    def _lock(self) -> None:
        """Claim --output-dir for this run: a second run there stops at once, naming the first's process, instead of
        both writing into one folder and one run's result being lost. A lock left by a run that died is taken over."""
        lock = self.output_dir / LOCK_NAME
        while True:
            try:
                with open(lock, "x") as f:
                    f.write(str(os.getpid()))
                break
            except FileExistsError:
                try:
                    owner = int(lock.read_text())
                except (OSError, ValueError):
                    owner = 0
                if owner and owner != os.getpid() and process_alive(owner):
                    fail(f"{self.output_dir} is being written by another run (process {owner}): wait for it to "
                         "end, or choose another --output-dir")
                lock.unlink(missing_ok=True)
            except OSError as err:
                fail(f"cannot write to --output-dir {self.output_dir}: {err.strerror or err}")
        self.lock = lock
        atexit.register(self.unlock)

    def unlock(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if int(self.lock.read_text()) == os.getpid():
                self.lock.unlink()

    def start_step(self, task: Task) -> tuple[int, float]:
        if not (self.args.resume and self.checkpoint_path.exists()):
            if self.args.resume:
                self.accelerator.print(f"no checkpoint in {self.output_dir}; starting from step 0")
            return 0, 0.0
        try:
            step, saved_config, elapsed = read_run_config(self.checkpoint_path)
        except CheckpointError as err:
            fail(str(err))
        if not 0 <= step <= self.args.steps:
            fail(f"{self.checkpoint_path} says it was saved at step {step}, outside 0 to --steps ({self.args.steps}): "
                 "it is damaged or from a longer run; delete it or pass the --steps it was made with")
        changed = sorted(k for k in set(saved_config) | set(self.run_config)
                         if saved_config.get(k) != self.run_config.get(k))
        if changed:
            details = ", ".join(f"{k}: {saved_config.get(k)!r} -> {self.run_config.get(k)!r}" for k in changed)
            fail(f"the checkpoint in {self.output_dir} was made with other settings ({details}); "
                 "resume with the same settings or choose another --output-dir")
        try:
            load_checkpoint(self.checkpoint_path, task.state_modules(), task.optimizers())
        except CheckpointError as err:
            fail(str(err))
        self.accelerator.print(f"resumed from step {step}")
        return step, elapsed

    def checkpoint(self, task: Task, step: int, elapsed: float) -> None:
        if self.accelerator.is_main_process:
            try:
                save_checkpoint(self.checkpoint_path, step, task.state_modules(), task.optimizers(), self.run_config,
                                elapsed)
            except CheckpointError as err:
                fail(f"{err}. {self.what_is_safe()}")
        self.accelerator.wait_for_everyone()

    def what_is_safe(self) -> str:
        try:
            step, _, _ = read_run_config(self.checkpoint_path)
        except CheckpointError:
            return "No checkpoint was saved yet."
        return (f"The checkpoint at step {step} is intact: once the cause is fixed (room made on a full disk, say), "
                "run the same command with --resume to continue from it.")

    @contextlib.contextmanager
    def writing(self, what: str):
        """Turns a failed write (full disk, lost permission) into one clear message and exit code 2."""
        try:
            yield
        except (OSError, SafetensorError) as err:
            fail(f"could not write {what} in {self.output_dir}: {write_failure(err)}. {self.what_is_safe()}")

    def save_samples(self, task: Task, name: str) -> None:
        images = task.sample_images()
        if images is not None:
            path = self.output_dir / "samples" / name
            with self.writing(f"samples/{name}"):
                path.parent.mkdir(parents=True, exist_ok=True)
                save_image(images, path, nrow=10, padding=2, pad_value=1.0)

    def __call__(self, task: Task, tensors: tuple[torch.Tensor, ...], card: dict) -> nn.Module | None:
        try:
            return self.train(task, tensors, card)
        finally:
            self.unlock()

    def train(self, task: Task, tensors: tuple[torch.Tensor, ...], card: dict) -> nn.Module | None:
        args, acc = self.args, self.accelerator
        step, elapsed = self.start_step(task)
        n = len(tensors[0])
        bar = tqdm(total=args.steps, initial=step, disable=not acc.is_main_process, desc=card.get("title", "training"),
                   dynamic_ncols=True)
        started = time.perf_counter() - elapsed
        window_start, window_steps = time.perf_counter(), 0
        while step < args.steps:
            torch.manual_seed(args.seed * 1_000_003 + step * acc.num_processes + acc.process_index)
            index = batch_indices(n, args.batch_size, step, args.seed, acc.process_index, acc.num_processes)
            losses = task.training_step(tuple(t[index].to(acc.device) for t in tensors), step)
            step += 1
            if not all(math.isfinite(v) for v in losses.values()):
                shown = ", ".join(f"{k}={v}" for k, v in losses.items() if not math.isfinite(v))
                fail(f"step {step}: a loss is not finite ({shown}); the run stopped and saved nothing after it. "
                     f"{self.what_is_safe()} Lower the learning rates or the loss weights, or check the data.")
            window_steps += 1
            if step % 10 == 0 or step == args.steps:
                rate = window_steps * args.batch_size / max(time.perf_counter() - window_start, 1e-9)
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in losses.items()}, "samples/s": f"{rate:.0f}"},
                                refresh=False)
                window_start, window_steps = time.perf_counter(), 0
            bar.update(1)
            if step % args.sample_every == 0 and acc.is_main_process:
                self.save_samples(task, f"step-{step:07d}.png")
            if step % args.checkpoint_every == 0 or step == args.steps:
                self.checkpoint(task, step, time.perf_counter() - started)
        bar.close()
        if not acc.is_main_process:
            return None
        seconds = time.perf_counter() - started
        self.save_samples(task, "final.png")
        with self.writing("the trained model"):
            (self.output_dir / "training.json").write_text(json.dumps(
                {"steps": args.steps, "training_seconds": round(seconds, 1), "processes": acc.num_processes,
                 "samples_per_second": round(args.steps * args.batch_size / max(seconds, 1e-9), 1),
                 "machine": machine_summary(), "run_config": self.run_config, **self.records, "card": card},
                indent=2) + "\n")
            model = task.save_model(self.output_dir)
        acc.print(f"saved {self.output_dir} after {seconds / 60:.1f} min")
        if args.push_to_hub:
            push(args.push_to_hub, self.output_dir, args.token)
        return model


def push(repo_id: str, folder: Path, token: str | None) -> None:
    """Upload the saved folder (weights, config, card, samples); local files stay as they are."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=folder,
                          allow_patterns=["*.json", "*.safetensors", "*.md", "samples/final.png"],
                          ignore_patterns=[CHECKPOINT_NAME], commit_message="Upload KepKreator model")
    except (HfHubHTTPError, LocalTokenNotFoundError, OfflineModeIsEnabled, OSError, ValueError) as err:
        fail(f"push to {repo_id} failed: {type(err).__name__}: {err}. The model is saved in {folder}; "
             "push it later with `hf upload`")
    print(f"pushed to https://huggingface.co/{repo_id}")


def machine_summary() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"


def make_accelerator() -> Accelerator:
    # Accelerate only treats a torchrun/MPI launch as multi-CPU when told the run is on the CPU.
    return Accelerator(cpu=not torch.accelerator.is_available())
