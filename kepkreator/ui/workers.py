"""Render workers: the tabs' handlers run in processes forked from the server once its models are loaded.

A server process has one interpreter lock, and Gradio's event loop, its request threads and every handler's
Python (validation, composing, encoding, the file) all take turns on it; under browser-like load the handlers'
turns delayed Gradio's. In a worker the handler has a lock of its own, and the server only passes the arguments and
the answer (a file path and a few labels). Forked after the models are loaded and before the server starts, the
workers share the server's memory pages until they write to them.

    workers = RenderWorkers()
    draw = workers.register(face)    # before start(): in-process; after: in a worker
    workers.start(2)
    draw(...)                        # from any of the server's threads

A worker that dies (killed, out of memory) breaks the pool; the next call starts a new one and runs there, so no
request is lost to it.
"""
from __future__ import annotations

import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from kepkreator.ui.files import share_bounds

log = logging.getLogger("kepkreator.app")

MAX_WORKERS = 16
PR_SET_PDEATHSIG = 1  # prctl(2)

# The registered handlers, looked up by index in the workers, which inherit this list when forked.
HANDLERS: list[Callable] = []


def run(index: int, args: tuple):
    return HANDLERS[index](*args)


def worker_started(workers: int, server: int) -> None:
    """In a new worker: keep a share of the bounds on files, and end with the server."""
    share_bounds(workers)
    end_with_server(server)


def end_with_server(server: int) -> None:
    """Be stopped when the server dies, even by SIGKILL, instead of waiting on for calls (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux with glibc: the pool's own shutdown still ends the workers
        return
    if os.getppid() != server:  # the server died before the line above
        os._exit(0)


def forks_safely() -> bool:
    """Windows cannot fork, and on macOS a forked process may crash in the system's libraries (Python itself spawns
    there by default)."""
    return sys.platform.startswith("linux")


class RenderWorkers:
    def __init__(self):
        self.pool: ProcessPoolExecutor | None = None
        self.count = 0
        self.lock = threading.Lock()

    def register(self, fn: Callable) -> Callable:
        """`fn`, called in a worker once the workers are started (in-process until then, and without workers)."""
        index = len(HANDLERS)
        HANDLERS.append(fn)

        def call(*args):
            pool = self.pool
            if pool is None:
                return fn(*args)
            try:
                return pool.submit(run, index, args).result()
            except BrokenProcessPool:
                return self.restarted(pool).submit(run, index, args).result()
        return functools.update_wrapper(call, fn)

    def start(self, count: int) -> None:
        """Fork `count` workers now (0: handlers stay in the server's process), each ready before this returns."""
        if not 0 <= count <= MAX_WORKERS:
            raise ValueError(f"workers must be from 0 to {MAX_WORKERS}, got {count}")
        if count and not forks_safely():
            log.warning("render workers need Linux (fork); drawing in the server's process instead")
            count = 0
        self.count = count
        if count:
            self.pool = self.forked()

    def forked(self) -> ProcessPoolExecutor:
        # With fork, the pool starts all its workers at the first call: here. At start the server has no other
        # threads yet. A restart forks the running server, whose other threads do not exist in the new workers: once
        # workers run, the server's threads no longer draw, so none of them holds a lock the handlers take (and
        # logging renews its own locks at a fork).
        pool = ProcessPoolExecutor(self.count, mp_context=multiprocessing.get_context("fork"),
                                   initializer=worker_started, initargs=(self.count, os.getpid()))
        pool.submit(os.getpid).result()
        log.info("%d render workers started", self.count)
        return pool

    def restarted(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self.lock:  # concurrent callers that saw the same broken pool start one new pool between them
            if self.pool is broken:
                log.warning("a render worker died; starting new workers")
                broken.shutdown(wait=False, cancel_futures=True)
                self.pool = self.forked()
            return self.pool

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


render_workers = RenderWorkers()
