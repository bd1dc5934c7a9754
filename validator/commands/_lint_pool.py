"""Check many images in worker processes; results come back in order, as they finish.

``ordered(work, items, jobs, ...)`` yields ``work(item)`` for every item, in the order
of ``items``, while up to ``jobs`` processes compute them (``_lint_handover``: this
process computes them until workers are worth their cost, then workers the rest):

* items go out in chunks of at most ``CHUNK`` images (fewer when there are few: each
  worker gets eight chunks or more), at most two chunks per worker at a time, and never
  more than ``window`` items ahead of the first result not yet yielded: the results
  that finished early wait in a reorder buffer of at most ``window`` entries, so memory
  stays flat however many images there are, and ``tick(n)`` is called as soon as n
  images are done (the progress bar moves);
* a worker that dies (a crash, a signal, the out-of-memory killer) loses the chunks it
  held. Each image of those chunks is checked again, alone, in a worker of its own (one
  at a time, so a death names its image); an image whose own worker dies again gets
  ``died(item)`` — the others get their real results — and a new worker takes the dead
  one's place;
* when no worker process can be started (fork fails: EAGAIN, ENOMEM; or the platform
  has no fork), the items are computed in this process instead.

A worker is this process forked (``os.fork``) once the items exist: it has every module
this process imported, and the items themselves. The parent sends it the first and end
index of each chunk through a pipe and reads back one pickle of the chunk's results
through another. concurrent.futures' process pool, used before, cost a run 81 M
instructions to import with multiprocessing, ran two threads of its own in the parent,
and pickled every item on its way out (bench/throughput.py). A chunk costs the parent
and the worker two small messages and one pickle whatever its size, so a chunk holds
many small images.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import struct

CHUNK = 128

_TASK = struct.Struct("<qq")  # a chunk: first index, end index
_SIZE = struct.Struct("<Q")  # the length of the pickle of a chunk's results that follows
_READ = 1 << 16  # a read: below malloc's mmap threshold, so no fresh pages each


def ordered(work, items: list, jobs: int, *, initializer=None, initargs=(), died,
            tick=None, window: int | None = None):
    n = len(items)
    chunk = max(1, min(CHUNK, n // (jobs * 8)))
    window = window or max(64, jobs * chunk * 4)
    tick = tick or (lambda count: None)
    pool = Pool(work, items, jobs, initializer, initargs)
    ready: dict[int, object] = {}
    emitted = submitted = 0
    try:
        while emitted < n:
            while submitted < n and submitted < emitted + window:
                end = min(n, submitted + chunk)
                if not pool.workers:  # no worker could be started: do it here
                    ready.update((i, pool.here(i)) for i in range(submitted, end))
                    tick(end - submitted)
                elif not pool.send(submitted, end):
                    break  # every worker holds two chunks
                submitted = end
            suspects: list[int] = []
            for first, end, results in pool.wait() if pool.busy() else ():
                if results is None:  # its worker died
                    suspects.extend(range(first, end))
                    continue
                ready.update(zip(range(first, end), results, strict=True))
                tick(end - first)
            for index in sorted(suspects):
                ready[index] = pool.alone(index, died)
                tick(1)
            while emitted in ready:
                yield ready.pop(emitted)
                emitted += 1
    finally:
        pool.close()


class _Worker:
    __slots__ = ("pid", "tasks", "results", "held", "buffer")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid, self.tasks, self.results = pid, tasks, results
        self.held: list[tuple[int, int]] = []  # chunks sent, oldest first
        self.buffer = bytearray()  # what has come of the next pickle


class Pool:
    """Up to ``jobs`` forked workers computing ``work`` over chunks of ``items``."""

    def __init__(self, work, items: list, jobs: int, initializer=None, initargs=()) -> None:
        self.work, self.items = work, items
        self.initializer, self.initargs = initializer, initargs
        self.selector = selectors.DefaultSelector()
        self.workers: list[_Worker] = []
        self.lost: list[tuple[int, int, None]] = []  # chunks of workers found dead in send
        self.jobs = jobs
        self.set_up_here = False
        for _ in range(jobs):
            if not self._add():
                break

    def _spawn(self) -> _Worker | None:
        """A new worker, which closes the descriptors it inherits and does not use (the
        selector's, every other worker's pipes); None when none can be started."""
        return _fork(self.work, self.items, self.initializer, self.initargs,
                     [self.selector.fileno(), *(fd for w in self.workers
                                                for fd in (w.tasks, w.results))])

    def _add(self) -> bool:
        """Start a worker; False when none can be started."""
        worker = self._spawn()
        if worker is None:
            return False
        self.workers.append(worker)
        self.selector.register(worker.results, selectors.EVENT_READ, worker)
        return True

    def send(self, first: int, end: int) -> bool:
        """Give the chunk to the worker holding fewest (two at most); False if none can
        take it now. A worker found dead here is replaced; its chunks come back from
        ``wait`` as lost."""
        for worker in sorted(self.workers, key=lambda w: len(w.held)):
            if len(worker.held) >= 2:
                return False
            try:
                _write_all(worker.tasks, _TASK.pack(first, end))
            except OSError:  # it has died (EPIPE): wait() reports what it held
                self._lose(worker)
                return self.send(first, end) if self.workers else False
            worker.held.append((first, end))
            return True
        return False

    def busy(self) -> bool:
        """Whether ``wait`` has something to wait for."""
        return bool(self.lost) or any(w.held for w in self.workers)

    def _lose(self, worker: _Worker) -> None:
        self.lost.extend((first, end, None) for first, end in worker.held)
        self._bury(worker)
        if len(self.workers) < self.jobs:
            self._add()

    def wait(self):
        """Block until a worker answers or dies: each (first, end, results) that came
        back, ``results`` None for each chunk a dead worker held."""
        if self.lost:
            out, self.lost = self.lost, []
            return out
        out = []
        for key, _ in self.selector.select():
            worker = key.data
            try:
                data = os.read(worker.results, _READ)
            except OSError:
                data = b""
            if not data:  # the end of its pipe: it died (it ends only when told to)
                self._lose(worker)
                continue
            worker.buffer += data
            out.extend(_messages(worker))
        out.extend(self.lost)
        self.lost.clear()
        return out

    def here(self, index: int):
        """``work(items[index])`` in this process (set up as a worker is, once)."""
        if not self.set_up_here:
            self.set_up_here = True
            if self.initializer is not None:
                self.initializer(*self.initargs)
        return self.work(self.items[index])

    def alone(self, index: int, died):
        """``work(items[index])`` in a worker of its own; ``died(item)`` if it dies."""
        worker = self._spawn()
        if worker is None:  # no process can be started: here, then
            return self.here(index)
        try:
            _write_all(worker.tasks, _TASK.pack(index, index + 1))
            worker.held.append((index, index + 1))
            while True:
                data = os.read(worker.results, _READ)
                if not data:
                    return died(self.items[index])
                worker.buffer += data
                for _, _, results in _messages(worker):
                    return results[0]
        except OSError:
            return died(self.items[index])
        finally:
            _close(worker, kill=False)

    def _bury(self, worker: _Worker) -> None:
        self.selector.unregister(worker.results)
        self.workers.remove(worker)
        _close(worker, kill=True)

    def close(self) -> None:
        """Tell every worker there is no more (the end of its task pipe) and reap it;
        one still busy (the run was cut short) is killed."""
        busy = [w for w in self.workers if w.held]
        for worker in self.workers:
            self.selector.unregister(worker.results)
        for worker in self.workers:
            _close(worker, kill=worker in busy)
        self.workers.clear()
        self.selector.close()


def _messages(worker: _Worker):
    """The results of each chunk whose whole pickle has come from ``worker``."""
    import pickle

    buffer = worker.buffer
    while len(buffer) >= _SIZE.size:
        (size,) = _SIZE.unpack_from(buffer)
        if len(buffer) < _SIZE.size + size:
            break
        results = pickle.loads(memoryview(buffer)[_SIZE.size:_SIZE.size + size])
        del buffer[:_SIZE.size + size]
        first, end = worker.held.pop(0)
        yield first, end, results


def _fork(work, items: list, initializer, initargs, inherited: list[int]) -> _Worker | None:
    """A worker process, or None when none can be started."""
    fork = getattr(os, "fork", None)
    if fork is None:
        return None
    tasks_r, tasks_w = os.pipe()
    results_r, results_w = os.pipe()
    try:
        pid = fork()
    except OSError:
        for fd in (tasks_r, tasks_w, results_r, results_w):
            os.close(fd)
        return None
    if pid == 0:  # the worker: it leaves only through os._exit
        status = 1
        try:
            for fd in (tasks_w, results_r, *inherited):  # the parent's, and other workers'
                os.close(fd)
            if initializer is not None:
                initializer(*initargs)
            _serve(work, items, tasks_r, results_w)
            status = 0
        finally:
            os._exit(status)
    os.close(tasks_r)
    os.close(results_w)
    return _Worker(pid, tasks_w, results_r)


def _serve(work, items: list, tasks: int, results: int) -> None:
    """The worker's loop: compute each chunk it is sent until the end of its task pipe."""
    import pickle

    while True:
        task = _read_exact(tasks, _TASK.size)
        if task is None:
            return
        first, end = _TASK.unpack(task)
        data = pickle.dumps([work(items[i]) for i in range(first, end)],
                            protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(results, _SIZE.pack(len(data)))
        _write_all(results, data)


def _read_exact(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            return None
        data += more
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _close(worker: _Worker, kill: bool) -> None:
    for fd in (worker.tasks, worker.results):
        with contextlib.suppress(OSError):
            os.close(fd)
    if kill:
        with contextlib.suppress(OSError):
            os.kill(worker.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(worker.pid, 0)
