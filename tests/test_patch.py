"""kimage patch: the 0x5c word written as a loader writes it, and never a half-written file.

Run through the ``kimage`` command in a subprocess (``validator.patch`` declares rules;
see tests/test_preflight.py for why it is not imported here).
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.materialise import materialise
from tests.conftest import CORPUS, ROOT

PPC64_REAL = "debian-6.1.0-50-powerpc64le"
KERNELS = CORPUS / "kernels"
BE_ELF = CORPUS / "synthetic/ppc64/vmlinux-fixup_endian_long-be-run0.elf"
LE_ELF = CORPUS / "synthetic/ppc64/vmlinux-fixup_endian_long-le-run0.elf"
LE_HEAD = CORPUS / "synthetic/ppc64/fixup_endian_long-le-run0.head"
NOREL_HEAD = CORPUS / "synthetic/ppc64/fixup_endian_long-le-norel.head"
ARM64 = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
PAUSE_ENV = "KIMAGE_TEST_PAUSE"


def kimage(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def differences(a: Path, b: Path) -> list[int]:
    """Offsets where two files of equal size differ, compared in chunks."""
    assert a.stat().st_size == b.stat().st_size
    out, offset = [], 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if not x:
                return out
            if x != y:
                out += [offset + i for i in range(len(x)) if x[i] != y[i]]
            offset += len(x)


def inspect(path: Path) -> dict:
    p = kimage("inspect", "--format", "json", path)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["images"][0]


def first_load_offset(path: Path) -> int:
    return inspect(path)["layers"][0]["loads"][0]["offset"]


# --- the "done when" ----------------------------------------------------------

def test_real_ppc64le_vmlinux_differs_in_exactly_the_4_bytes(real_images, tmp_path):
    src = real_images[PPC64_REAL]
    before = sha256(src)
    out = tmp_path / "vmlinux.patched"
    p = kimage("patch", src, "--run-at-load", "1", "-o", out)
    assert p.returncode == 0, p.stderr
    word = first_load_offset(src) + 0x5C
    assert word == 0x1005C
    assert differences(src, out) == [word, word + 1, word + 2, word + 3]
    with open(out, "rb") as f:
        f.seek(word)
        assert f.read(4) == b"\x01\x00\x00\x00"  # little-endian, the ELF's EI_DATA
    assert inspect(out)["facts"]["run_at_load"] == 1
    assert sha256(src) == before
    assert "0x1005c" in p.stdout and "'run0' -> 1" in p.stdout
    assert sorted(os.listdir(tmp_path)) == ["vmlinux.patched"]  # no temporary file left


def test_real_big_endian_vmlinux_differs_in_exactly_the_4_bytes(tmp_path):
    """A real 6.1 ppc64 BE vmlinux cross-built for corpus/kernels (ppc64-be-reloc)."""
    src = materialise(KERNELS / "ppc64-be-reloc/vmlinux.excerpt.json", tmp_path / "vmlinux")
    out = tmp_path / "vmlinux.patched"
    p = kimage("patch", src, "--run-at-load", "1", "-o", out)
    assert p.returncode == 0, p.stderr
    word = first_load_offset(src) + 0x5C
    assert differences(src, out) == [word, word + 1, word + 2, word + 3]
    assert out.read_bytes()[word:word + 4] == b"\x00\x00\x00\x01"
    assert inspect(out)["facts"]["run_at_load"] == 1


def test_real_non_relocatable_vmlinux_is_refused(tmp_path):
    src = materialise(KERNELS / "ppc64-be-noreloc/vmlinux.excerpt.json", tmp_path / "vmlinux")
    p = kimage("patch", src, "--run-at-load", "1", "-o", tmp_path / "out")
    assert p.returncode == 2 and "not relocatable" in p.stderr
    assert os.listdir(tmp_path) == ["vmlinux"]


def test_big_endian_elf_gets_a_big_endian_word(tmp_path):
    out = tmp_path / "vmlinux-be"
    p = kimage("patch", BE_ELF, "--run-at-load", "1", "-o", out)
    assert p.returncode == 0, p.stderr
    word = first_load_offset(BE_ELF) + 0x5C
    assert differences(BE_ELF, out) == [word, word + 1, word + 2, word + 3]
    assert out.read_bytes()[word:word + 4] == b"\x00\x00\x00\x01"
    assert inspect(out)["facts"]["run_at_load"] == 1


def test_run0_restores_the_original(tmp_path):
    one, back = tmp_path / "one", tmp_path / "back"
    assert kimage("patch", LE_ELF, "--run-at-load", "1", "-o", one).returncode == 0
    p = kimage("patch", one, "--run-at-load", "run0", "-o", back)
    assert p.returncode == 0, p.stderr
    assert back.read_bytes() == LE_ELF.read_bytes()


def test_a_bare_head_is_patched_at_0x5c(tmp_path):
    out = tmp_path / "head"
    assert kimage("patch", LE_HEAD, "--run-at-load", "1", "-o", out).returncode == 0
    assert differences(LE_HEAD, out) == [0x5C, 0x5D, 0x5E, 0x5F]
    assert out.read_bytes()[0x5C:0x60] == b"\x01\x00\x00\x00"


def test_mode_is_kept(tmp_path):
    src = tmp_path / "vmlinux"
    src.write_bytes(LE_ELF.read_bytes())
    src.chmod(0o640)
    out = tmp_path / "out"
    assert kimage("patch", src, "--run-at-load", "1", "-o", out).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


# --- refusals: one line, exit 2, nothing written --------------------------------------

@pytest.mark.parametrize("image, needle", [
    (NOREL_HEAD, "not relocatable, and a loader leaves the word alone (patch/no-run-at-load)"),
    (ARM64, "not a ppc64 kernel (arm64): there is no __run_at_load to write "
            "(patch/no-run-at-load)"),
    (Path("/nonexistent/vmlinux"), "no such file"),
])
def test_refuses_without_run_at_load(image, needle, tmp_path):
    out = tmp_path / "out"
    p = kimage("patch", image, "--run-at-load", "1", "-o", out)
    assert p.returncode == 2 and needle in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert os.listdir(tmp_path) == []


def test_refuses_an_existing_out_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.write_bytes(b"precious")
    p = kimage("patch", LE_ELF, "--run-at-load", "1", "-o", out)
    assert p.returncode == 2 and "--force" in p.stderr
    assert out.read_bytes() == b"precious"
    p = kimage("patch", LE_ELF, "--run-at-load", "1", "-o", out, "--force")
    assert p.returncode == 0 and inspect(out)["facts"]["run_at_load"] == 1


def test_refuses_out_equal_to_input_and_needs_a_destination(tmp_path):
    src = tmp_path / "vmlinux"
    src.write_bytes(LE_ELF.read_bytes())
    p = kimage("patch", src, "--run-at-load", "1", "-o", src, "--force")
    assert p.returncode == 2 and "--in-place" in p.stderr
    p = kimage("patch", src, "--run-at-load", "1")
    assert p.returncode == 2  # argparse: one of -o/--in-place is required
    p = kimage("patch", src, "--run-at-load", "2", "-o", tmp_path / "x")
    assert p.returncode == 2
    assert src.read_bytes() == LE_ELF.read_bytes()


def test_in_place_replaces_the_file_atomically(tmp_path):
    src = tmp_path / "vmlinux"
    src.write_bytes(LE_ELF.read_bytes())
    inode = src.stat().st_ino
    p = kimage("patch", src, "--run-at-load", "1", "--in-place")
    assert p.returncode == 0, p.stderr
    assert src.stat().st_ino != inode  # a new file renamed over the old one
    assert differences(LE_ELF, src) == [0x105C, 0x105D, 0x105E, 0x105F]
    assert os.listdir(tmp_path) == ["vmlinux"]


# --- SIGKILL at every stage: neither file is ever half-written ------------------------

def _kill_at(stage: str, args: list, tmp_path: Path) -> None:
    env = dict(os.environ, **{PAUSE_ENV: stage})
    proc = subprocess.Popen([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([proc.stderr], [], [], max(0, deadline - time.monotonic()))
            assert ready, "the writer never reached the pause"
            chunk = os.read(proc.stderr.fileno(), 1)
            assert chunk, f"the writer exited: {proc.wait()}"
            line += chunk
        assert line.startswith(b"kimage-test-paused"), line
        # The writer is stopped mid-way: a temporary file exists beside the destination.
        assert any(n.endswith(".kimage-tmp") for n in os.listdir(tmp_path))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage", ["copy:1048576", "patched", "verified"])
@pytest.mark.parametrize("mode", ["new-out", "force-out", "in-place"])
def test_sigkill_never_leaves_a_half_written_file(stage, mode, tmp_path):
    # A private (sparse) copy of the 45 MB real kernel, so the test may patch it in place.
    src = materialise(CORPUS / "real" / PPC64_REAL / "image.excerpt.json", tmp_path / "vmlinux")
    src_digest = sha256(src)
    out = tmp_path / "out"
    if mode == "force-out":
        out.write_bytes(b"the previous OUT")
    args = ["patch", src, "--run-at-load", "1"]
    args += ["--in-place"] if mode == "in-place" else ["-o", out, "--force"]
    _kill_at(stage, args, tmp_path)
    assert sha256(src) == src_digest  # the input: untouched, also with --in-place
    if mode == "new-out":
        assert not out.exists()
    elif mode == "force-out":
        assert out.read_bytes() == b"the previous OUT"
    leftovers = set(os.listdir(tmp_path)) - {"vmlinux", "out"}
    assert all(n.startswith(".") and n.endswith(".kimage-tmp") for n in leftovers), leftovers


def test_a_copy_that_does_not_read_back_is_discarded(tmp_path):
    """Change the temporary file while the writer waits after patching: the verification
    must refuse it, remove it and leave OUT absent (patch/verify-failed)."""
    src = tmp_path / "vmlinux"
    src.write_bytes(LE_ELF.read_bytes())
    out = tmp_path / "out"
    env = dict(os.environ, **{PAUSE_ENV: "patched", PAUSE_ENV + "_SECONDS": "2"})
    proc = subprocess.Popen([sys.executable, "-m", "validator", "patch", str(src),
                             "--run-at-load", "1", "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stderr.readline()
    assert first.startswith(b"kimage-test-paused patched"), first
    (tmp,) = [n for n in os.listdir(tmp_path) if n.endswith(".kimage-tmp")]
    with open(tmp_path / tmp, "r+b") as f:
        f.seek(0x1000 + 0x5C)
        f.write(b"\x02\x00\x00\x00")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert b"patch/verify-failed" in err and b"reads 2 at 0x5c, not 1" in err
    assert sorted(os.listdir(tmp_path)) == ["vmlinux"]
    assert src.read_bytes() == LE_ELF.read_bytes()
