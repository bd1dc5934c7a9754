"""What lint's speed-ups must not change: the report, whatever the number of workers, the
order of the images or the state one image leaves to the next; and the bytes a check reads.

Speed itself is measured in bench/ (``python -m bench.run --only throughput``), never here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, ROOT
from validator import seedcorpus

SYNTHETIC = sorted(p for p in (CORPUS / "synthetic").glob("*/*") if p.is_file())
#: Wrapped images: a gzip Image, two zboot payloads (gzip, zstd), a Debian package.
WRAPPED = [CORPUS / "kernels/arm64-4k-le-efi/Image.gz",
           CORPUS / "kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi",
           CORPUS / "kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi",
           CORPUS / "kernels/arm64-4k-le-efi/linux-image-6.1.176-tiny_6.1.176-1_arm64.deb"]


def kimage(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A /boot-like tree of every synthetic image, the wrapped ones, a config beside one
    of them, a file that is no kernel and one too short: enough images that the workers
    get chunks of several."""
    boot = tmp_path_factory.mktemp("lint") / "boot"
    boot.mkdir()
    for i, path in enumerate(SYNTHETIC + WRAPPED):
        name = path.name if path.suffix == ".deb" else f"vmlinuz-{i:03d}-{path.name}"
        shutil.copy(path, boot / name)
    shutil.copy(CORPUS / "kernels/arm64-4k-le-efi/config",
                boot / f"config-000-{SYNTHETIC[0].name}")
    (boot / "vmlinuz-900-text").write_bytes(b"no kernel here\n" * 100)
    (boot / "vmlinuz-901-short").write_bytes(b"\x00" * 16)
    return boot


def test_the_tree_gives_the_workers_chunks_of_several(tree):
    from validator.commands._lint_pool import CHUNK

    images = len(list(tree.glob("vmlinuz-*"))) + len(list(tree.glob("*.deb")))
    assert images // (2 * 8) >= 2 and CHUNK >= 2  # -j 2 sends chunks of 2 or more


@pytest.mark.parametrize("options", [("--format", "text"), ("--format", "jsonl"),
                                     ("--format", "json"), ("--format", "sarif"),
                                     ("--format", "junit")],
                         ids=lambda o: " ".join(o))
def test_one_and_two_workers_write_the_same_report(tree, options):
    one = kimage("lint", "-j", "1", *options, tree)
    two = kimage("lint", "-j", "2", *options, tree)
    assert one.returncode == 1 and b"Traceback" not in one.stderr, one.stderr
    assert two.returncode == one.returncode, two.stderr
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_one_and_two_workers_write_the_same_colours(tree):
    outs = []
    for jobs in ("1", "2"):
        master, slave = os.openpty()
        p = subprocess.Popen([sys.executable, "-m", "validator", "lint", "-j", jobs, tree],
                             cwd=ROOT, stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        try:
            while True:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # EIO: the terminal's other end is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(master)
            p.wait(timeout=120)
        outs.append(b"".join(chunks))
    assert b"\x1b[31m" in outs[0] and b"verdict" in outs[0]  # red: an error, coloured
    assert outs[1] == outs[0]


def test_one_and_two_workers_agree_through_a_baseline(tree, tmp_path):
    """A baseline takes findings out in the parent: the workers send results, not text."""
    base = tmp_path / "baseline.json"
    written = kimage("lint", "-j", "1", "--write-baseline", base, tree)
    assert written.returncode == 0 and base.is_file(), written.stderr
    # drop the baseline's entries of one error: those findings come back
    doc = json.loads(base.read_text())
    doc["findings"] = [e for e in doc["findings"] if e["rule"] != "layer/unknown-format"]
    base.write_text(json.dumps(doc))
    one = kimage("lint", "-j", "1", "--baseline", base, tree)
    two = kimage("lint", "-j", "2", "--baseline", base, tree)
    assert one.returncode == 1, one.stderr
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr)


def test_an_image_in_a_run_is_judged_as_it_is_alone(tree):
    """What lint works out once per run (loader tables, builds by architecture, the
    registry) gives each image what a fresh process checking it alone gives."""
    p = kimage("lint", "-j", "1", "--format", "jsonl", tree)
    in_run = {os.path.basename(i["path"]): i for i in map(json.loads, p.stdout.splitlines())}
    picked = [n for n in sorted(in_run) if n.endswith((".gz", ".efi", ".deb"))]
    picked += [n for n in sorted(in_run) if "ppc64" in in_run[n]["format"]][:2]
    picked += [n for n in sorted(in_run) if in_run[n]["format"] == "arm64-image"][-2:]
    assert len(picked) >= 8, sorted(in_run)
    for name in picked:
        alone = kimage("check", "--format", "json", tree / name)
        (image,) = json.loads(alone.stdout)["images"]
        assert image == in_run[name], name


def test_images_of_three_architectures_in_one_run_are_judged_as_each_alone(tmp_path):
    """The loaders' halves (x86, riscv) are asked once per image whether they judge it
    (``loaders.per_image``): an x86 or riscv64 image after an arm64 one, and back, is
    still judged as it is alone."""
    from validator.formats.riscv64_image.samples import riscv_image, riscv_params
    from validator.formats.sampling import RandomChooser
    from validator.formats.x86_bzimage.samples import x86_image, x86_params

    arm64 = CORPUS / "kernels/arm64-4k-le-efi/Image.gz"
    images = {"vmlinuz-1-arm64": arm64.read_bytes(),
              "vmlinuz-2-x86": x86_image(x86_params(seedcorpus.RandomChooser(5), 0x020F)),
              "vmlinuz-3-riscv": riscv_image(riscv_params(RandomChooser(7))),
              "vmlinuz-4-arm64": arm64.read_bytes(),
              "vmlinuz-5-x86": x86_image(x86_params(seedcorpus.RandomChooser(6), 0x020C))}
    for name, data in images.items():
        (tmp_path / name).write_bytes(data)
    p = kimage("lint", "-j", "1", "--format", "jsonl", tmp_path)
    in_run = {os.path.basename(i["path"]): i for i in map(json.loads, p.stdout.splitlines())}
    formats = {name: in_run[name]["format"] for name in images}
    assert formats == {"vmlinuz-1-arm64": "arm64-image", "vmlinuz-2-x86": "x86-bzimage",
                       "vmlinuz-3-riscv": "riscv64-image", "vmlinuz-4-arm64": "arm64-image",
                       "vmlinuz-5-x86": "x86-bzimage"}
    for name in images:
        alone = kimage("check", "--format", "json", tmp_path / name)
        (image,) = json.loads(alone.stdout)["images"]
        assert image == in_run[name], name


def test_a_per_image_answer_is_worked_out_once_an_image():
    from validator import loaders
    from validator.pipeline import analyse
    from validator.rules.engine import Context

    asked = []

    def question(ctx):
        asked.append(ctx.result.path)
        return ctx.result.format

    once = loaders.per_image(question)
    first, second = (analyse(CORPUS / "synthetic/ppc64" / name)
                     for name in sorted(os.listdir(CORPUS / "synthetic/ppc64"))[:2])
    for result in (first, second):
        judging = loaders._Judging(Context(result))
        assert [once(judging) for _ in range(3)] == [result.format] * 3
    assert asked == [first.path, second.path]
    plain = Context(first)  # outside judging: asked every time
    once(plain), once(plain)
    assert asked[2:] == [first.path, first.path]


@pytest.mark.parametrize("image", [CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img",
                                   CORPUS / "synthetic/ppc64/fixup_endian_long-be-run0.head",
                                   CORPUS / "kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi"])
def test_fields_are_worked_out_only_when_shown_and_change_nothing_else(image, monkeypatch):
    """The header's fields are for display: without them (``fields=False``, what lint and
    check do unless the report is JSON) the result is the same, and the decoders' field
    lists are not even made."""
    from validator import model
    from validator.pipeline import analyse
    from validator.report import to_dict

    def image_dict(result):
        (image,) = to_dict([result])["images"]
        return image

    shown = analyse(image)
    assert shown.fields and all(isinstance(f, model.Field) for f in shown.fields)

    def unasked(*args, **kwargs):
        raise AssertionError("fields worked out, not shown")

    for module in ("arm64_image", "ppc64_head", "riscv64_image", "x86_bzimage"):
        monkeypatch.setattr(f"validator.formats.{module}.decoder._fields", unasked)
    hidden = analyse(image, fields=False)
    assert hidden.fields == []
    assert {**image_dict(hidden), "fields": None} == {**image_dict(shown), "fields": None}
    with pytest.raises(AssertionError, match="not shown"):
        analyse(image)


# -- reads ----------------------------------------------------------------------------------

def test_head_reads_are_the_files_bytes_and_are_counted(tmp_path):
    from validator.io.source import Source

    data = os.urandom(3 * Source.HEAD)
    path = tmp_path / "f"
    path.write_bytes(data)
    asked = 0
    with Source(path) as src:
        for offset, length in [(0, 64), (0x38, 4), (Source.HEAD - 8, 8), (Source.HEAD - 8, 16),
                               (Source.HEAD, 32), (100, 2 * Source.HEAD), (len(data) - 5, 50),
                               (0, 0), (len(data), 4), (7, 1)]:
            got = src.read(offset, length)
            assert got == data[offset:offset + length] if length > 0 else got == b""
            asked += len(got)
        assert src.bytes_read == asked


def test_a_file_shorter_than_the_head_reads_to_its_end(tmp_path):
    from validator.io.source import Source

    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with Source(path) as src:
        assert src.read(8, 100) == b"89" and src.read(0, 4) == b"0123"
        assert src.read(10, 1) == b"" and src.bytes_read == 6


BANNER = b"Linux version 6.1.99-sparse (me@here) (gcc) #1 SMP\n\x00"


def _sparse(path, size: int, at: int, head: bytes) -> bool:
    """A file of ``size`` bytes: ``head`` at 0 and the banner at ``at``, holes between
    them when the file system makes any; False when it made none."""
    with open(path, "wb") as f:
        f.write(head)
        f.seek(at)
        f.write(BANNER)
        f.truncate(size)
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, len(head) + 4096, getattr(os, "SEEK_DATA", os.SEEK_SET)) > \
            len(head) + 4096
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("at", [40 << 20, (40 << 20) - 3, 64 << 20])
def test_the_banner_search_passes_holes_and_finds_the_banner_after_them(tmp_path, at):
    from validator import banner
    from validator.io.source import Source

    head = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img").read_bytes()
    sparse = tmp_path / "sparse"
    if not _sparse(sparse, at + (8 << 20), at, head):
        pytest.skip("this file system makes no holes (or cannot tell where they are)")
    dense = tmp_path / "dense"
    with open(sparse, "rb") as src, open(dense, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with Source(sparse) as s1, Source(dense) as s2:
        assert banner.kernel_version(s1) == banner.kernel_version(s2) == "6.1.99-sparse"
        assert s1.bytes_read < (2 << 20) < at <= s2.bytes_read


def test_a_sparse_file_without_a_banner_after_its_holes_has_none(tmp_path):
    from validator import banner
    from validator.io.source import Source

    path = tmp_path / "sparse"
    if not _sparse(path, 64 << 20, 8 << 20, b"\x01" * 8192):
        pytest.skip("this file system makes no holes (or cannot tell where they are)")
    with open(path, "r+b") as f:  # spoil the banner's prefix
        f.seek((8 << 20) + BANNER.index(b"version"))
        f.write(b"VERSION")
    with Source(path) as src:
        assert banner.kernel_version(src) is None
        assert src.bytes_read < (2 << 20)


# -- loader tables ----------------------------------------------------------------------------

def test_rejects_at_still_gives_a_table_of_its_own():
    from validator import loaders
    from validator.loaders import kexec_tools

    table = loaders.rejects_at(kexec_tools, "2.0.32", ("zlib",))
    table.clear()
    assert loaders.rejects_at(kexec_tools, "2.0.32", ("zlib",))


# -- the walk ---------------------------------------------------------------------------------

def test_the_walk_keeps_its_order_and_names(tmp_path):
    """In a directory its image files sorted by name, then its subdirectories, sorted,
    each walked the same way; links named like images checked as their files."""
    from validator.commands._lint_walk import discover

    top = tmp_path / "t"
    for rel in ["vmlinuz-b", "vmlinuz-a", "config-a", "README.md", "z/Image", "a/vmlinux-1",
                "a/deeper/zImage", "vmlinux.o"]:
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(b"x")
    (top / "vmlinuz").symlink_to("vmlinuz-a")
    (top / "vmlinuz-dangling").symlink_to("nowhere")
    found = discover([str(top)])
    got = [(os.path.relpath(e.path, top), e.link, e.problem is not None) for e in found.entries]
    # the link to vmlinuz-a is folded into vmlinuz-a (checked once, under its own name)
    assert got == [("vmlinuz-a", False, False), ("vmlinuz-b", False, False),
                   ("vmlinuz-dangling", True, True), ("a/vmlinux-1", False, False),
                   ("a/deeper/zImage", False, False), ("z/Image", False, False)]
    assert [e.pair_base for e in found.entries if not e.link] == [
        e.path for e in found.entries if not e.link]
    assert found.notes == [f"{top}/vmlinuz is the same file as {top}/vmlinuz-a: checked "
                           f"once, as {top}/vmlinuz-a"]


def test_repeated_fingerprints_are_made_unique_as_before():
    import hashlib

    from validator.baseline import Unique

    unique = Unique()
    fp = "0123456789abcdef0123456789abcdef"
    got = [unique(fp) for _ in range(3)] + [unique(fp.upper()), unique("x"), unique("x")]
    assert got == [fp, hashlib.sha256(f"{fp}:1".encode()).hexdigest()[:32],
                   hashlib.sha256(f"{fp}:2".encode()).hexdigest()[:32], fp.upper(), "x",
                   hashlib.sha256(b"x:1").hexdigest()[:32]]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.binary(min_size=8, max_size=8)), max_size=1200),
       st.sampled_from([0, 0xFF, None]))
def test_the_fingerprint_table_is_a_set(draws, low):
    """_Keys says whether each 16-byte key is new as a set does: keys that share their
    low bits (they probe past each other), the all-zero key, repeats, growth past 768."""
    from validator.baseline import _Keys

    keys = _Keys()
    seen: set = set()
    for n, tail in draws:
        # the first 8 bytes index the table: a few values of them make long probe runs
        head = (n if low is None else (n << 16) | low).to_bytes(8, "little")
        key = bytes(16) if n == 0 and low == 0 else head + tail
        assert keys.add(key) == (key not in seen)
        seen.add(key)
    assert keys.count + keys.empty_seen == len(seen)


def test_the_fingerprint_table_grows_and_keeps_every_key():
    import random

    from validator.baseline import _Keys

    rng = random.Random(3)
    pool = [rng.randbytes(16) for _ in range(6000)]
    keys, seen = _Keys(), set()
    for _ in range(12000):
        key = rng.choice(pool)
        assert keys.add(key) == (key not in seen)
        seen.add(key)
    assert keys.count == len(seen) > 3000 and len(keys.table) > 16 * 4 * 1024
