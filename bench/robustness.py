#!/usr/bin/env python3
"""The long robustness run: ``checker.check_image`` on 10^6 generated and mutated inputs.

    python bench/robustness.py [--inputs 1000000] [--workers 2] [--seed 0]
                               [--regressions DIR] [--json FILE]

Inputs come from ``validator.seedcorpus``: valid and near-valid images of every kind
(arm64 Image of each era, ppc64 heads, vmlinux ELF, EFI stub, zboot, every codec, uImage,
Android boot), the bundled corpus (synthetic headers, real-kernel excerpts cut to their
first 256 KiB), and AFL-style byte mutations of all of these. Every input is checked
with a 1 s budget: an exception other than ``InputError`` or a ``kimage/internal-error``
finding counts as an exception, a check taking more than ``--hang-seconds`` of CPU (or
still running after 10 s of wall time) as a hang; each
is written to ``--regressions`` (default build/robustness/) for ``corpus/regressions/``.
Prints inputs, exceptions, hangs and peak RSS (the largest worker's ru_maxrss).
Deterministic for a seed: input i is the same on every run.

Each worker checks inputs that a generator process of its own makes and sends through a
pipe (its buffer bounds what waits), so a worker's RSS is kimage's: the generator's
imports, sample pool and compressors are not in it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from validator.source import InputError  # noqa: E402

POOL = 600  # base samples a worker generates once and mutates from then on
FRESH = 0.03  # share of inputs generated from scratch (compression is slow)
CORPUS_SHARE = 0.2  # share of mutations whose base is a corpus file
ALARM = 10.0  # a check still running after this is interrupted (and counted as a hang)


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def corpus_files() -> list[bytes]:
    """The bundled corpus: synthetic files and the real excerpts' first 256 KiB."""
    out = [p.read_bytes() for p in sorted((ROOT / "corpus/synthetic").rglob("*"))
           if p.is_file()]
    reg = ROOT / "corpus/regressions"
    if reg.is_dir():
        out += [p.read_bytes() for p in sorted(reg.iterdir())
                if p.is_file() and p.suffix == ".bin"]
    sys.path.insert(0, str(ROOT / "corpus"))
    from materialise import excerpt_bytes, excerpts

    for excerpt in excerpts():
        out.append(excerpt_bytes(excerpt, 256 * 1024))
    return out


def make_input(i: int, seed: str, pool: list[bytes], corpus: list[bytes]) -> bytes:
    from validator import seedcorpus

    c = seedcorpus.RandomChooser(f"kimage-robustness/{seed}/{i}")
    r = c.rng.random()
    kinds = seedcorpus.available_kinds()
    if r < FRESH:
        return seedcorpus.generate(c.choice(kinds), c).data
    base = c.choice(corpus) if r < FRESH + CORPUS_SHARE else c.choice(pool)
    if c.integer(0, 9) == 0:  # a structure-aware mutation first, when one applies
        targets = seedcorpus.image_mutations(base, limit=8 << 20)
        if targets:
            base = seedcorpus.from_image(base, c, targets=targets).data
    return seedcorpus.mutate_bytes(c, base, donor=c.choice(pool))


def build_pool(seed: str) -> list[bytes]:
    from validator import seedcorpus

    kinds = seedcorpus.available_kinds()
    pool = []
    for i in range(POOL):
        c = seedcorpus.RandomChooser(f"kimage-robustness-pool/{seed}/{i}")
        pool.append(seedcorpus.generate(kinds[i % len(kinds)], c).data)
    return pool


def generator(index: int, workers: int, args, conn) -> None:
    """Make this worker's inputs and send ``(i, data, error)`` down ``conn``; None last."""
    pool = build_pool(args.seed)
    corpus = corpus_files()
    for i in range(index, args.inputs, workers):
        try:
            conn.send((i, make_input(i, args.seed, pool, corpus), None))
        except (BrokenPipeError, EOFError):
            return  # the worker stopped
        except Exception as exc:  # a bug in the generator, not in kimage: note, go on
            conn.send((i, None, f"{type(exc).__name__}: {exc}"))
    conn.send(None)
    conn.close()


def _inputs(index: int, workers: int, args):
    """(i, data, error) from a generator process of this worker's own, forked now."""
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=generator, args=(index, workers, args, send), daemon=True)
    proc.start()
    send.close()
    return _received(proc, receive)


def _received(proc, receive):
    try:
        while True:
            try:
                item = receive.recv()
            except EOFError:
                return
            if item is None:
                return
            yield item
    finally:
        receive.close()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()


def worker(index: int, workers: int, args, progress, results) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    inputs = _inputs(index, workers, args)  # forked before kimage is imported
    from validator import checker

    options = checker.Options()
    path = Path(args.scratch) / f"input-{os.getpid()}"
    out = Path(args.regressions)
    stats = {"inputs": 0, "input_errors": 0, "exceptions": 0, "internal_errors": 0,
             "hangs": 0, "max_seconds": 0.0, "max_wall_seconds": 0.0, "slowest": None,
             "first_rss_kib": None, "findings": 0, "generator_errors": 0}
    problems: list[dict] = []
    start = time.monotonic()
    for i, data, error in inputs:
        if error is not None:
            stats["generator_errors"] += 1
            if len(problems) < 200:
                problems.append({"kind": "generator", "input": i, "sha256": "-", "size": 0,
                                 "seconds": 0, "message": error})
            continue
        path.write_bytes(data)
        problem = None
        t0 = time.perf_counter()
        c0 = time.process_time()
        signal.setitimer(signal.ITIMER_REAL, ALARM)
        try:
            result = checker.check_image(path, options)
            rules = [f.rule for f in result.findings]
            stats["findings"] += len(rules)
            if "kimage/internal-error" in rules:
                stats["internal_errors"] += 1
                msg = next(f.message for f in result.findings
                           if f.rule == "kimage/internal-error")
                problem = {"kind": "internal-error", "message": msg}
        except InputError:
            stats["input_errors"] += 1
        except Hang:
            problem = {"kind": "hang", "message": f"interrupted after {ALARM} s"}
        except Exception as exc:  # the thing this run looks for
            stats["exceptions"] += 1
            problem = {"kind": "exception", "message": f"{type(exc).__name__}: {exc}",
                       "traceback": traceback.format_exc(limit=-6)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.process_time() - c0  # CPU: the machine may be shared
        stats["max_wall_seconds"] = max(stats["max_wall_seconds"], time.perf_counter() - t0)
        if elapsed > stats["max_seconds"]:
            stats["max_seconds"] = elapsed
            stats["slowest"] = i
        if elapsed > args.hang_seconds and (problem is None or problem["kind"] != "hang"):
            problem = problem or {"kind": "hang", "message": f"{elapsed:.2f} s of CPU"}
        if problem is not None:
            if problem["kind"] == "hang":
                stats["hangs"] += 1
            digest = hashlib.sha256(data).hexdigest()[:16]
            problem.update({"input": i, "sha256": digest, "seconds": round(elapsed, 3),
                            "size": len(data)})
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{problem['kind']}-{digest}.bin").write_bytes(data)
            if len(problems) < 200:
                problems.append(problem)
        stats["inputs"] += 1
        if stats["inputs"] == 1000:
            stats["first_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if stats["inputs"] % 500 == 0:
            progress[index] = stats["inputs"]
        if stats["inputs"] % 10000 == 0:  # interim totals, for a run that is stopped
            stats["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            stats["seconds"] = round(time.monotonic() - start, 1)
            results.put(("progress", index, dict(stats), list(problems)))
    path.unlink(missing_ok=True)
    stats["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats["seconds"] = round(time.monotonic() - start, 1)
    progress[index] = stats["inputs"]
    results.put(("done", index, stats, problems))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", default="0")
    ap.add_argument("--hang-seconds", type=float, default=1.0)
    ap.add_argument("--regressions", default=str(ROOT / "build/robustness"))
    ap.add_argument("--scratch", default="/dev/shm" if os.path.isdir("/dev/shm") else "/tmp")
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args()

    Path(args.scratch).mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("fork")
    progress = ctx.Array("q", args.workers)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(w, args.workers, args, progress, results))
             for w in range(args.workers)]
    start = time.monotonic()
    for p in procs:
        p.start()
    collected = {}  # worker -> (stats, problems), interim until it is done
    done: set[int] = set()
    stopped = []
    signal.signal(signal.SIGTERM, lambda *a: stopped.append(True))
    last = 0.0
    while len(done) < len(procs) and not stopped:
        try:
            what, index, stats, problems = results.get(timeout=5)
            collected[index] = (stats, problems)
            if what == "done":
                done.add(index)
        except KeyboardInterrupt:
            stopped.append(True)
        except Exception:
            pass
        now = time.monotonic()
        if now - last > 30:
            count = sum(progress[:])
            rate = count / max(now - start, 1e-9)
            print(f"[{now - start:7.0f} s] {count} inputs, {rate:.0f}/s", file=sys.stderr,
                  flush=True)
            last = now
        dead = [p for i, p in enumerate(procs) if not p.is_alive() and i not in done]
        if dead and results.empty():
            time.sleep(2)
            if results.empty():
                for p in dead:
                    print(f"worker {p.pid} died with exit code {p.exitcode}", file=sys.stderr)
                break
    for p in procs:
        if stopped:
            p.terminate()
        p.join(timeout=10)
    if not collected:
        print("no results", file=sys.stderr)
        return 1
    totals = {k: sum(s[k] for s, _ in collected.values())
              for k in ("inputs", "input_errors", "exceptions", "internal_errors", "hangs",
                        "findings", "generator_errors")}
    summary = {
        **totals,
        "workers": args.workers,
        "seed": args.seed,
        "max_seconds_one_input": round(max(s["max_seconds"] for s, _ in collected.values()),
                                       3),
        "max_wall_seconds_one_input": round(max(s.get("max_wall_seconds", 0)
                                                for s, _ in collected.values()), 3),
        "peak_rss_mib": round(max(s["peak_rss_kib"] for s, _ in collected.values()) / 1024,
                              1),
        "rss_after_1000_mib": round(max((s["first_rss_kib"] or 0)
                                        for s, _ in collected.values()) / 1024, 1),
        "wall_seconds": round(time.monotonic() - start, 1),
        "problems": [p for _, ps in collected.values() for p in ps][:50],
    }
    summary["inputs_per_second"] = round(summary["inputs"] / max(summary["wall_seconds"], 1))
    if stopped:
        print("stopped early: interim totals (workers report every 10000 inputs)")
    print(f"inputs            {summary['inputs']}")
    print(f"input errors      {summary['input_errors']}  (InputError: shorter than a header)")
    print(f"exceptions        {summary['exceptions'] + summary['internal_errors']}  "
          f"({summary['exceptions']} raised, {summary['internal_errors']} internal-error "
          f"findings)")
    print(f"hangs (> {args.hang_seconds} s)    {summary['hangs']}")
    if summary["generator_errors"]:
        print(f"generator errors  {summary['generator_errors']}  (bugs in the input "
              f"generator, not in kimage)")
    print(f"slowest input     {summary['max_seconds_one_input']} s of CPU "
          f"({summary['max_wall_seconds_one_input']} s wall)")
    print(f"peak RSS          {summary['peak_rss_mib']} MiB per worker "
          f"({summary['rss_after_1000_mib']} MiB after the first 1000 inputs)")
    print(f"wall time         {summary['wall_seconds']} s on {args.workers} workers "
          f"({summary['inputs_per_second']} inputs/s)")
    for p in summary["problems"][:10]:
        print(f"  {p['kind']}: input {p['input']} ({p['size']} bytes, {p['sha256']}): "
              f"{p['message'][:160]}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    bad = summary["exceptions"] + summary["internal_errors"] + summary["hangs"]
    return 1 if bad or summary["inputs"] < args.inputs else 0


if __name__ == "__main__":
    raise SystemExit(main())
