"""The command flow under hostile input: nothing blocks, nothing is lost, one line per error.

FIFOs in a lint tree, a worker process that dies, unwritable fuzz output, -j out of
range, missing paths among several, trees that cannot be walked, dangling and folded
links, and an image on standard input. Every kimage run is a subprocess with a timeout:
a hang is a failure, not a stuck suite.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import CORPUS, ROOT
from validator.report_schema import SCHEMA

ARM64 = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"  # verdict pass
PPC64_CONFIG = ("# Linux/powerpc 6.1.176 Kernel Configuration\nCONFIG_PPC64=y\n"
                "CONFIG_CPU_LITTLE_ENDIAN=y\nCONFIG_RELOCATABLE=y\n")


def kimage(*args, stdin=None, input=None, timeout=60, preexec_fn=None, wrapper=None):
    cmd = [sys.executable, *(["-c", wrapper] if wrapper else ["-m", "validator"]),
           *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=timeout, stdin=stdin,
                          input=input, preexec_fn=preexec_fn)


def one_line(p, needle: str, status: int = 2) -> None:
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def jsonl(p) -> list[dict]:
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def name(image: dict) -> str:
    return image["path"].rsplit("/", 1)[-1]


def rules(image: dict) -> list[str]:
    return [f["rule"] for f in image["findings"]]


# -- FIFOs in a lint tree never block -------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fifos_in_a_lint_tree_are_results_not_hangs(tmp_path, jobs):
    boot = tmp_path / "boot"
    boot.mkdir()
    shutil.copy(ARM64, boot / "vmlinuz-6.1")
    os.mkfifo(boot / "config-6.1")        # must not be paired (nor opened)
    os.mkfifo(boot / "System.map-6.1")
    os.mkfifo(boot / "vmlinuz-fifo")      # named like an image
    os.mkfifo(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", boot / "vmlinuz-via-link")
    os.mkfifo(tmp_path / "given")         # a PATH of the command line
    p = kimage("lint", "--format", "jsonl", "-j", jobs, boot, tmp_path / "given",
               timeout=30)
    assert p.returncode == 1, p.stderr
    images = {name(i): i for i in jsonl(p)}
    assert list(images) == ["vmlinuz-6.1", "vmlinuz-fifo", "vmlinuz-via-link", "given"]
    assert images["vmlinuz-6.1"]["verdict"] == "pass" and rules(images["vmlinuz-6.1"]) == []
    for bad in ("vmlinuz-fifo", "vmlinuz-via-link", "given"):
        assert rules(images[bad]) == ["layer/unreadable"]
        assert "FIFO" in images[bad]["findings"][0]["message"]


# -- a worker that dies loses only its image --------------------------------------------------

#: Runs kimage with check_image replaced, in the worker processes only (the pool forks
#: after the patch, so they inherit it), by one that kills its process on a given name:
#: always (argv[1] == "always") or only the first time (a marker file remembers).
DYING = r"""
import multiprocessing, os, sys
multiprocessing.set_start_method("fork")
from validator import checker
from validator.cli import main
mode, victim, marker = sys.argv[1:4]
real, parent = checker.check_image, os.getpid()
def dying(path, options):
    if os.getpid() != parent and os.path.basename(os.fspath(path)) == victim:
        if mode == "always" or not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
    return real(path, options)
checker.check_image = dying
sys.exit(main(sys.argv[4:]))
"""


def _boot_of(tmp_path, count: int):
    boot = tmp_path / "boot"
    boot.mkdir()
    for i in range(count):
        shutil.copy(ARM64, boot / f"vmlinuz-{i:02d}")
    return boot


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "text"])
def test_a_dead_worker_costs_one_result_not_the_report(tmp_path, fmt):
    boot = _boot_of(tmp_path, 12)
    p = kimage("always", "vmlinuz-05", tmp_path / "marker", "lint", "--format", fmt,
               "-j", "2", boot, wrapper=DYING)
    assert p.returncode == 1 and b"Traceback" not in p.stderr, p.stderr
    out = p.stdout.decode()
    expected = [f"vmlinuz-{i:02d}" for i in range(12)]
    if fmt == "sarif":
        run = json.loads(out)["runs"][0]
        assert [a["location"]["uri"].rsplit("/", 1)[-1] for a in run["artifacts"]] == expected
        assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]
                 ["uri"].rsplit("/", 1)[-1]) for r in run["results"]] == [
            ("kimage/worker-died", "vmlinuz-05")]
        return
    if fmt == "text":
        heads = [line.split(":")[0].rsplit("/", 1)[-1] for line in out.splitlines()
                 if not line.startswith(" ")]
        assert heads == expected
        assert out.count("kimage/worker-died") == 1 and out.count("verdict  pass") == 11
        return
    images = json.loads(out)["images"] if fmt == "json" else jsonl(p)
    assert [name(i) for i in images] == expected
    for image in images:
        want = ["kimage/worker-died"] if name(image) == "vmlinuz-05" else []
        assert rules(image) == want, image


def test_a_worker_that_dies_once_is_retried_and_its_image_gets_a_real_result(tmp_path):
    boot = _boot_of(tmp_path, 12)
    marker = tmp_path / "marker"
    p = kimage("once", "vmlinuz-03", marker, "lint", "--format", "jsonl", "-j", "2", boot,
               wrapper=DYING)
    assert marker.exists()  # it did die once
    assert p.returncode == 0, p.stderr
    images = jsonl(p)
    assert [name(i) for i in images] == [f"vmlinuz-{i:02d}" for i in range(12)]
    assert all(i["verdict"] == "pass" and not i["findings"] for i in images)


# -- fuzz --out that cannot be written ----------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _drop_dac_capabilities():
    """preexec_fn: root keeps its uid but loses, at exec, the capabilities that let it
    read, write and enter any directory, so mode bits apply to it as to anyone."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged():
    """A preexec_fn under which mode-000 directories are closed (None when not root)."""
    if os.geteuid() != 0:
        return None
    try:
        subprocess.run(["true"], preexec_fn=_drop_dac_capabilities, check=True)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("root cannot drop CAP_DAC_OVERRIDE here: mode bits cannot be tested")
    return _drop_dac_capabilities


@pytest.fixture
def shared_tmp(tmp_path):
    """tmp_path, with every directory opened again afterwards (for its removal)."""
    yield str(tmp_path)
    for root, dirs, _ in os.walk(tmp_path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)


@pytest.mark.parametrize("out", ["/proc/kimage-fuzz", "/proc/self"])
def test_fuzz_out_under_proc_is_one_line(out):
    p = kimage("fuzz", "--format", "gzip", "--count", "2", "--out", out)
    one_line(p, "cannot write")


def test_fuzz_out_in_an_unwritable_directory_is_one_line(shared_tmp):
    locked = os.path.join(shared_tmp, "locked")
    os.mkdir(locked, 0o555)
    p = kimage("fuzz", "--format", "gzip", "--count", "2", "--out",
               os.path.join(locked, "seeds"), preexec_fn=_unprivileged())
    one_line(p, "permission denied")
    assert os.listdir(locked) == []


def test_fuzz_force_never_writes_into_a_fifo_or_through_a_link(tmp_path):
    out = tmp_path / "seeds"
    out.mkdir()
    os.mkfifo(out / "manifest.json")
    p = kimage("fuzz", "--format", "gzip", "--count", "1", "--out", out, "--force",
               timeout=30)
    one_line(p, "not a regular file")
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.unlink(out / "manifest.json")
    os.symlink(victim, out / "manifest.json")
    p = kimage("fuzz", "--format", "gzip", "--count", "1", "--out", out, "--force")
    one_line(p, "not a regular file")
    assert victim.read_text() == "keep"


# -- -j --------------------------------------------------------------------------------------

@pytest.mark.parametrize("jobs, needle", [("99999999999999999999", "at most 1024"),
                                          ("-1", "0 (one per CPU) or more"),
                                          ("many", "not a number")])
def test_jobs_out_of_range_is_one_line(tmp_path, jobs, needle):
    shutil.copy(ARM64, tmp_path / "vmlinuz-1")
    p = kimage("lint", "-j", jobs, tmp_path)
    one_line(p, needle)
    assert p.stdout == b""


#: Runs kimage lint recording every process pool's size (argv[1]: CPUs to pin to).
POOLS = r"""
import json, os, sys
cpus = [int(c) for c in sys.argv[1].split(",")]
os.sched_setaffinity(0, cpus)
from validator.commands import _lint_pool
from validator.cli import main
sizes = []
class Recording(_lint_pool.Pool):
    def __init__(self, work, items, jobs, *args, **kw):
        super().__init__(work, items, jobs, *args, **kw)
        sizes.append(len(self.workers))
_lint_pool.Pool = Recording
status = main(sys.argv[2:])
sys.stderr.write(json.dumps(sizes) + "\n")
sys.exit(status)
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_jobs_0_is_the_cpus_capped_at_the_images_and_the_default_waits(tmp_path):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to pin to")
    two = ",".join(map(str, sorted(os.sched_getaffinity(0))[:2]))
    boot = _boot_of(tmp_path, 5)

    def pools(cpus: str, *options) -> list[int]:
        p = kimage(cpus, "lint", "--format", "jsonl", *options, boot, wrapper=POOLS)
        assert p.returncode == 0 and len(jsonl(p)) == 5, p.stderr
        return json.loads(p.stderr.decode().splitlines()[-1])

    assert pools(two, "-j", "0") == [2]       # 0: the CPUs it may run on
    assert pools(two) == []                   # default: five quick images are not worth it
    assert pools(two.split(",")[0], "-j", "0") == []  # one CPU: in this process, no pool
    assert pools(two, "-j", "1000") == [5]    # never more workers than images
    p = kimage(two, "lint", "-j", "8", boot / "vmlinuz-00", wrapper=POOLS)
    assert p.returncode == 0 and json.loads(p.stderr.decode().splitlines()[-1]) == []


#: POOLS, each image taking KIMAGE_TEST_SLOW seconds to check; records (workers, images
#: given to the pool) for each pool.
SLOW_POOLS = POOLS.replace("from validator.cli import main", """from validator.cli import main
import time
from validator import checker
real = checker.check_image
def slow(path, options):
    time.sleep(float(os.environ["KIMAGE_TEST_SLOW"]))
    return real(path, options)
checker.check_image = slow""").replace("sizes.append(len(self.workers))",
                                       "sizes.append([len(self.workers), len(items)])")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_the_default_jobs_start_workers_when_the_images_left_are_worth_them(
        tmp_path, monkeypatch):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to pin to")
    two = ",".join(map(str, sorted(os.sched_getaffinity(0))[:2]))
    monkeypatch.setenv("KIMAGE_TEST_SLOW", "0.15")

    def pools(boot, *options) -> list:
        p = kimage(two, "lint", "--format", "jsonl", *options, boot, wrapper=SLOW_POOLS)
        assert p.returncode == 0, p.stderr
        assert [name(i) for i in jsonl(p)] == sorted(e.name for e in boot.iterdir())
        return json.loads(p.stderr.decode().splitlines()[-1])

    (tmp_path / "eight").mkdir()
    (tmp_path / "two").mkdir()
    eight = _boot_of(tmp_path / "eight", 8)
    # the first image (0.15 s, less at most 0.03 s for its imports) says the seven left
    # take 0.84 s or more here, against 0.025 s and four images' time in two workers,
    # and the workers' 0.05 s of CPU is under a tenth of it
    assert pools(eight) == [[2, 7]]
    assert pools(eight, "-j", "0") == [[2, 8]]  # asked for: workers from the first image
    two_slow = _boot_of(tmp_path / "two", 2)
    assert pools(two_slow) == []  # one image left: a worker would not make it sooner


def test_worth_workers_weighs_the_images_left():
    from validator.commands._lint_handover import worth_workers as _worth_workers

    # nothing known of the images yet (the first one's time was all imports)
    assert not _worth_workers(0.0, 1, 100, 2)
    # 0.1 s each, six left: 0.6 s here, 0.025 + 0.3 s in two workers, and the workers'
    # 0.05 s of CPU is a twelfth of the work
    assert _worth_workers(0.1, 1, 6, 2)
    assert _worth_workers(0.5, 5, 6, 2)
    # four left: sooner (0.4 s against 0.225 s), but 0.05 s more CPU is an eighth of 0.4
    assert not _worth_workers(0.4, 4, 4, 2)
    # one left: a worker takes as long, and costs its start
    assert not _worth_workers(0.4, 4, 1, 2)
    # 1 ms each: 600 left are sooner with workers (0.6 s against 0.325 s) and worth their
    # CPU; 300 left are sooner too (0.3 s against 0.175 s) but not worth 0.05 s of CPU
    assert _worth_workers(0.04, 40, 600, 2)
    assert not _worth_workers(0.04, 40, 300, 2)
    # three images, 3 ms: too few to tell (the first of each kind run cold)
    assert not _worth_workers(0.003, 3, 600, 2)
    # 0.2 ms each (4 KiB Images): 10,000 left are worth it
    assert _worth_workers(0.008, 40, 10_000, 2)


# -- results stream as they finish, in order ---------------------------------------------------

#: Image 00 takes 2 s; the others are instant. Records, at each progress update, how many
#: bytes of report had been written, then prints [[done, written], ...] on stderr.
SLOW_FIRST = r"""
import io, json, multiprocessing, os, sys, time
multiprocessing.set_start_method("fork")
from validator import checker
from validator.commands import lint
from validator.cli import main
real = checker.check_image
def slow(path, options):
    if os.path.basename(os.fspath(path)) == "vmlinuz-00":
        time.sleep(2)
    return real(path, options)
checker.check_image = slow
out = io.StringIO()
log = []
class Bar:
    done = 0
    def update(self, n):
        Bar.done += n
        log.append([Bar.done, len(out.getvalue())])
    def close(self):
        pass
lint._progress = lambda total: Bar()
sys.stdout = out
status = main(sys.argv[1:])
sys.__stdout__.write(out.getvalue())
sys.stderr.write(json.dumps(log) + "\n")
sys.exit(status)
"""


def test_progress_moves_while_the_first_image_is_still_running(tmp_path):
    boot = _boot_of(tmp_path, 40)
    p = kimage("lint", "--format", "jsonl", "-j", "2", boot, wrapper=SLOW_FIRST)
    assert p.returncode == 0, p.stderr
    assert [name(i) for i in jsonl(p)] == [f"vmlinuz-{i:02d}" for i in range(40)]
    log = json.loads(p.stderr.decode().splitlines()[-1])
    assert log[-1][0] == 40
    # the progress counted most images while nothing could be written (00 is first)
    assert max(done for done, written in log if written == 0) >= 20


def test_the_reorder_buffer_is_bounded(tmp_path):
    from validator.commands._lint_pool import ordered

    items = [(str(tmp_path), i) for i in range(60)]
    results = list(ordered(_stamp, items, 2, window=10, died=lambda item: None))
    assert results == list(range(60))
    starts = {int(p.name): p.stat().st_mtime for p in tmp_path.iterdir()}
    first_done = starts[0] + 1.0
    # while item 0 ran, no item beyond the window (10, plus a chunk) was started
    assert max(i for i, t in starts.items() if t < first_done - 0.1) <= 10 + 4


def _stamp(item):
    directory, index = item
    open(os.path.join(directory, str(index)), "w").close()
    if index == 0:
        time.sleep(1.0)
    return index


# -- several paths, one missing: every readable image is reported -------------------------------

@pytest.mark.parametrize("command", ["check", "inspect"])
def test_one_missing_path_among_several(tmp_path, command):
    missing = tmp_path / "missing"
    p = kimage(command, "--format", "json", ARM64, missing, ARM64)
    one_line(p, "no such file")
    images = json.loads(p.stdout)["images"]
    assert [i["path"] for i in images] == [str(ARM64), str(missing), str(ARM64)]
    assert [i["verdict"] for i in images] == ["pass", "fail", "pass"]
    assert rules(images[1]) == ["layer/unreadable"]
    assert images[0]["format"] == "arm64-image"
    p = kimage(command, ARM64, missing)
    one_line(p, "no such file")
    assert p.stdout.decode().count("verdict  pass") == 1
    assert "layer/unreadable" in p.stdout.decode()


def test_unreadable_beats_findings_in_check(tmp_path):
    bad = tmp_path / "not-a-kernel"
    bad.write_bytes(b"\x7fnot a kernel" * 16)
    p = kimage("check", bad, tmp_path / "missing")
    one_line(p, "no such file")
    assert "layer/unknown-format" in p.stdout.decode()


# -- lint: PATHs that cannot be walked, subdirectories that cannot be listed --------------------

def test_lint_on_a_missing_path_is_a_usage_error(tmp_path):
    shutil.copy(ARM64, tmp_path / "vmlinuz-1")
    p = kimage("lint", "--format", "json", tmp_path, tmp_path / "nope")
    one_line(p, "nope: no such file or directory")
    assert p.stdout == b""


def test_lint_on_a_directory_it_cannot_list_is_a_usage_error(shared_tmp):
    locked = os.path.join(shared_tmp, "boot")
    os.mkdir(locked)
    shutil.copy(ARM64, os.path.join(locked, "vmlinuz-1"))
    os.chmod(os.path.join(locked, "vmlinuz-1"), 0o644)
    os.chmod(locked, 0)
    p = kimage("lint", locked, preexec_fn=_unprivileged())
    one_line(p, "cannot list the directory: permission denied")
    assert b"no kernel images" not in p.stdout


def test_lint_reports_a_subdirectory_it_cannot_list(shared_tmp):
    tree = os.path.join(shared_tmp, "tree")
    os.makedirs(os.path.join(tree, "a-private"))
    os.makedirs(os.path.join(tree, "b-public"))
    for where in ("", "a-private", "b-public"):
        target = os.path.join(tree, where, "vmlinuz-1")
        shutil.copy(ARM64, target)
        os.chmod(target, 0o644)
    os.chmod(os.path.join(tree, "b-public"), 0o755)
    os.chmod(tree, 0o755)
    os.chmod(os.path.join(tree, "a-private"), 0)
    p = kimage("lint", "--format", "jsonl", tree, preexec_fn=_unprivileged())
    assert p.returncode == 1, p.stderr
    images = jsonl(p)
    assert [os.path.relpath(i["path"], tree) for i in images] == [
        "vmlinuz-1", "a-private", "b-public/vmlinuz-1"]
    assert rules(images[1]) == ["layer/unreadable"]
    assert "cannot list the directory: permission denied" in images[1]["findings"][0][
        "message"]
    assert images[0]["verdict"] == images[2]["verdict"] == "pass"


# -- links: dangling ones say so, a link to an image is folded into it --------------------------

def test_a_dangling_symlink_says_so(tmp_path):
    os.symlink("vmlinuz-gone", tmp_path / "vmlinuz")
    p = kimage("lint", "--format", "jsonl", tmp_path)
    assert p.returncode == 1
    (image,) = jsonl(p)
    assert rules(image) == ["layer/unreadable"]
    assert image["findings"][0]["message"].endswith("vmlinuz: dangling symlink -> vmlinuz-gone")


def test_a_link_to_an_image_is_checked_once_under_the_versioned_name(tmp_path):
    boot = tmp_path / "boot"
    boot.mkdir()
    shutil.copy(ARM64, boot / "vmlinuz-6.1.0-50-arm64")
    (boot / "config-6.1.0-50-arm64").write_text(PPC64_CONFIG)  # the wrong arch: visible
    os.symlink("vmlinuz-6.1.0-50-arm64", boot / "vmlinuz")
    os.symlink("boot/vmlinuz-6.1.0-50-arm64", tmp_path / "vmlinuz")  # as Debian's /vmlinuz
    p = kimage("lint", "--format", "jsonl", "-j", "1", tmp_path)
    (image,) = jsonl(p)
    assert image["path"] == str(boot / "vmlinuz-6.1.0-50-arm64")
    assert "config/arch-mismatch" in rules(image)  # paired with config-V
    err = p.stderr.decode()
    assert f"{tmp_path / 'vmlinuz'} is the same file as {boot / 'vmlinuz-6.1.0-50-arm64'}" \
        in err and f"{boot / 'vmlinuz'} is the same file as" in err
    # the link alone: reported under its name, paired by its target's name
    p = kimage("lint", "--format", "jsonl", tmp_path / "vmlinuz")
    (image,) = jsonl(p)
    assert image["path"] == str(tmp_path / "vmlinuz")
    assert "config/arch-mismatch" in rules(image)


# -- - : the image on standard input -----------------------------------------------------------

@pytest.mark.parametrize("command", ["check", "inspect"])
def test_an_image_from_a_pipe(command):
    p = kimage(command, "--format", "json", "-", input=ARM64.read_bytes())
    assert p.returncode == 0, p.stderr
    from_pipe = json.loads(p.stdout)["images"][0]
    q = kimage(command, "--format", "json", ARM64)
    from_file = json.loads(q.stdout)["images"][0]
    assert from_pipe["path"] == "-"
    assert from_pipe["format"] == "arm64-image"
    assert {**from_pipe, "path": None} == {**from_file, "path": None}


def test_an_image_redirected_from_a_file_and_a_cut_one():
    with open(ARM64, "rb") as f:
        p = kimage("check", "--format", "json", "-", stdin=f)
    image = json.loads(p.stdout)["images"][0]
    assert p.returncode == 0 and image["path"] == "-" and image["verdict"] == "pass"
    p = kimage("check", "-", input=ARM64.read_bytes()[:10])
    one_line(p, "-: 10 bytes, too short")
    assert "/proc/" not in p.stdout.decode() + p.stderr.decode()


def test_standard_input_refusals():
    primary, secondary = os.openpty()
    try:
        p = kimage("check", "-", stdin=secondary, timeout=30)
    finally:
        os.close(primary)
        os.close(secondary)
    one_line(p, "standard input is a terminal")
    p = kimage("inspect", "-", "-", input=b"")
    one_line(p, "given more than once")
    p = kimage("check", "-", input=ARM64.read_bytes(), wrapper=(
        "import sys; from validator.commands import _stdin; _stdin.MAX_STDIN = 1000; "
        "from validator.cli import main; sys.exit(main(sys.argv[1:]))"))
    one_line(p, "-: more than")


def test_schema_holds_for_unreadable_entries(tmp_path):
    import jsonschema

    p = kimage("inspect", "--format", "json", ARM64, tmp_path)
    jsonschema.validate(json.loads(p.stdout), SCHEMA)
    assert stat.S_ISDIR(os.stat(tmp_path).st_mode) and p.returncode == 2


def test_a_directory_reached_twice_is_walked_once(tmp_path):
    boot = _boot_of(tmp_path, 2)
    os.symlink(boot, tmp_path / "alias")
    p = kimage("lint", "--format", "jsonl", boot, tmp_path / "alias", boot / "vmlinuz-01",
               tmp_path)
    assert p.returncode == 0, p.stderr
    assert [i["path"] for i in jsonl(p)] == [str(boot / "vmlinuz-00"),
                                             str(boot / "vmlinuz-01")]
    assert p.stderr.decode().strip() == (
        f"kimage lint: {tmp_path / 'alias'} is the same directory as {boot}: walked once")


def test_when_no_worker_can_start_the_images_are_checked_here(tmp_path, monkeypatch):
    from validator.commands import _lint_pool

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    set_up = []
    monkeypatch.setattr(os, "fork", no_fork)
    assert list(_lint_pool.ordered(_square, list(range(30)), 2, died=lambda i: None,
                                   initializer=set_up.append, initargs=("once",))) == [
        i * i for i in range(30)]
    assert set_up == ["once"]  # this process was set up as a worker is, once


def test_lint_checks_here_when_no_worker_can_start(tmp_path):
    """The run, not just the pool: with fork failing, lint -j 2 reports every image, as
    -j 1 does (the images are checked in lint's own process, set up as a worker)."""
    boot = _boot_of(tmp_path, 6)
    wrapper = ("import os, sys\n"
               "def no_fork():\n"
               "    raise BlockingIOError(11, 'Resource temporarily unavailable')\n"
               "os.fork = no_fork\n"
               "from validator.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")
    p = kimage("lint", "--format", "jsonl", "-j", "2", boot, wrapper=wrapper)
    assert p.returncode == 0 and b"Traceback" not in p.stderr, p.stderr
    assert [name(i) for i in jsonl(p)] == [f"vmlinuz-{i:02d}" for i in range(6)]


def _square(i):
    return i * i


def test_an_exception_while_checking_one_image_is_that_image_s_result(tmp_path, monkeypatch,
                                                                       capsys):
    from validator import checker, cli

    boot = _boot_of(tmp_path, 3)
    real = checker.check_image

    def raising(path, options):
        if os.path.basename(os.fspath(path)) == "vmlinuz-01":
            raise ValueError("a bug")
        return real(path, options)

    monkeypatch.setattr(checker, "check_image", raising)
    assert cli.main(["lint", "--format", "json", "-j", "1", str(boot)]) == 1
    images = json.loads(capsys.readouterr().out)["images"]
    assert [rules(i) for i in images] == [[], ["kimage/internal-error"], []]
    assert "ValueError: a bug" in images[1]["findings"][0]["message"]


def test_a_worker_killed_while_idle_is_replaced():
    """A worker killed between chunks (the out-of-memory killer picks an idle process
    too): the chunk sent to it finds its pipe closed (EPIPE), goes to a live worker, and
    a new worker takes the dead one's place."""
    import signal

    from validator.commands._lint_pool import Pool

    pool = Pool(_square, list(range(10)), 2)
    try:
        victim = pool.workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while os.waitid(os.P_PID, victim.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert pool.send(0, 5) and pool.send(5, 10)
        done = []
        while pool.busy():
            done += pool.wait()
        assert sorted(done) == [(0, 5, [0, 1, 4, 9, 16]), (5, 10, [25, 36, 49, 64, 81])]
        assert victim not in pool.workers and len(pool.workers) == 2
    finally:
        pool.close()
