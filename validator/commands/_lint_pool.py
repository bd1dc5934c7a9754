"""Check many images in worker processes; results come back in order, as they finish.

``ordered(work, items, jobs, ...)`` yields ``work(item)`` for every item, in the order
of ``items``, while up to ``jobs`` processes compute them:

* items go out in chunks of at most ``CHUNK`` images (fewer when there are few: each
  worker gets eight chunks or more), at most two chunks per worker at a time, and never
  more than ``window`` items ahead of the first result not yet yielded: the results
  that finished early wait in a reorder buffer of at most ``window`` entries, so memory
  stays flat however many images there are, and ``tick(n)`` is called as soon as n
  images are done (the progress bar moves);
* a worker that dies (a crash, a signal, the out-of-memory killer) breaks the pool and
  with it every chunk in flight. The pool is replaced and each image of those chunks is
  checked again, alone, in a worker of its own (one at a time, so a death names its
  image); an image whose own worker dies again gets ``died(item)`` — the others get
  their real results, and the run goes on with a fresh pool;
* when no worker process can be started (fork fails: EAGAIN, ENOMEM), the items are
  computed in this process instead.

Workers are forked where the platform can (what this process imported, they have), and
a chunk's results come back in one pickle: a chunk costs the parent and the worker a
few hundred microseconds whatever its size, so a chunk holds many small images (at 128
images a chunk, two workers over 10,000 small images take 5-9 % more CPU than one
process; at 32, 13-16 %: the parent's share halves, bench/throughput.py).
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

CHUNK = 128


def _run_chunk(work, chunk):
    return [work(item) for item in chunk]


def ordered(work, items: list, jobs: int, *, initializer=None, initargs=(), died,
            tick=None, window: int | None = None):
    n = len(items)
    chunk = max(1, min(CHUNK, n // (jobs * 8)))
    window = window or max(64, jobs * chunk * 4)
    tick = tick or (lambda count: None)
    context = _fork()

    def new_pool(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=initializer, initargs=initargs)

    ready: dict[int, object] = {}
    emitted = submitted = 0
    pending: dict = {}  # future -> (first index, end index)
    pool = new_pool(jobs)
    try:
        while emitted < n:
            broken = False
            while (submitted < n and len(pending) < 2 * jobs
                   and submitted < emitted + window):
                end = min(n, submitted + chunk)
                try:
                    future = pool.submit(_run_chunk, work, items[submitted:end])
                except BrokenProcessPool:  # a worker died since the last wait: not sent
                    broken = True
                    break
                except OSError:  # no process can be started (EAGAIN): do it here
                    ready.update(zip(range(submitted, end),
                                     _run_chunk(work, items[submitted:end]), strict=True))
                    tick(end - submitted)
                else:
                    pending[future] = (submitted, end)
                submitted = end
            # a broken pool fails every future it holds: wait for all of them
            done = (wait(pending, return_when="ALL_COMPLETED" if broken else FIRST_COMPLETED)[0]
                    if pending else set())
            suspects: list[int] = []
            for future in done:
                first, end = pending.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    suspects.extend(range(first, end))
                    continue
                ready.update(zip(range(first, end), results, strict=True))
                tick(end - first)
            if suspects or broken:
                for future, (first, end) in pending.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        ready.update(zip(range(first, end), future.result(), strict=True))
                        tick(end - first)
                    else:
                        suspects.extend(range(first, end))
                pending.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                for index, result in _isolated(work, items, sorted(suspects), new_pool,
                                               died):
                    ready[index] = result
                    tick(1)
                pool = new_pool(jobs)
            while emitted in ready:
                yield ready.pop(emitted)
                emitted += 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _isolated(work, items: list, indices: list[int], new_pool, died):
    """Each item alone in a one-worker pool; a new pool after each death."""
    pool = None
    try:
        for index in indices:
            if pool is None:
                pool = new_pool(1)
            try:
                (result,) = pool.submit(_run_chunk, work, [items[index]]).result()
            except OSError:  # no process can be started: here, then
                result = work(items[index])
            except BrokenProcessPool:
                pool.shutdown(wait=True)
                pool = None
                result = died(items[index])
            yield index, result
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _fork():
    """The fork start method where there is one (Python 3.14 makes forkserver the default
    on Linux: each worker would import kimage again), else the platform's default."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None
