"""Shared by kimage's atheris harnesses: instrumentation, a scratch file, and a
plain-Python driver for machines without atheris.

Under atheris (``pip install 'kimage[fuzz]'``; OSS-Fuzz and ClusterFuzzLite build with
it) ``main`` hands the harness to libFuzzer with the usual flags (``-max_total_time``,
``-runs``, corpus directories, ``-dict``). Without atheris, or with
``KIMAGE_FUZZ_FALLBACK=1``, the fallback driver takes the same flags it understands
(``-max_total_time=S``, ``-runs=N``, ``-seed=S``, ``-timeout=S``, ``-artifact_prefix=P``,
corpus directories; and ``-seed_inputs=N``, how many inputs to generate, default 200),
feeds the corpus and a ``kimage fuzz``-style seed corpus, then
AFL-style mutations of both (``validator.seedcorpus.mutate_bytes``), and stops at the
first exception, writing the input to ``<artifact_prefix>crash-<sha1>`` as libFuzzer
does.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import signal
import sys
import tempfile
import time
import traceback

try:  # pragma: no cover - depends on the machine
    import atheris
except ImportError:  # atheris builds only where libFuzzer does (x86_64 Linux and macOS)
    atheris = None


@contextlib.contextmanager
def instrumented():
    """``with fuzzlib.instrumented(): import ...``: coverage for the code under test.

    kimage imports much of itself lazily (each layer when its magic is seen, the rule
    modules on the first check, pefile and pyelftools when a PE or ELF layer is there);
    a module imported after this block would run uninstrumented, so every module of the
    check path is imported here, inside it."""
    if atheris is None or _fallback_requested():
        yield
        return
    with atheris.instrument_imports(include=["validator", "construct", "kaitaistruct",
                                             "elftools", "pefile"]):
        preload()
        yield


def preload() -> None:
    """Import every module the check path may import lazily."""
    import importlib
    import pkgutil

    import validator

    skip = ("validator.strategies", "validator.seedcorpus", "validator.commands",
            "validator.cli", "validator.__main__")
    for info in pkgutil.walk_packages(validator.__path__, "validator."):
        if not info.name.startswith(skip):
            importlib.import_module(info.name)
    for name in ("elftools.elf.structs", "pefile"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from validator.rules.registry import load_all

    load_all()


def _fallback_requested() -> bool:
    return os.environ.get("KIMAGE_FUZZ_FALLBACK") == "1"


class Scratch:
    """One file, rewritten for every input (on tmpfs where there is one): the check path
    reads images from paths. On Linux the file is unlinked at once and reached through
    /proc/self/fd, so nothing is left behind however the fuzzer exits (libFuzzer leaves
    through C exit(), past Python's atexit)."""

    def __init__(self):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.fd, name = tempfile.mkstemp(prefix="kimage-fuzz-", dir=base)
        if os.path.exists(f"/proc/self/fd/{self.fd}"):
            os.unlink(name)
            self.path = f"/proc/self/fd/{self.fd}"
        else:
            self.path = name
            atexit.register(self.remove)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def write(self, data: bytes) -> str:
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        return self.path


def main(test_one_input, seeds: tuple[str, ...]) -> None:
    """Run ``test_one_input`` under atheris, or under the fallback driver."""
    if atheris is not None and not _fallback_requested():
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
    else:
        sys.exit(fallback(test_one_input, seeds, sys.argv[1:]))


def fallback(test_one_input, seeds: tuple[str, ...], argv: list[str]) -> int:
    from validator import seedcorpus

    flags = {"max_total_time": "0", "runs": "-1", "seed": "0", "timeout": "25",
             "artifact_prefix": "./", "seed_inputs": "200"}
    dirs = []
    for arg in argv:
        if arg.startswith("-") and "=" in arg:
            key, value = arg[1:].split("=", 1)
            flags[key] = value
        elif not arg.startswith("-"):
            dirs.append(arg)
    budget = float(flags["max_total_time"]) or float("inf")
    runs = int(flags["runs"])
    timeout = float(flags["timeout"])
    corpus = []
    for d in dirs:
        paths = ([os.path.join(d, n) for n in sorted(os.listdir(d))] if os.path.isdir(d)
                 else [d])
        for path in paths:
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    corpus.append(f.read())
    c = seedcorpus.RandomChooser(f"kimage-fallback/{flags['seed']}")
    kinds = [k for k in seeds if k in seedcorpus.available_kinds()] or ["all"]
    corpus += [seedcorpus.generate(kinds[i % len(kinds)], c).data
               for i in range(int(flags["seed_inputs"]))]

    def inputs():
        yield from corpus
        while True:
            yield seedcorpus.mutate_bytes(c, c.choice(corpus), donor=c.choice(corpus))

    def alarm(signum, frame):
        raise TimeoutError(f"one input took more than {timeout} s")

    signal.signal(signal.SIGALRM, alarm)
    start = time.monotonic()
    done = 0
    print(f"INFO: fallback driver (no atheris): {len(corpus)} seed inputs, "
          f"max_total_time={flags['max_total_time']}, runs={runs}", file=sys.stderr)
    for data in inputs():
        if (runs >= 0 and done >= runs) or time.monotonic() - start > budget:
            break
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            test_one_input(data)
        except BaseException:
            signal.setitimer(signal.ITIMER_REAL, 0)
            name = f"{flags['artifact_prefix']}crash-{hashlib.sha1(data).hexdigest()}"
            with open(name, "wb") as f:
                f.write(data)
            traceback.print_exc()
            print(f"==ERROR: uncaught exception after {done} inputs; input written to "
                  f"{name}", file=sys.stderr)
            return 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        done += 1
        if done % 10000 == 0:
            print(f"#{done}\t{done / (time.monotonic() - start):.0f} exec/s", file=sys.stderr)
    print(f"Done {done} runs in {time.monotonic() - start:.0f} second(s), no crash",
          file=sys.stderr)
    return 0
