"""Render workers (kepkreator/ui/workers.py): handlers in forked processes, their mistakes and their deaths."""
import gc
import os
import signal

import pytest

from kepkreator.loadtest import process_tree
from kepkreator.ui.files import image_file
from kepkreator.ui.workers import RenderWorkers
from kepkreator.validation import InputError


def refuse(text):
    raise InputError(f"cannot draw {text!r}")


@pytest.fixture
def workers():
    workers = RenderWorkers()
    yield workers
    workers.stop()


def test_handlers_run_in_the_workers_once_started(workers):
    pid = workers.register(os.getpid)
    assert pid() == os.getpid()  # not started: in-process
    workers.start(2)
    assert pid() != os.getpid() and pid() in process_tree(os.getpid())


def test_workers_leave_the_objects_they_inherit_out_of_their_collections(workers):
    frozen, pid = workers.register(gc.get_freeze_count), workers.register(os.getpid)
    workers.start(1)
    assert frozen() > 10_000  # the server's objects at the fork, out of the workers' collections
    assert gc.get_freeze_count() == 0  # the server collects its own as before
    first = pid()
    os.kill(first, signal.SIGKILL)
    assert pid() != first  # answered by a replacement, forked while the server runs
    assert sorted(frozen() > 10_000 for _ in range(10)) == [True] * 10 and gc.get_freeze_count() == 0


def test_a_mistake_in_a_worker_reaches_the_caller_with_its_message(workers):
    draw = workers.register(refuse)
    workers.start(1)
    with pytest.raises(InputError, match="cannot draw 'x!'"):
        draw("x!")


def test_workers_keep_a_share_of_the_bound_on_files(workers):
    keep = workers.register(lambda: image_file.folders.keep)
    workers.start(2)
    assert keep() == image_file.folders.keep // 2


def test_a_killed_worker_loses_no_request(workers):
    pid = workers.register(os.getpid)
    workers.start(2)
    first = {pid() for _ in range(20)}
    for worker in first:
        os.kill(worker, signal.SIGKILL)
    assert pid() not in first  # answered by a new worker
    assert pid() != os.getpid()


def test_the_worker_count_is_checked(workers):
    with pytest.raises(ValueError, match="workers must be from 0 to 16, got 17"):
        workers.start(17)


def test_where_fork_is_unsafe_the_drawing_stays_in_process(workers, monkeypatch):
    monkeypatch.setattr("kepkreator.ui.workers.forks_safely", lambda: False)
    pid = workers.register(os.getpid)
    workers.start(2)
    assert pid() == os.getpid()


def test_an_answer_that_cannot_be_sent_back_is_an_error_and_the_worker_lives_on(workers):
    unsendable = workers.register(lambda: (lambda: None))  # a lambda cannot be pickled
    pid = workers.register(os.getpid)
    workers.start(1)
    before = pid()
    with pytest.raises(RuntimeError, match="a render worker could not send its answer back"):
        unsendable()
    assert pid() == before


def test_stopping_ends_every_worker(workers):
    pid = workers.register(os.getpid)
    workers.start(2)
    started = {pid() for _ in range(10)}
    assert len(started) == 2
    workers.stop()
    assert not set(process_tree(os.getpid())) & started
    assert pid() == os.getpid()  # stopped: in-process again
