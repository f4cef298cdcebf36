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

Each worker has a pipe of its own, and the calling thread sends the call and waits for the answer on it: no
thread in between (a ProcessPoolExecutor hands every call through a feeder and a manager thread, each another turn
on the server's lock; *Benchmark* in RESULTS.md measures the app with these workers). A worker that dies (killed,
out of memory) is replaced by a new one, where the call is made again, so no request is lost to it.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Callable

from kepkreator.server_settings import MAX_WORKERS
from kepkreator.ui.files import share_bounds

log = logging.getLogger("kepkreator.app")

PR_SET_PDEATHSIG = 1  # prctl(2)

# The registered handlers, looked up by index in the workers, which inherit this list when forked.
HANDLERS: list[Callable] = []


def serve(connection: Connection, servers_ends: list[Connection], workers: int, server: int) -> None:
    """A worker's life: keep a share of the bounds on files, end with the server, and answer calls until the pipe
    closes. An answer is (True, result) or (False, the exception, with its traceback in this process as a note).
    `servers_ends`: the server's ends of this and the other workers' pipes, inherited by the fork; closed, so that
    the server closing a pipe ends its worker."""
    for end in servers_ends:
        end.close()
    share_bounds(workers)
    end_with_server(server)
    while True:
        try:
            index, args = connection.recv()
        except EOFError:  # the server closed the pipe: stopping
            return
        try:
            answer = (True, HANDLERS[index](*args))
        except BaseException as err:  # the caller decides what a failure means
            err.add_note(f"in render worker {os.getpid()}:\n{traceback.format_exc()}")
            answer = (False, err)
        try:
            connection.send(answer)
        except Exception as err:  # an answer that cannot be pickled; nothing was sent
            connection.send((False, RuntimeError(f"a render worker could not send its answer back: {err!r}")))


def end_with_server(server: int) -> None:
    """Be stopped when the server dies, even by SIGKILL, instead of waiting on for calls (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux with glibc: closing the pipe still ends the workers
        return
    if os.getppid() != server:  # the server died before the line above
        os._exit(0)


def forks_safely() -> bool:
    """Windows cannot fork, and on macOS a forked process may crash in the system's libraries (Python itself spawns
    there by default)."""
    return sys.platform.startswith("linux")


@contextlib.contextmanager
def parents_objects_left_alone():
    """Forks inside keep the server's Python objects out of the workers' garbage collections. A full collection
    writes to every object it examines, and in a worker each write copies a page it shared with the server (without
    this, a worker's own memory grew by about 200 MiB under load in some benchmark rounds: docs/serving.md).
    Frozen at the fork, the inherited objects are never examined in the worker (the `gc.freeze` advice of Python's
    documentation); the server unfreezes its own at once."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Worker:
    """One forked process and the server's end of its pipe."""

    def __init__(self, workers: int, others: list["Worker"]):
        # A worker forked while the server runs (a replacement) lacks the server's other threads: once workers
        # run, the server's threads no longer draw, so none of them holds a lock the handlers take (and logging
        # renews its own locks at a fork).
        context = multiprocessing.get_context("fork")
        self.connection, theirs = context.Pipe()
        servers_ends = [self.connection, *(other.connection for other in others)]
        self.process = context.Process(target=serve, args=(theirs, servers_ends, workers, os.getpid()),
                                       daemon=True, name="render-worker")
        self.process.start()
        theirs.close()

    def call(self, index: int, args: tuple):
        self.connection.send((index, args))
        done, answer = self.connection.recv()
        if not done:
            raise answer
        return answer

    def stop(self) -> None:
        self.connection.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class RenderWorkers:
    def __init__(self):
        self.idle: queue.SimpleQueue[Worker] | None = None
        self.all: list[Worker] = []
        self.count = 0
        self.lock = threading.Lock()

    def register(self, fn: Callable) -> Callable:
        """`fn`, called in a worker once the workers are started (in-process until then, and without workers)."""
        index = len(HANDLERS)
        HANDLERS.append(fn)

        def call(*args):
            if self.idle is None:
                return fn(*args)
            worker = self.idle.get()
            try:
                return worker.call(index, args)
            except (EOFError, OSError):  # it died: a new one answers
                worker = self.replaced(worker)
                return worker.call(index, args)
            finally:
                self.idle.put(worker)
        return functools.update_wrapper(call, fn)

    def start(self, count: int) -> None:
        """Fork `count` workers now (0: handlers stay in the server's process), each ready before this returns."""
        if not 0 <= count <= MAX_WORKERS:
            raise ValueError(f"workers must be from 0 to {MAX_WORKERS}, got {count}")
        if count and not forks_safely():
            log.warning("render workers need Linux (fork); drawing in the server's process instead")
            count = 0
        self.count = count
        if not count:
            return
        self.all = []
        with parents_objects_left_alone():
            for _ in range(count):
                self.all.append(Worker(count, self.all))
        self.idle = queue.SimpleQueue()
        for worker in self.all:
            self.idle.put(worker)
        log.info("%d render workers started", count)

    def replaced(self, dead: Worker) -> Worker:
        log.warning("render worker %s died; starting a new one", dead.process.pid)
        dead.connection.close()
        dead.process.join()
        with self.lock, parents_objects_left_alone():
            worker = Worker(self.count, [other for other in self.all if other is not dead])
            self.all[self.all.index(dead)] = worker
        return worker

    def stop(self) -> None:
        self.idle = None
        for worker in self.all:
            worker.stop()
        self.all = []


render_workers = RenderWorkers()
