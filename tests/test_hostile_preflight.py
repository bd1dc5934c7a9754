"""kimage preflight against hostile hosts, sysroots and options.

A sysroot may hold symlinks that leave it, FIFOs and devices, bombs, huge or binary files;
--crashkernel may be out of range; --initrd may be anything. Nothing may be read from
outside the sysroot, nothing may block, memory stays bounded, no byte of a malformed file
is printed, and an unknown value never passes. Fixture hosts are built in tmp_path from
tests/sysroots (see test_preflight.variant). Rules: preflight/host-file-malformed,
preflight/initrd-not-cpio.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_preflight import ARM64_REAL, SYN, SYSROOTS, newc_header, steps, variant
from validator.kdump import host as hostmod
from validator.kdump import hostfs

IMAGE = SYN / "arm64/v5.8-4k-le-anywhere-efi.img"
PPC64_IMAGE = SYN / "ppc64/vmlinux-fixup_endian_long-le-run0.elf"
MARK = "S3CRET-MARK"  # in every hostile file: must never be printed
MALFORMED = "preflight/host-file-malformed"
NOT_CPIO = "preflight/initrd-not-cpio"
MiB = 1 << 20

#: Runs ``kimage`` in-process and prints its peak RSS (KiB) on stderr's last line: VmHWM,
#: which belongs to this process's own memory (ru_maxrss keeps the forking parent's peak).
RSS_PROBE = """
import sys
from validator.cli import main
rc = main(sys.argv[1:])
sys.stdout.flush()
with open("/proc/self/status") as f:
    print(next(line.split()[1] for line in f if line.startswith("VmHWM:")), file=sys.stderr)
sys.exit(rc)
"""


def run(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    """kimage in a subprocess; a hang is a failure (TimeoutExpired), not a stuck test."""
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def preflight_json(image, root, *options, timeout: float = 60) -> dict:
    p = run("preflight", image, "--sysroot", root, "--format", "json", *options,
            timeout=timeout)
    assert p.returncode in (0, 1), p.stderr
    assert "Traceback" not in p.stderr
    return json.loads(p.stdout)


def both_formats(image, root, *options) -> tuple[dict, str]:
    doc = preflight_json(image, root, *options)
    p = run("preflight", image, "--sysroot", root, *options)
    assert p.returncode == (1 if doc["verdict"] == "fail" else 0), p.stderr
    return doc, p.stdout


def peak_rss_kib(*args) -> tuple[int, subprocess.CompletedProcess]:
    p = subprocess.run([sys.executable, "-c", RSS_PROBE, *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    return int(p.stderr.strip().splitlines()[-1]), p


def secret(tmp_path: Path) -> Path:
    """A file outside the sysroot that would pass as /proc/iomem and more."""
    path = tmp_path / "outside" / "secret"
    path.parent.mkdir()
    path.write_text(f"40000000-23fffffff : {MARK}\n  d8000000-f7ffffff : Crash kernel\n")
    return path


def malformed(doc: dict) -> dict[str, str]:
    return {m["file"]: m["summary"] for m in doc["host"]["malformed"]}


# --- the sysroot cannot be left ----------------------------------------------------------

def test_symlinks_out_of_the_sysroot_give_neither_content_nor_pass(tmp_path):
    target = secret(tmp_path)
    # No kexec_crash_size and no crashkernel=: only the secret could make a region.
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "sys/kernel/kexec_crash_size": None, "proc/cmdline": "ro quiet\n"})
    links = {"proc/iomem": str(target),  # absolute
             "proc/sys/kernel/osrelease": "../../../../outside/secret",  # relative, ..
             "proc/sys/kernel/kexec_load_disabled": "../../../../../../../" + str(target),
             "sys/kernel/security/lockdown": str(target)}
    for rel, to in links.items():
        (root / rel).unlink()
        os.symlink(to, root / rel)
    doc, text = both_formats(IMAGE, root)
    assert MARK not in json.dumps(doc) and MARK not in text
    assert "d8000000" not in text
    assert doc["verdict"] != "pass" and doc["host"]["crash_region"] is None
    bad = malformed(doc)
    for rel in links:
        assert bad["/" + rel] == "a symlink to nothing inside the sysroot", rel
        assert "/" + rel in text


def test_a_directory_symlink_out_of_the_sysroot_is_not_followed(tmp_path):
    outside = tmp_path / "fakeproc"
    shutil.copytree(SYSROOTS / "arm64-4k-crash512m" / "proc", outside)
    (outside / "cmdline").write_text(f"{MARK} crashkernel=64M\n")
    root = variant(tmp_path, "arm64-4k-crash512m", {})
    shutil.rmtree(root / "proc")
    os.symlink(outside, root / "proc")
    doc, text = both_formats(IMAGE, root)
    assert MARK not in text and "crashkernel=64M" not in text
    assert doc["host"]["crashkernel"] == []  # /proc/cmdline was not read from outside


def test_absolute_symlinks_resolve_inside_the_sysroot_as_chroot_does(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "data/iomem": "40000000-23fffffff : System RAM\n  a0000000-afffffff : Crash kernel\n"})
    (root / "proc/iomem").unlink()
    os.symlink("/data/iomem", root / "proc/iomem")  # /data here is DIR/data
    doc = preflight_json(IMAGE, root)
    assert doc["host"]["crash_region"]["base"] == 0xA0000000
    assert doc["host"]["crash_region"]["size"] == 256 * MiB
    assert doc["host"]["malformed"] == []


@pytest.mark.parametrize("use_openat2", [True, False], ids=["openat2", "walk"])
def test_reader_stays_in_the_root(tmp_path, use_openat2):
    target = secret(tmp_path)
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d/real").write_text("inside\n")
    links = {"abs": str(target), "rel": "../../outside/secret", "dotdot": "d/../../outside",
             "absinside": "/d/real", "relinside": "d/real", "loop": "loop",
             "dir": str(target.parent)}
    for name, to in links.items():
        os.symlink(to, root / name)
    fs = hostfs.HostFS(str(root), use_openat2)
    assert fs.method == ("openat2" if use_openat2 else "walk")
    with fs:
        assert fs.read("/absinside", 100) == (b"inside\n", False)
        assert fs.read("relinside", 100) == (b"inside\n", False)
        assert fs.read("/../../d/real", 100) == (b"inside\n", False)  # .. stops at the root
        for name in ("/abs", "/rel", "/dotdot/secret", "/dir/secret",
                     "/../outside/secret", "/" + str(target)):
            with pytest.raises(hostfs.Unreadable) as exc:
                fs.read(name, 100)
            assert MARK not in exc.value.why
        with pytest.raises(hostfs.Unreadable) as exc:
            fs.read("/loop", 100)
        assert exc.value.odd


@pytest.mark.parametrize("use_openat2", [True, False], ids=["openat2", "walk"])
def test_symlink_hops_are_bounded_at_40(tmp_path, use_openat2):
    (tmp_path / "f").write_text("x")
    os.symlink("f", tmp_path / "l0")
    for i in range(1, 41):
        os.symlink(f"l{i - 1}", tmp_path / f"l{i}")
    with hostfs.HostFS(str(tmp_path), use_openat2) as fs:
        assert fs.read("l39", 10) == (b"x", False)  # 40 symlinks: the kernel's MAXSYMLINKS
        with pytest.raises(hostfs.Unreadable) as exc:
            fs.read("l40", 10)
    assert exc.value.odd and "symbolic links" in exc.value.why


@pytest.mark.parametrize("name", sorted(p.name for p in SYSROOTS.iterdir() if p.is_dir()))
def test_the_checked_walk_reads_what_openat2_reads(name):
    a = hostmod.read_host(SYSROOTS / name, use_openat2=True).to_dict()
    b = hostmod.read_host(SYSROOTS / name, use_openat2=False).to_dict()
    assert a == b and a["malformed"] == []


def test_enosys_falls_back_to_the_walk(tmp_path, monkeypatch):
    def enosys(self, *args):
        raise OSError(38, "Function not implemented")
    monkeypatch.setattr(hostfs._Openat2, "__call__", enosys)
    fs = hostfs.HostFS(str(SYSROOTS / "arm64-4k-crash512m"))
    assert fs.method == "walk"
    assert fs.read("/proc/sys/kernel/arch", 100) == (b"aarch64\n", False)
    fs.close()


@pytest.mark.parametrize("use_openat2", [True, False], ids=["openat2", "walk"])
def test_proc_files_with_st_size_0_are_read_to_the_limit(use_openat2):
    # /proc as a (non-live) root: self -> <pid> resolves inside it; status has st_size 0.
    assert os.stat("/proc/self/status").st_size == 0
    with hostfs.HostFS("/proc", use_openat2) as fs:
        data, more = fs.read("/self/status", 1 << 20)
    assert b"\nPid:" in data and not more


# --- nothing blocks ----------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["proc/iomem", "proc/cmdline",
                                 "proc/sys/kernel/kexec_load_disabled",
                                 "boot/config-6.1.0-50-arm64"])
def test_a_fifo_in_the_sysroot_is_refused_without_blocking(tmp_path, rel):
    root = variant(tmp_path, "arm64-4k-crash512m", {rel: None})
    os.mkfifo(root / rel)
    doc = preflight_json(IMAGE, root, timeout=30)  # the old reader blocked here forever
    assert malformed(doc)["/" + rel] == "a FIFO, not a regular file: refused before reading"
    assert doc["verdict"] != "pass"


def test_a_device_in_the_sysroot_is_refused(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {"proc/iomem": None})
    try:
        os.mknod(root / "proc/iomem", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    doc = preflight_json(IMAGE, root, timeout=30)
    assert "a character device" in malformed(doc)["/proc/iomem"]
    assert steps(doc)["crash-region"]["status"] == "warn"


@pytest.mark.parametrize("kind", ["a FIFO", "a character device"])
def test_a_fifo_or_device_as_initrd_is_a_usage_error(tmp_path, kind):
    path = tmp_path / "initrd"
    if kind == "a FIFO":
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    p = run("preflight", IMAGE, "--sysroot", SYSROOTS / "arm64-4k-crash512m", "--initrd",
            path, timeout=30)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        f"kimage: --initrd {path}: {kind}, not a regular file: refused before reading"]


# --- bounded: config.gz bombs, huge iomem -------------------------------------------------

def _gzip_zeros(path: Path, size: int) -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            f.write(c.compress(bytes(MiB)))
        f.write(c.flush())


def test_config_gz_bomb_is_bounded_and_named(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None})
    _gzip_zeros(root / "proc/config.gz", 256 * MiB)  # 256 KiB on disk
    rss, p = peak_rss_kib("preflight", IMAGE, "--sysroot", root, "--format", "json")
    assert rss < 64 * 1024, rss  # the old reader decompressed all of it: 256 MiB and more
    doc = json.loads(p.stdout)
    assert malformed(doc) == {"/proc/config.gz": "more than 4 MiB decompressed: not a "
                                                 "kernel config"}
    s = steps(doc)["load-path"]
    assert s["status"] == "warn" and s["rule"] == MALFORMED and "/proc/config.gz" in s["message"]
    assert doc["host"]["config"] is None


@pytest.mark.parametrize("content, summary", [
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64, "not gzip: the stream does not "
                                                                  "decode"),
    (gzip.compress(b"CONFIG_KEXEC=y\n" * 100)[:-30], "not gzip: the stream ends early"),
    (b"", "empty"),
    (gzip.compress(bytes(range(256)) * 4), "not a kernel config: binary, 1024 bytes"),
    (gzip.compress(b""), "not a kernel config: empty"),
])
def test_a_corrupt_config_gz_is_a_warning_not_a_traceback(tmp_path, content, summary):
    root = variant(tmp_path, "arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None,
                                                    "proc/config.gz": content})
    doc = preflight_json(IMAGE, root)
    assert malformed(doc) == {"/proc/config.gz": summary}
    assert steps(doc)["load-path"]["rule"] == MALFORMED


def _iomem(lines: int, crash_every: int | None) -> str:
    out = ["40000000-23fffffff : System RAM"]
    for i in range(lines - 1):
        if crash_every and i % crash_every == 0:
            out.append("  0-0 : Crash kernel")
        else:
            out.append("  0-0 : a")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("crash_every, summary", [
    (None, None),  # 200,000 lines, one crash range: read, bounded
    (3, "more than two \"Crash kernel\" ranges"),  # 66,667 crash lines: not a kernel's
])
def test_a_200000_line_iomem_is_streamed_and_its_evidence_bounded(tmp_path, crash_every,
                                                                   summary):
    text = _iomem(200_000, crash_every)
    if crash_every is None:
        text += "  d8000000-f7ffffff : Crash kernel\n"
    root = variant(tmp_path, "arm64-4k-crash512m", {"proc/iomem": text})
    rss, p = peak_rss_kib("preflight", IMAGE, "--sysroot", root)
    assert p.returncode == 0, p.stderr
    assert rss < 64 * 1024, rss
    # the old report printed one line per range (200,000 here); the report is ~60 lines
    assert len(p.stdout.splitlines()) < 80
    doc = preflight_json(IMAGE, root)
    ev = [e for e in steps(doc)["crash-region"]["evidence"] if e["file"] == "/proc/iomem"]
    assert len(ev) <= 2
    if summary is None:
        assert doc["host"]["crash_region"]["base"] == 0xD8000000
        assert ev == [{"file": "/proc/iomem", "value": "d8000000-f7ffffff : Crash kernel"}]
    else:
        assert malformed(doc) == {"/proc/iomem": summary}


def test_an_iomem_over_4_mib_is_not_read_past_the_bound(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m",
                   {"proc/iomem": "  40000000-23fffffff : System RAM\n" * 150_000})
    doc = preflight_json(IMAGE, root)
    assert malformed(doc) == {"/proc/iomem": "larger than 4 MiB"}
    assert doc["host"]["crash_region"]["source"] == "kexec_crash_size"
    assert steps(doc)["crash-region"]["status"] == "warn"


# --- garbage host files: warned, named, never echoed --------------------------------------

def _junk(n: int = 4096) -> bytes:
    rng = random.Random(13)
    return bytes(rng.randrange(256) for _ in range(n)) + MARK.encode() + b"\n"


#: (file, content, step that must warn, summary)
GARBAGE = {
    "iomem-random": ("proc/iomem", _junk(), "crash-region", None),
    "iomem-text": ("proc/iomem", f"hello {MARK}\n", "crash-region",
                   "line 1 is not 'START-END : NAME'"),
    "cmdline-banana": ("proc/cmdline", f"ro crashkernel=banana{MARK}\n", "crash-region",
                       "1 crashkernel= value not understood (not SIZE[@BASE], RANGES[@BASE] "
                       "or SIZE,high|low|cma)"),
    "cmdline-binary": ("proc/cmdline", _junk(200), "crash-region", "binary, 212 bytes"),
    "kexec-load-disabled-binary": ("proc/sys/kernel/kexec_load_disabled", _junk(100),
                                   "load-path", "binary, 112 bytes"),
    "kexec-load-disabled-huge": ("proc/sys/kernel/kexec_load_disabled", _junk(),
                                 "load-path", "longer than 4096 bytes"),
    "kexec-load-disabled-2": ("proc/sys/kernel/kexec_load_disabled", "2\n", "load-path",
                              "not 0 or 1 (text, 2 bytes)"),
    "lockdown-junk": ("sys/kernel/security/lockdown", f"{MARK}\n", "load-path",
                      "not a lockdown list (text, 12 bytes)"),
    "limit-panic": ("proc/sys/kernel/kexec_load_limit_panic", f"{MARK}\n", "load-path",
                    "not a number (text, 12 bytes)"),
    "crash-size": ("sys/kernel/kexec_crash_size", f"{MARK}\n", "crash-region",
                   "not a number (text, 12 bytes)"),
    "crash-loaded": ("sys/kernel/kexec_crash_loaded", _junk(10), "crash-loaded",
                     "binary, 22 bytes"),
    "mmfr0": ("sys/devices/system/cpu/cpu0/regs/identification/id_aa64mmfr0", f"{MARK}\n",
              "page-size", "not a hexadecimal number (text, 12 bytes)"),
    "smaps": ("proc/self/smaps", _junk(), "page-size", None),
    "arch": ("proc/sys/kernel/arch", f"{MARK}\n", "arch", "not a machine name (text, 12 bytes)"),
    "config": ("boot/config-6.1.0-50-arm64", f"CONFIG_KEXEC=y\n{MARK}\n", "load-path",
               "not a kernel config: line 2 is neither CONFIG_NAME=value nor a comment"),
    "secureboot": ("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0330c0ff",
                   _junk(40), "load-path", None),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_host_files_warn_and_print_no_byte_of_them(tmp_path, case):
    rel, content, step, summary = GARBAGE[case]
    content = content.encode() if isinstance(content, str) else content
    changes = {rel: content}
    if rel == "sys/kernel/kexec_crash_size":  # read only when iomem hides the addresses
        changes["proc/iomem"] = "00000000-00000000 : Crash kernel\n"
    root = variant(tmp_path, "arm64-4k-crash512m", changes)
    doc, text = both_formats(IMAGE, root)
    assert MARK not in text and MARK not in json.dumps(doc)
    assert text.isascii() and all(c.isprintable() or c == "\n" for c in text)
    bad = malformed(doc)
    assert set(bad) == {"/" + rel}, bad
    if summary is not None:
        assert bad["/" + rel] == summary
    s = steps(doc)[step]
    assert s["status"] != "pass" and MALFORMED in s["rules"], s
    assert "/" + rel in s["message"] and "/" + rel in text
    assert not s["message"].startswith("open")


def test_a_release_with_a_path_in_it_is_not_used_as_one(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "proc/sys/kernel/osrelease": "../../outside/x\n",
        "outside/x": "CONFIG_KEXEC=y\n"})
    doc = preflight_json(IMAGE, root)
    assert malformed(doc)["/proc/sys/kernel/osrelease"].startswith("not a kernel release")
    assert doc["host"]["osrelease"] is None and doc["host"]["config"] is None


# --- --crashkernel -----------------------------------------------------------------------

@pytest.mark.parametrize("host, values, needle", [
    ("arm64-4k-crash512m", ["0"], "size 0 reserves nothing"),
    ("arm64-4k-crash512m", ["99999999999999999999G"], "does not fit in 64 bits"),
    ("arm64-4k-crash512m", ["512M@0xffffffffffffffffff"], "does not fit in 64 bits"),
    ("arm64-4k-crash512m", ["512M@"], "expected a base address after '@'"),
    # arm64 CRASH_ALIGN is 2 MiB: 0xd8100000 is 1 MiB aligned only
    ("arm64-4k-crash512m", ["512M@0xd8100000"], "not 2 MiB aligned"),
    # 2^52 is past arm64's largest physical address space (52 bits)
    ("arm64-4k-crash512m", ["512M@0x10000000000000"], "52-bit physical address space"),
    # MemTotal is 8029384 kB: 8G is not below it (parse_crashkernel: -EINVAL)
    ("arm64-4k-crash512m", ["8G"], "not below MemTotal"),
    ("arm64-4k-crash512m", ["256M,low"], "SIZE,low alone reserves nothing"),
    ("arm64-4k-crash512m", ["512M", "1G,high"], "give one region"),
    ("ppc64le-crash1g", ["1G,high"], "ppc64 kernels do not read crashkernel=SIZE,high"),
])
def test_crashkernel_out_of_range_is_one_line_and_exit_2(host, values, needle):
    options = [x for v in values for x in ("--crashkernel", v)]
    p = run("preflight", IMAGE, "--sysroot", SYSROOTS / host, *options)
    assert p.returncode == 2, (p.returncode, p.stdout[-300:])
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kimage: --crashkernel ") and needle in \
        lines[0], lines


@pytest.mark.parametrize("values, size, base", [
    (["1G,high"], 1 << 30, None),
    (["1G,high", "256M,low"], 1 << 30, None),
    (["512M@0"], 512 * MiB, None),  # @0 is no base (crash_base == 0)
    (["512M@0xd8000000"], 512 * MiB, 0xD8000000),
    (["1G-4G:256M,4G-:512M"], 512 * MiB, None),
])
def test_crashkernel_forms_the_kernel_takes(values, size, base):
    options = [x for v in values for x in ("--crashkernel", v)]
    doc = preflight_json(IMAGE, SYSROOTS / "arm64-4k-crash512m", *options)
    region = doc["host"]["crash_region"]
    assert (region["size"], region["base"], region["source"]) == (size, base, "option")


def test_ppc64_rounds_an_unaligned_base_up_to_the_page_as_the_kernel_does():
    # arch/powerpc/kexec/core.c: crash_base = PAGE_ALIGN(start); the host has 64K pages.
    doc = preflight_json(PPC64_IMAGE, SYSROOTS / "ppc64le-crash1g",
                         "--crashkernel", "1G@0x20000800")
    assert doc["host"]["crash_region"]["base"] == 0x20010000
    ev = [e for e in steps(doc)["crash-region"]["evidence"] if e["file"] == "--crashkernel"]
    assert "rounds the base 0x20000800 up to the page size: 0x20010000" in ev[0]["note"]


def test_range_lists_match_ram_rounded_up_to_128m():
    # parse_crashkernel_mem rounds the RAM up to 128 MiB: 4 GiB - 1 MiB matches "4G-".
    spec = hostmod.parse_crashkernel("1G-4G:256M,4G-:512M", mem_total=(4 << 30) - MiB)
    assert spec.size == 512 * MiB


def test_the_last_crashkernel_on_the_command_line_is_the_one(tmp_path):
    # get_last_crashkernel: the kernel uses the last crashkernel= without a suffix.
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "proc/cmdline": "ro crashkernel=256M crashkernel=384M crashkernel=1G,high\n",
        "proc/iomem": "40000000-23fffffff : System RAM\n", "sys/kernel/kexec_crash_size": None})
    doc = preflight_json(IMAGE, root)
    assert doc["host"]["crash_region"]["size"] == 384 * MiB
    assert doc["host"]["crash_region"]["source"] == "cmdline"


# --- --initrd ----------------------------------------------------------------------------

def _cpio(*names: str, magic: bytes = b"070701") -> bytes:
    out = b""
    for name in names:
        body = b"x" * 5
        out += newc_header(name, len(body), magic) + body + b"\0" * (-len(body) % 4)
    return out + newc_header("TRAILER!!!", 0, magic)


def _initrds() -> dict[str, tuple[bytes, str, str | None]]:
    early = _cpio("kernel", "kernel/x86", "kernel/x86/microcode/GenuineIntel.bin")
    main = _cpio("init", "bin", "bin/sh")
    return {  # name: (content, format, problem or None)
        "newc": (main, "cpio (newc, 3 entries)", None),
        "newc-crc": (_cpio("init", magic=b"070702"), "cpio (newc+crc, 1 entries)", None),
        "gzip": (gzip.compress(main), "gzip", None),
        "early-cpio-then-xz": (early + b"\0" * 512 + lzma.compress(main, format=lzma.FORMAT_XZ),
                               "cpio (newc, 3 entries) + xz", None),
        "empty": (b"", "empty", "empty file"),
        "zeros": (bytes(4096), "unknown", "only zero bytes: no cpio archive"),
        "odc": (b"070707" + b"0" * 70, "unknown", "odc cpio (070707) at offset 0x0: the "
                                                  "kernel takes only newc (070701, 070702)"),
        "random": (_junk(), "unknown", "not cpio: no cpio or compression magic"),
        "truncated": (main[:200], "cpio (newc, 1 entries)",
                      "cpio archive cut short at offset 0x7c"),
        "junk-after-cpio": (early + MARK.encode(), "cpio (newc, 3 entries)",
                            f"not cpio at offset {len(early):#x}: no cpio or compression "
                            f"magic"),
    }


@pytest.mark.parametrize("case", sorted(_initrds()))
def test_initrd_is_checked_as_the_kernel_unpacks_it(tmp_path, case):
    content, fmt, problem = _initrds()[case]
    path = tmp_path / "initrd.img"
    path.write_bytes(content)
    doc, text = both_formats(IMAGE, SYSROOTS / "arm64-4k-crash512m", "--initrd", path)
    assert MARK not in text and MARK not in json.dumps(doc)
    probed = {k: doc["initrd"][k] for k in ("path", "size", "format", "problem")}
    assert probed == {"path": str(path), "size": len(content), "format": fmt,
                      "problem": problem or ""}
    if not problem:  # decoded too: the test's cpio has files, none of them makedumpfile
        assert doc["initrd"]["unpacked"] > 0 and doc["initrd"]["dump_tool"] is False
    s = steps(doc)["initrd"]
    if problem:
        assert (s["status"], s["rule"]) == ("warn", NOT_CPIO) and problem in s["message"]
        assert doc["verdict"] == "warn"
    else:
        assert s["status"] == "pass" and doc["verdict"] == "pass", s


def test_a_sparse_initrd_is_probed_without_reading_its_holes(tmp_path):
    path = tmp_path / "initrd.img"
    with open(path, "wb") as f:  # 8 GiB of hole, then a cpio: the kernel skips the zeros
        f.seek(8 << 30)
        f.write(_cpio("init"))
    rss, p = peak_rss_kib("preflight", IMAGE, "--sysroot", SYSROOTS / "arm64-4k-crash512m",
                          "--initrd", path, "--format", "json")
    assert rss < 64 * 1024
    assert json.loads(p.stdout)["initrd"]["format"] == "cpio (newc, 1 entries)"
    # the unpacked-size walk passes the hole without reading it (SEEK_DATA)
    from validator.kdump import initramfs

    read = []
    real_pread = os.pread

    def counting(fd, n, offset):
        data = real_pread(fd, n, offset)
        read.append(len(data))
        return data

    initramfs.os.pread = counting
    try:
        found = initramfs.contents(str(path))
    finally:
        initramfs.os.pread = real_pread
    # one 5-byte file: one 4 KiB tmpfs page unpacked
    assert (found["unpacked"], found["problem"]) == (4096, "")
    assert sum(read) < 1 << 20, sum(read)


def test_the_real_kernel_still_passes_on_its_fixture_with_a_cpio_initrd(real_images,
                                                                         tmp_path):
    path = tmp_path / "initrd.img"
    path.write_bytes(_cpio("init"))
    doc = preflight_json(real_images[ARM64_REAL], SYSROOTS / "arm64-4k-crash512m", "--initrd", path)
    assert doc["verdict"] == "pass" and doc["host"]["malformed"] == []


def test_reports_of_hostile_hosts_match_the_schema(tmp_path):
    import jsonschema

    schema = json.loads(subprocess.run(
        [sys.executable, "-c", "import json; from validator.preflight import SCHEMA; "
                               "print(json.dumps(SCHEMA))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    root = variant(tmp_path, "arm64-4k-crash512m", {"proc/iomem": _junk(),
                                                    "proc/cmdline": "crashkernel=banana\n"})
    path = tmp_path / "initrd.img"
    path.write_bytes(_junk())
    doc = preflight_json(IMAGE, root, "--initrd", path)
    jsonschema.validate(doc, schema)
    assert {m["file"] for m in doc["host"]["malformed"]} == {"/proc/iomem", "/proc/cmdline"}
    assert doc["initrd"]["problem"] and steps(doc)["initrd"]["rule"] == NOT_CPIO


def test_names_with_newlines_and_escapes_cannot_forge_report_lines(tmp_path):
    evil = tmp_path / "vmlinuz\n  verdict  pass: forged\x1b[2J"
    evil.write_bytes(IMAGE.read_bytes())
    initrd = tmp_path / "initrd\n  pass  initrd"
    initrd.write_bytes(_cpio("init"))
    p = run("preflight", evil, "--sysroot", SYSROOTS / "arm64-4k-crash512m", "--initrd", initrd)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "forged" not in "".join(
        line for line in p.stdout.splitlines() if line.startswith("  verdict"))
    assert p.stdout.count("\n  verdict  ") == 1
    assert p.stdout.splitlines()[0] == str(evil).replace("\n", "\\n").replace("\x1b", "\\x1b")


def test_a_gzip_initrd_with_padding_after_its_stream_ends(tmp_path):
    """A gzip initramfs whose stream ends while its input is held back (its output filled
    the decode call), followed by zero padding as ``dd`` and image tools leave it: read to
    its end, counted, never a hang (input after end-of-stream is not fed again)."""
    body = b"\0" * (200 << 10)  # one 64 KiB read decodes to more than one 64 KiB output
    archive = newc_header("init", len(body)) + body
    path = tmp_path / "initrd.img"
    path.write_bytes(gzip.compress(archive, 1) + b"\0" * (1 << 20))
    code = ("import json, sys; from validator.kdump import initramfs; "
            "r = initramfs.contents(sys.argv[1]); print(json.dumps(r['unpacked']))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= len(body)
