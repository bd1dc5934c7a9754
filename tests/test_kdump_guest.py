"""kimage preflight's verdicts against a real crash capture (issue 19's last point).

Expected values are the guest's: loadertruth/kdump-guest-results.json records, per
``crashkernel=`` size, what happened when Debian 13's arm64 kernel (6.12.117-1) ran
Debian's kexec-tools 1:2.0.29 ``kexec -p`` of itself with a small capture initramfs and
then panicked under qemu-system-aarch64 (loadertruth/kdump_guest.py): the load refused
(kexec's and the kernel's messages), loaded but the capture kernel never reached its
/init, or the capture kernel ran its /init and saw /proc/vmcore. kimage decides here, now,
on the same host (loadertruth.kdump_guest_host: tests/sysroots/debian13-arm64 with the
guest's /proc/iomem, possible CPUs, fdt header and command line), the same kernel (its
excerpt, corpus/kdump-guest/debian-6.12.117+deb13-arm64, of the very file the guest booted: the
sha256 is checked) and an initrd of the recorded size and files (a stand-in: busybox is
not committed). No qemu is needed; the rerun of the guest is the last test (skipped
without it).
"""

from __future__ import annotations

import gzip
import json

import pytest

from corpus.materialise import materialise
from loadertruth.cpio import S_IFCHR, S_IFDIR, S_IFREG, cpio_newc
from loadertruth.kdump_guest import CAPTURE_INIT, to_bytes
from loadertruth.kdump_guest_host import preflight, verdict, write_sysroot
from tests.conftest import ROOT

RECORD = json.loads((ROOT / "loadertruth" / "kdump-guest-results.json").read_text())
EXCERPT = ROOT / "corpus" / "kdump-guest" / "debian-6.12.117+deb13-arm64" / "image.excerpt.json"
RUNS = {r["size"]: r for r in RECORD["runs"]}
KiB, MiB = 1 << 10, 1 << 20
LOADED = ("capture-failed", "capture-ok")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return materialise(EXCERPT, tmp_path_factory.mktemp("kdg") / RECORD["kernel"]["path"][5:])


@pytest.fixture(scope="module")
def initrd(tmp_path_factory):
    """The capture initrd's stand-in: the recorded files at their sizes (busybox's bytes
    replaced), gzip, zero-padded to the recorded packed size (the kernel and kimage skip
    zeros after an archive)."""
    files = dict(RECORD["capture_initrd"]["files"])
    assert files["init"] == len(CAPTURE_INIT.encode())
    entries = [("bin", S_IFDIR | 0o755, b"", 0, 0),
               ("bin/busybox", S_IFREG | 0o755, b"\x7f" * files["bin/busybox"], 0, 0),
               ("dev", S_IFDIR | 0o755, b"", 0, 0),
               ("dev/console", S_IFCHR | 0o600, b"", 5, 1),
               ("init", S_IFREG | 0o755, CAPTURE_INIT.encode(), 0, 0)]
    data = gzip.compress(cpio_newc(entries), mtime=0)
    size = RECORD["capture_initrd"]["size"]
    assert len(data) < size
    path = tmp_path_factory.mktemp("kdg") / "initrd.img"
    path.write_bytes(data + bytes(size - len(data)))
    return path


@pytest.fixture(scope="module")
def kimage(image, initrd, tmp_path_factory) -> dict[str, dict]:
    """kimage preflight's verdict on the guest host of every recorded run."""
    out = {}
    guest = dict(RECORD["guest"])
    guest["config"] = (EXCERPT.parent / "config").read_text()
    for size, run in RUNS.items():
        root = write_sysroot(tmp_path_factory.mktemp("root"), guest, run)
        out[size] = verdict(preflight(root, image, initrd))
    return out


def test_the_record_is_of_this_kernel_and_initrd(image, initrd, kimage):
    src = json.loads(EXCERPT.read_text())["source"]
    assert (src["sha256"], src["size"]) == (RECORD["kernel"]["sha256"], RECORD["kernel"]["size"])
    assert initrd.stat().st_size == RECORD["capture_initrd"]["size"]
    # every run's guest reserved the size asked for (crashkernel= takes it as given)
    for size, run in RUNS.items():
        assert run["crash_size"] == to_bytes(size) == run["crash_region"]["size"], size


def test_kimage_fails_where_the_kernel_refuses_the_load(kimage):
    refused = [s for s, r in RUNS.items() if r["outcome"] == "load-refused"]
    assert refused, "the record has no refused load"
    for size in refused:
        assert kimage[size]["verdict"] == "fail", (size, kimage[size])
        assert kimage[size]["fit"]["status"] == "fail"


def test_kimage_does_not_fail_a_region_the_kernel_loads_into(kimage):
    """Loaded sizes pass the fit step; the one exception allowed is a region within
    kimage's allowances of the real need (elfcorehdr and purgatory are allowances of
    64 KiB each where Debian 13's kexec-tools placed 4 KiB and 16 KiB): kimage may then
    fail a region the kernel took, by less than 120 KiB (116 KiB of allowances)."""
    loaded = sorted((to_bytes(s), s) for s, r in RUNS.items() if r["outcome"] in LOADED)
    smallest = loaded[0][0]
    for nbytes, size in loaded:
        if kimage[size]["fit"]["status"] == "fail":
            assert nbytes - smallest < 120 * KiB, (size, kimage[size])
        else:
            assert kimage[size]["verdict"] in ("warn", "pass"), (size, kimage[size])
    # and no MiB-sized region: crashkernel=39M loaded, kimage must not fail it
    assert RUNS["39M"]["outcome"] in LOADED
    assert kimage["39M"]["fit"]["status"] != "fail"


def test_the_recommendation_captures_and_below_it_warns(kimage):
    recs = {k["recommend_bytes"] for k in kimage.values()}
    assert len(recs) == 1  # the same kernel, initrd and CPUs: one recommendation
    rec = recs.pop()
    at = [s for s in RUNS if to_bytes(s) == rec]
    assert at, f"no run at the recommendation {rec // MiB}M"
    for size, run in RUNS.items():
        n = to_bytes(size)
        if n >= rec:
            assert run["outcome"] == "capture-ok", (size, run["message"])
            assert kimage[size]["verdict"] == "pass"
        elif run["outcome"] in LOADED and kimage[size]["fit"]["status"] != "fail":
            assert kimage[size]["verdict"] == "warn", size
            assert kimage[size]["reservation"]["status"] == "warn"
    # the recommendation is above the smallest region that captured, not below it
    ok = min(to_bytes(s) for s, r in RUNS.items() if r["outcome"] == "capture-ok")
    assert rec >= ok


def test_the_measured_facts():
    """What the guest showed (the regression data of validator/kdump/placement.py's
    _kernel_pages and dtb size), from the record only."""
    assert RUNS["38M"]["outcome"] == "load-refused"
    assert "control_code_buffer" in RUNS["38M"]["message"]
    assert RUNS["38916K"]["outcome"] == "load-refused"
    assert "vmcoreinfo" in RUNS["38916K"]["message"]
    fails = [s for s, r in RUNS.items() if r["outcome"] == "capture-failed"]
    oks = [s for s, r in RUNS.items() if r["outcome"] == "capture-ok"]
    assert max(map(to_bytes, fails)) + MiB == min(map(to_bytes, oks))  # bisected to 1 MiB


def test_with_the_measured_sizes_kimage_places_as_kexec_tools_and_fails_as_the_kernel(
        image, tmp_path, monkeypatch):
    """kimage's arm64 kexec-tools layout (validator/kdump/placement.py) with its three
    allowances set to what Debian 13's kexec-tools placed here (`kexec -d` segment[4], the
    ELF core header: one page; segment[3], purgatory: 16 KiB; segment[2], the dtb: 7762
    bytes, 103 more than the packed running one, whose header says 7659) puts the kernel and the
    initrd where kexec-tools put them, and fails exactly the regions the kernel refused:
    38M (no page left for the control code page) and 38M + 4K (none for vmcoreinfo's),
    not 38M + 8K, which it took."""
    from validator.kdump import placement
    from validator.kdump.host import read_host
    from validator.pipeline import analyse

    monkeypatch.setitem(placement.ALLOWANCES, "elfcorehdr", 4 * KiB)
    monkeypatch.setitem(placement.ALLOWANCES, "purgatory", 16 * KiB)
    monkeypatch.setitem(placement.ALLOWANCES, "dtb_props", 7762 - 7659)
    result = analyse(image)
    guest = dict(RECORD["guest"])
    for size in ("38M", "38916K", "38920K", "39M", "106M"):
        run = RUNS[size]
        host = read_host(write_sysroot(tmp_path / size, guest, run))
        step = placement.step_fit(result, host, "kexec-tools", RECORD["capture_initrd"]["size"])
        assert (step.status == "fail") == (run["outcome"] == "load-refused"), (size, step)
        placed = {e.file[len("placed:"):]: int(e.value.split(",")[0], 16)
                  for e in step.evidence if e.file.startswith("placed:")}
        real = run["segments"]
        assert (placed["kernel"], placed["initrd"]) == (real[0]["mem"], real[1]["mem"]), size
        assert placed["elfcorehdr"] == real[4]["mem"] or step.status == "fail", size


@pytest.mark.slow
def test_the_guest_still_refuses_38M():
    """The guest rerun (about 15 s): crashkernel=38M is refused for the control page."""
    from loadertruth import kdump_guest

    ok, why = kdump_guest.available()
    if not ok:
        pytest.skip(why)
    r = kdump_guest.run("38M", timeout=180)
    assert r["outcome"] == "load-refused", r
    assert "control_code_buffer" in r["message"]


def test_fdt_packed_from_the_header():
    """struct fdt_header (Devicetree Specification 5.2): totalsize at 4, off_dt_struct 8,
    off_dt_strings 12, off_mem_rsvmap 16, size_dt_strings 32, size_dt_struct 36. The
    guest's (QEMU virt's) header: 1 MiB total, a 16-byte reservation block at 0x30 (one
    terminating entry), 0x1bc0 bytes of structure and 0x1f3 of strings."""
    from validator.kdump.fdtsize import fdt_packed

    head = bytes.fromhex(RECORD["guest"]["fdt_head"])
    assert fdt_packed(head) == 40 + 16 + 0x1bc0 + 0x1f3
    assert fdt_packed(head[:39]) is None  # short: not guessed
    bad = bytearray(head)
    bad[36:40] = (0x200000).to_bytes(4, "big")  # a structure block past totalsize
    assert fdt_packed(bytes(bad)) is None
    assert fdt_packed(b"\0" * 4 + head[4:]) is None  # no FDT magic
