"""When lint starts its workers (without ``-j``): ``handing_over`` computes the items in
this process, one by one, and hands the rest to ``_lint_pool.ordered``'s workers once
they are worth their cost in wall time and in CPU time (``worth_workers``). A run that
never hands over imports nothing of the pool."""

from __future__ import annotations

#: What the workers add to a run's wall time (their start, their first images, the
#: results' way back): 10 ms for one worker and one image here; 25 puts the run that
#: workers make sooner between 50 and 150 4 KiB images (bench/throughput.py's small
#: runs).
WORKERS_COST = 0.025
#: What the workers add to a run's CPU time (each one's fork, the copy-on-write faults it
#: takes on the parent's pages, its exit; the parent's reads): about 50 ms over 1,000
#: images here (25 interleaved runs, bench/throughput.py's sets). Workers start only when
#: that is at most ``CPU_SHARE`` of the work left: half a second of it.
WORKERS_CPU = 0.050
CPU_SHARE = 0.10
#: Items computed, or seconds spent on them, before their mean time is trusted (the
#: first of each kind run colder code than those after them).
SAMPLE = 32
#: What an item's time may owe to the imports it made (the first image of a format
#: imports its decoder and parser, the first of all the loaders and the report), not to
#: the item: at most this much is taken off the time of an item that imported modules.
IMPORTS = 0.030


def handing_over(work, items: list, jobs: int, *, initializer=None, initargs=(), died,
                 tick=None):
    """``_lint_pool.ordered``'s results, computed in this process (set up by the caller)
    one by one for as long as workers would not be worth their cost (``worth_workers``);
    the rest by up to ``jobs`` workers. A handful of images never starts a worker, nor
    does a run of a few tenths of a second; a large tree starts them after its first 32
    images (a tree of heavy ones, packages, after its first)."""
    import gc
    import sys
    import time

    tick = tick or (lambda count: None)
    clock = time.perf_counter
    spent = 0.0
    modules = len(sys.modules)
    for done, item in enumerate(items):
        if done and worth_workers(spent, done, len(items) - done, jobs):
            break
        begun = clock()
        result = work(item)
        took = clock() - begun
        if len(sys.modules) != modules:  # its time was partly imports
            took, modules = max(took - IMPORTS, 0.0), len(sys.modules)
        spent += took
        tick(1)
        yield result
    else:
        return
    from validator.commands._lint_pool import ordered  # only now: its imports cost a few ms

    rest = items[done:]
    gc.freeze()  # what this process made so far is shared with the workers, never collected
    yield from ordered(work, rest, min(jobs, len(rest)), initializer=initializer,
                       initargs=initargs, died=died, tick=tick)


def worth_workers(spent: float, done: int, left: int, jobs: int) -> bool:
    """Whether ``left`` items, each taking the mean time of the ``done`` ones (``spent``
    seconds in all, imports taken off), are done sooner by ``jobs`` workers
    (``WORKERS_COST`` and their share of the items each), for at most ``CPU_SHARE``
    more CPU time (``WORKERS_CPU``); never before ``SAMPLE`` items or ``WORKERS_CPU``
    seconds are done."""
    if done < SAMPLE and spent < WORKERS_CPU:
        return False
    each = spent / done
    workers = min(jobs, left)
    here = each * left
    sooner = here - (WORKERS_COST + each * -(-left // workers)) > 0
    return sooner and CPU_SHARE * here >= WORKERS_CPU
