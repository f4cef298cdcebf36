"""How a server calls its models: each network frozen into TorchScript (in bfloat16 where the CPU is fast at it),
and concurrent calls merged into one pass.

    draw = RequestBatcher(generator)          # generator(z, labels) -> images, one row per input row
    images = draw(z, labels)                  # from any thread; rows from other threads may share the pass

Requests are validated and composed in their own threads; only the rows reach the batcher, so one bad
request can never fail another's (Gradio's own batch mode fails the whole batch). The batcher never waits
for company: it runs as soon as a request arrives and takes along whatever queued while the previous pass
ran, so a lone visitor never waits for others and batches grow only under load. It also means one thread drives the
model at a time, instead of every request thread starting its own set of intra-op threads.
"""
from __future__ import annotations

import queue
import threading
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from kepkreator.server_settings import PRECISIONS

Rows = tuple[torch.Tensor, ...]
Output = torch.Tensor | dict[str, torch.Tensor]


CHUNK_ROWS = 256  # rows per pass when a caller hands over many at once: a face takes some 1.5 MB in flight


def in_chunks(fn: Callable[[torch.Tensor], Output], rows: torch.Tensor, size: int = CHUNK_ROWS) -> Output:
    """`fn(rows)` computed `size` rows at a time, so memory stays bounded however many rows come (every blend of
    70 KDEF people is 16,905 faces). Each row's result does not depend on the others in its pass
    (tests/test_batching.py), so the output is the one pass's."""
    if len(rows) <= size:
        return fn(rows)
    parts = [fn(chunk) for chunk in rows.split(size)]
    if isinstance(parts[0], dict):
        return {name: torch.cat([part[name] for part in parts]) for name in parts[0]}
    return torch.cat(parts)


def split(output: Output, sizes: list[int]) -> list[Output]:
    """One model output (a tensor, or a dict of tensors from a multi-head model) cut back into requests."""
    if isinstance(output, dict):
        parts = {name: value.split(sizes) for name, value in output.items()}
        return [{name: value[i] for name, value in parts.items()} for i in range(len(sizes))]
    return list(output.split(sizes))


def frozen(module: nn.Module, *example: torch.Tensor) -> torch.jit.ScriptModule:
    """`module` traced on `example` inputs and frozen: weights become constants, batch norms fold into the
    convolutions before them, and one call runs the whole pass in C++. A Python module takes the GIL back between
    every operation, and in a server whose event loop and request threads all want it, waiting for it was most of
    a pass's time (`python -m bench.bench` compares the two). Outputs match the module's to float rounding;
    a module whose control flow depends on its inputs' values cannot be traced this way.

    TorchScript is deprecated in favour of torch.compile and torch.export, but on the pinned torch it is the one
    of them that runs a CPU pass outside Python without compiling C++ at start (torch.export's module is still a
    Python graph); a torch that drops it needs an AOTInductor package here instead."""
    with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", FutureWarning)  # the deprecation above
        traced = torch.jit.trace(module.eval(), example, strict=False)
        unsafe = [w.message for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
        if unsafe:  # the trace would not generalise to other inputs
            network = module.module if isinstance(module, InBFloat16) else module
            raise ValueError(f"{type(network).__name__} cannot be frozen: {unsafe[0]}")
        return torch.jit.freeze(traced)




def fastest_precision() -> str:
    """bfloat16 where the CPU multiplies bfloat16 matrices in hardware tiles (Intel AMX, which Linux lists as
    amx_bf16): there the app's endpoints cost less CPU in bfloat16 (`python -m bench.bench`, "endpoint's own
    work"). Elsewhere bfloat16 is computed in wider registers or emulated, not known to be faster: float32."""
    try:
        has_tiles = "amx_bf16" in Path("/proc/cpuinfo").read_text().split()
    except OSError:  # not Linux
        has_tiles = False
    return "bfloat16" if has_tiles else "float32"


class InBFloat16(nn.Module):
    """`module` under the CPU's autocast: convolutions and matrix products in bfloat16, while autocast keeps what
    loses most to rounding (norms, softmax) in float32; float32 in and out. Drawings stay within a grey level of the
    float32 ones on average (tests/test_batching.py)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, *inputs: torch.Tensor) -> Output:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output = self.module(*inputs)
        if isinstance(output, dict):
            return {name: value.float() for name, value in output.items()}
        return output.float()


def for_serving(module: nn.Module, *example: torch.Tensor, freeze: bool, precision: str = "float32") -> Callable:
    """`module` as a server runs it: in `precision` (one of PRECISIONS), frozen or not (`frozen`, traced on
    `example`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    network = InBFloat16(module) if precision == "bfloat16" else module
    return frozen(network, *example) if freeze else network


def batched(fn, enabled: bool, name: str):
    """`fn` itself, or a RequestBatcher around it when `enabled` (a server) and there is a model to call."""
    return RequestBatcher(fn, name=name) if enabled and fn is not None else fn


class RequestBatcher:
    def __init__(self, fn: Callable[..., Output], max_rows: int = 256, name: str = "model"):
        self.fn, self.max_rows = fn, max_rows
        self.pending: queue.SimpleQueue[tuple[Rows, Future]] = queue.SimpleQueue()
        self.passes = self.rows = 0  # forward passes run and rows drawn, to see how much passes are shared
        threading.Thread(target=self._serve, name=f"batcher-{name}", daemon=True).start()

    def __call__(self, *inputs: torch.Tensor) -> Output:
        if len({len(x) for x in inputs}) != 1:
            raise ValueError("every input needs the same number of rows")
        done: Future = Future()
        self.pending.put((inputs, done))
        return done.result()

    def _take(self) -> list[tuple[Rows, Future]]:
        jobs = [self.pending.get()]
        rows = len(jobs[0][0][0])
        while rows < self.max_rows:
            try:
                job = self.pending.get_nowait()
            except queue.Empty:
                break
            jobs.append(job)
            rows += len(job[0][0])
        return jobs

    def _serve(self) -> None:
        while True:
            jobs = self._take()
            sizes = [len(inputs[0]) for inputs, _ in jobs]
            try:
                merged = [torch.cat(parts) for parts in zip(*(inputs for inputs, _ in jobs))]
                with torch.inference_mode():
                    outputs = split(self.fn(*merged), sizes)
            except BaseException as err:  # the model itself failed: every caller in this pass hears why
                for _, done in jobs:
                    done.set_exception(err)
                continue
            self.passes += 1
            self.rows += sum(sizes)
            for (_, done), output in zip(jobs, outputs):
                done.set_result(output)
