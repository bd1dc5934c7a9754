"""kimage survives anything: a few thousand generated and mutated inputs, CI-sized.

For every input ``checker.check_image`` either returns a result or raises
``InputError``; it never reports ``kimage/internal-error`` (a check that raised), never
takes more than a second of CPU, and memory stays flat: peak RSS of a run over decompression
bombs and thousands of inputs is bounded, and the Python heap does not grow from one
batch of inputs to the next. ``bench/robustness.py`` is the long run (10^6 inputs).
Every input that once crashed or hung kimage is in ``corpus/regressions/`` with the
findings it must get.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings

from corpus.materialise import excerpt_bytes
from tests.conftest import CORPUS, ROOT
from validator import checker, seedcorpus
from validator import strategies as ks
from validator.source import InputError

#: The brief: no single input may take longer than this.
MAX_SECONDS = 1.0
#: A check still running after this is interrupted and reported as a hang.
ALARM = 10.0
REGRESSIONS = CORPUS / "regressions"


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def check(data: bytes, path) -> tuple[list[str], float]:
    """Check ``data``; return its rules and the CPU seconds it took (CPU, not wall time:
    the 2-core CI machine is shared, and a hang is caught by the wall-clock alarm). Fails
    the test, with the input written beside the scratch file, on anything but a result
    or InputError."""
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, ALARM)
    t0 = time.process_time()
    try:
        result = checker.check_image(path, checker.Options())
        rules = [f.rule for f in result.findings]
    except InputError:
        rules = ["<InputError>"]
    except Hang:
        keep = path.with_suffix(".hang")
        keep.write_bytes(data)
        pytest.fail(f"check_image still running after {ALARM} s; input in {keep}")
    except Exception as exc:
        keep = path.with_suffix(".crash")
        keep.write_bytes(data)
        raise AssertionError(f"check_image raised {type(exc).__name__}: {exc}; "
                             f"input in {keep}") from exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.process_time() - t0
    internal = [f for f in result.findings if f.rule == "kimage/internal-error"] \
        if rules != ["<InputError>"] else []
    assert not internal, f"{internal[0].message}; input {data[:64].hex()}"
    return rules, elapsed


def corpus_seeds() -> list[bytes]:
    """The synthetic corpus, the regressions, and the real excerpts' first 256 KiB."""
    seeds = [p.read_bytes() for p in sorted((CORPUS / "synthetic").rglob("*")) if p.is_file()]
    seeds += [p.read_bytes() for p in sorted(REGRESSIONS.glob("*.bin"))]
    for excerpt in sorted((CORPUS / "real").glob("*/image.excerpt.json")):
        seeds.append(excerpt_bytes(excerpt, 256 * 1024))
    return seeds


def inputs(count: int, seed: str):
    """``count`` inputs: fresh samples of every kind, byte mutations of samples and of
    the corpus, and structure-aware mutations (deterministic for ``seed``)."""
    kinds = seedcorpus.available_kinds()
    pool = [seedcorpus.generate(kinds[i % len(kinds)],
                                seedcorpus.RandomChooser(f"{seed}/pool/{i}")).data
            for i in range(len(kinds) * 8)]
    seeds = corpus_seeds()
    yield from pool
    for i in range(count - len(pool)):
        c = seedcorpus.RandomChooser(f"{seed}/{i}")
        base = c.choice(seeds) if i % 3 == 0 else c.choice(pool)
        if i % 10 == 0:
            targets = seedcorpus.image_mutations(base, limit=8 << 20)
            if targets:
                yield seedcorpus.from_image(base, c, targets=targets).data
                continue
        yield seedcorpus.mutate_bytes(c, base, donor=c.choice(pool))


def test_thousands_of_inputs_never_crash_or_hang(tmp_path):
    path = tmp_path / "input"
    slowest = (0.0, b"")
    seen = set()
    n = 0
    for data in inputs(2500, "ci"):
        rules, elapsed = check(data, path)
        seen.update(rules)
        if elapsed > slowest[0]:
            slowest = (elapsed, data)
        n += 1
    assert n == 2500
    assert slowest[0] < MAX_SECONDS, f"{slowest[0]:.2f} s on {slowest[1][:64].hex()}"
    # the inputs reach deep: wrappers, decoders, every format and their failures
    for rule in ("layer/compressed", "layer/zboot", "layer/corrupt", "layer/truncated",
                 "elf/malformed", "arm64/bad-magic", "ppc64/run-at-load-unknown",
                 "uimage/bad-header-crc", "layer/unknown-format", "<InputError>"):
        assert rule in seen, rule


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=ks.mutated())
def test_mutated_strategy_inputs(data, tmp_path_factory):
    check(data, tmp_path_factory.mktemp("m", numbered=True) / "input")


def test_regressions(tmp_path):
    manifest = json.loads((REGRESSIONS / "manifest.json").read_text())
    assert manifest["format"] == "kimage-regressions/1"
    listed = {e["path"] for e in manifest["files"]}
    assert listed == {p.name for p in REGRESSIONS.glob("*.bin")}
    for entry in manifest["files"]:
        data = (REGRESSIONS / entry["path"]).read_bytes()
        rules, elapsed = check(data, tmp_path / "input")
        assert elapsed < MAX_SECONDS, (entry["path"], elapsed)
        assert set(entry["expect"]) <= set(rules), (entry["path"], rules)


MEMORY_PROBE = r"""
import gc, json, sys, tracemalloc
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.test_robustness import inputs
from validator import checker
from validator.source import InputError

path = Path(sys.argv[2])
options = checker.Options()

def hwm_kib():  # this process's peak RSS (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

def run(batch):
    for data in batch:
        path.write_bytes(data)
        try:
            checker.check_image(path, options)
        except InputError:
            pass

run(p.read_bytes() for p in sorted(Path(sys.argv[1], "corpus/regressions").glob("*.bin")))
after_bombs = hwm_kib()
run(inputs(400, "memory"))       # warm: caches, imports, lazily built structs
tracemalloc.start()
run(inputs(400, "memory"))
gc.collect()  # a leak survives a collection; views awaiting the cycle collector do not
first, _ = tracemalloc.get_traced_memory()
run(inputs(400, "memory"))
gc.collect()
second, _ = tracemalloc.get_traced_memory()
print(json.dumps({"hwm_kib": hwm_kib(), "after_bombs_kib": after_bombs,
                  "heap_first": first, "heap_second": second}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_stays_bounded(tmp_path):
    p = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(ROOT), str(tmp_path / "in")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    # decompression bombs of every codec (96-200 MiB of output each) stay far below their
    # output: the decoders keep a bounded window, and the cap stops them
    assert m["after_bombs_kib"] < 128 * 1024, m
    # thousands of hostile inputs later, still bounded (the inputs themselves are up to
    # 1 MiB; an xz header may make liblzma reserve a large dictionary it never touches)
    assert m["hwm_kib"] < 192 * 1024, m
    # no growth from one batch of 400 inputs to the next (a leak would add per input)
    assert m["heap_second"] - m["heap_first"] < 2 * 1024 * 1024, m
