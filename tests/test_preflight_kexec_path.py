"""preflight knows the host's kexec-tools: the release it reads and the path ``kexec -p`` takes.

Expected values come from outside the code under test:

- the fixtures' files: ``var/lib/dpkg/status`` stanzas are the real packages' control
  fields (``dpkg-deb -f`` of Debian's kexec-tools 1:2.0.25-3+deb12u3 and 1:2.0.29-2+b1,
  the debs loadertruth runs), ``usr/lib/os-release`` base-files' (Debian 12 and 13.8);
  the Debian 13 kernel config excerpt is Debian's 6.12.117-1 arm64 config (KEXEC_FILE not
  set, as in 6.1's);
- horms/kexec-tools' source for the path: before 2.0.27 plain ``-p`` is kexec_load
  (kexec/kexec.c ``main`` at v2.0.25: ``do_kexec_file_syscall = 0``); from 2.0.27
  (29fe506) kexec_file_load first, falling back only on ENOSYS, EINVAL, ENOEXEC, ENOTSUP
  (v2.0.29 ``do_kexec_file_load`` lines 1403-1419); ``-s`` never falls back; arm64 file
  mode refuses a uImage before the call (kexec/arch/arm64/kexec-uImage-arm64.c);
- the real binaries, where loadertruth has them (build/loadertruth/root-arm64*, Debian 12
  and 13's arm64 kexec-tools), run under qemu-user with ``-strace``: qemu-user implements
  neither kexec syscall and answers ENOSYS, which is what a Debian 12 or 13 kernel (no
  CONFIG_KEXEC_FILE) answers to kexec_file_load; the calls each binary makes must be the
  modelled path's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_kdump_discovery import D12, D13, DUMP_FILES, FED, debian, initramfs, place
from tests.test_preflight import ARM64_REAL

SYSROOTS = ROOT / "tests" / "sysroots"
KERNELS = ROOT / "corpus" / "kernels"
CACHE = Path(os.environ.get("LOADERTRUTH_CACHE", ROOT / "build" / "loadertruth"))


def kimage(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def preflight_json(*args) -> tuple[int, dict]:
    p = kimage("preflight", "--format", "json", *args)
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    return p.returncode, json.loads(p.stdout)


def calls(doc) -> list[tuple]:
    return [(a["syscall"], a["errno"], a["outcome"]) for a in doc["kexec_path"]["steps"]]


@pytest.fixture(scope="module")
def kernel(real_images) -> Path:
    return real_images[ARM64_REAL]


@pytest.fixture(scope="module")
def uimage(tmp_path_factory) -> Path:
    from corpus.kernels.parts import materialise_parts

    out = tmp_path_factory.mktemp("uimage") / "uImage.gz"
    return materialise_parts(KERNELS / "arm64-4k-le-efi/uImage.gz.parts.json", out)


# --- reading the host's kexec-tools ------------------------------------------------------

@pytest.mark.parametrize("base, version, package, source, os_id", [
    ("debian12-arm64", "2.0.25", "1:2.0.25-3+deb12u3", "/var/lib/dpkg/status", "debian"),
    ("debian13-arm64", "2.0.29", "1:2.0.29-2+b1", "/var/lib/dpkg/status", "debian"),
    ("fedora-arm64", "2.0.31", None, "/usr/sbin/kexec", "fedora"),
    ("arm64-4k-crash512m", None, None, None, None),
])
def test_the_installed_kexec_tools_and_the_file_that_said_it(base, version, package, source,
                                                              os_id):
    from validator.kdump.host import read_host

    host = read_host(SYSROOTS / base)
    assert (host.kexec_tools, host.kexec_tools_package, host.kexec_tools_source,
            host.os_id) == (version, package, source, os_id)
    said = {(e.file, e.value) for e in host.evidence.get("kexec-tools", [])}
    if package:
        assert ("/var/lib/dpkg/status", f"kexec-tools {package}") in said
    if source == "/usr/sbin/kexec":
        assert ("/var/lib/dpkg/status", "absent") in said
        assert ("/usr/sbin/kexec", f"kexec-tools {version}") in said
    assert host.malformed == []


@pytest.mark.parametrize("text, want", [
    # an entry removed with its conffiles kept is not installed (dpkg(1) Status field)
    ("Package: kexec-tools\nStatus: deinstall ok config-files\nVersion: 1:2.0.25-3\n\n", None),
    ("Package: kexec-tools\nStatus: install ok installed\nVersion: 1:2.0.32-3+b1", "2.0.32"),
    ("Package: kexec-tools-extra\nStatus: install ok installed\nVersion: 2.0.30-1\n\n"
     "Package: kexec-tools\nStatus: install ok installed\nDescription: x\n Version: 9.9.9\n"
     "Version: 2.0.26-1\n", "2.0.26"),
])
def test_dpkg_status_stanzas(tmp_path, text, want):
    from validator.kdump.host import read_host

    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text(text)
    assert read_host(tmp_path).kexec_tools == want


def test_the_version_string_across_a_chunk_boundary_and_bounded(tmp_path):
    from validator.kdump.host import read_host
    from validator.kdump.toolsread import BINARY_LIMIT, CHUNK

    (tmp_path / "usr/sbin").mkdir(parents=True)
    binary = tmp_path / "usr/sbin/kexec"
    s = b"kexec-tools 2.0.28\0"
    binary.write_bytes(b"\x7fELF" + bytes(CHUNK - 4 - 7) + s + bytes(4096))
    assert read_host(tmp_path).kexec_tools == "2.0.28"
    with open(binary, "wb") as f:  # the string past the bound is not looked for
        f.truncate(BINARY_LIMIT)
        f.seek(0, os.SEEK_END)
        f.write(s)
    host = read_host(tmp_path)
    assert host.kexec_tools is None
    assert "no 'kexec-tools N.N.N' string" in host.evidence["kexec-tools"][-1].value
    binary.unlink()
    os.mkfifo(binary)  # refused before reading: no hang
    host = read_host(tmp_path)
    assert host.kexec_tools is None
    assert [m[1] for m in host.malformed] == ["/usr/sbin/kexec"]


@pytest.mark.parametrize("root, upstream", [("root-arm64", "2.0.25"),
                                            ("root-arm64-trixie", "2.0.29"),
                                            ("root-arm64-unstable", "2.0.32")])
def test_the_real_binaries_say_their_release(tmp_path, root, upstream):
    real = CACHE / root / "sbin" / "kexec"
    if not real.is_file():
        pytest.skip(f"{real} not unpacked (loadertruth/install.sh)")
    from validator.kdump.host import read_host

    (tmp_path / "sbin").mkdir()
    shutil.copyfile(real, tmp_path / "sbin" / "kexec")
    host = read_host(tmp_path)
    assert (host.kexec_tools, host.kexec_tools_source) == (upstream, "/sbin/kexec")


# --- the path each host's kexec -p takes -------------------------------------------------

def test_debian12_kexec_tools_2_0_25_calls_kexec_load(tmp_path, kernel):
    rc, doc = preflight_json("--sysroot", debian(tmp_path, kernel, "debian12-arm64", D12))
    assert rc == 0 and doc["verdict"] == "pass"
    p = doc["kexec_path"]
    assert (p["kexec_tools"]["version"], p["kexec_tools"]["package"], p["mode"]) == (
        "2.0.25", "1:2.0.25-3+deb12u3", "load")
    assert calls(doc) == [("kexec_load", None, "loads")]
    assert doc["loader"] == "kexec-tools" and set(doc["loaders"]) == {"kexec-tools"}
    assert doc["command"] == "kexec -p (kexec-tools 2.0.25: kexec_load)"
    step = next(s for s in doc["steps"] if s["step"] == "path")
    assert step["status"] == "pass" and "the default before 2.0.27" in step["message"]


def test_debian13_kexec_tools_2_0_29_falls_back_from_enosys(tmp_path, kernel):
    rc, doc = preflight_json("--sysroot", debian(tmp_path, kernel, "debian13-arm64", D13))
    assert rc == 0 and doc["verdict"] == "pass"
    assert (doc["kexec_path"]["kexec_tools"]["version"], doc["kexec_path"]["mode"]) == (
        "2.0.29", "auto")
    assert calls(doc) == [("kexec_file_load", "ENOSYS", "fallback"),
                          ("kexec_load", None, "loads")]
    assert doc["kexec_path"]["steps"][0]["available"] is False  # no CONFIG_KEXEC_FILE
    assert doc["loader"] == "kexec-tools"
    assert doc["command"] == "kexec -p (kexec-tools 2.0.29: kexec_file_load ENOSYS → kexec_load)"
    p = kimage("preflight", "--sysroot", debian(tmp_path / "t", kernel, "debian13-arm64", D13))
    assert ("kexec-tools 2.0.29 (/var/lib/dpkg/status: 1:2.0.29-2+b1): kexec -p tries "
            "kexec_file_load first") in p.stdout
    assert "has no CONFIG_KEXEC_FILE → ENOSYS → falls back to kexec_load" in p.stdout


def test_fedora_kexec_args_s_and_the_binary_string(tmp_path, kernel):
    import zstandard

    root = place(tmp_path, "fedora-arm64", kernel, f"/boot/vmlinuz-{FED}",
                 initramfs(DUMP_FILES, zstandard.ZstdCompressor().compress),
                 f"/boot/initramfs-{FED}kdump.img")
    rc, doc = preflight_json("--sysroot", root)
    p = doc["kexec_path"]
    assert (p["kexec_tools"]["version"], p["kexec_tools"]["source"], p["mode"]) == (
        "2.0.31", "/usr/sbin/kexec", "file")  # KEXEC_ARGS="-s" in /etc/sysconfig/kdump
    # No kernel config in the fixture: whether the kernel has kexec_file_load is unknown.
    assert calls(doc) == [("kexec_file_load", None, "loads")]
    assert p["steps"][0]["available"] is None
    assert doc["loader"] == "kexec-file" and rc == 0
    assert doc["command"] == "kexec -p -s (kexec-tools 2.0.31: kexec_file_load)"


def test_kexec_tools_option_overrides_the_host(tmp_path, kernel):
    root = debian(tmp_path, kernel, "debian12-arm64", D12)
    rc, doc = preflight_json("--sysroot", root, "--kexec-tools", "2.0.29")
    assert rc == 0
    assert doc["kexec_path"]["kexec_tools"] == {"version": "2.0.29", "source": "--kexec-tools",
                                                "package": None, "build": "debian"}
    # the version is overridden; the build is still the host's (its os-release ID=debian)
    assert calls(doc) == [("kexec_file_load", "ENOSYS", "fallback"),
                          ("kexec_load", None, "loads")]
    for bad in ("2.0.20", "two"):
        p = kimage("preflight", "--sysroot", root, "--kexec-tools", bad)
        assert p.returncode == 2 and p.stdout == ""
        assert len(p.stderr.splitlines()) == 1 and "--kexec-tools" in p.stderr
    # --loader kexec-tools@VERSION: that release, and -c (kexec_load only)
    rc, doc = preflight_json("--sysroot", root, "--loader", "kexec-tools@2.0.29")
    assert calls(doc) == [("kexec_load", None, "loads")]
    assert doc["kexec_path"]["mode"] == "load" and doc["command"].startswith("kexec -p -c (")
    for bad in ("kexec-file@6.12", "grub"):
        p = kimage("preflight", "--sysroot", root, "--loader", bad)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1


@pytest.mark.parametrize("version, want_calls, verdict", [
    ("2.0.25", [("kexec_load", None, "loads")], "pass"),
    # 2.0.29: kexec-tools refuses the uImage in file mode, before the call; no fallback.
    ("2.0.29", [("kexec_file_load", None, "refused")], "fail"),
])
def test_a_uimage_stops_at_kexec_file_load_from_2_0_27(uimage, version, want_calls, verdict):
    rc, doc = preflight_json(uimage, "--sysroot", SYSROOTS / "arm64-4k-crash512m",
                             "--kexec-tools", version)
    assert (doc["verdict"], calls(doc)) == (verdict, want_calls)
    step = next(s for s in doc["steps"] if s["step"] == "path")
    if verdict == "fail":
        assert rc == 1 and step["rule"] == "preflight/kexec-no-fallback"
        assert "uImage is not supported in kexec_file" in step["message"]
        assert doc["loaders"]["kexec-tools"]["verdict"] == "pass"  # -c would load it


def test_without_a_release_both_are_judged_and_the_step_says_why():
    rc, doc = preflight_json(SYSROOTS.parent.parent / "corpus/synthetic/arm64/"
                             "v5.8-4k-le-anywhere-efi.img",
                             "--sysroot", SYSROOTS / "arm64-4k-crash512m")
    assert doc["kexec_path"]["mode"] is None and doc["kexec_path"]["steps"] == []
    assert set(doc["loaders"]) == {"kexec-tools", "kexec-file"}
    step = next(s for s in doc["steps"] if s["step"] == "path")
    assert step["status"] == "skip" and "--kexec-tools VERSION" in step["message"]


# --- the real binaries make the modelled calls -------------------------------------------

_REAL = r"""
import json, subprocess, sys
from pathlib import Path
from loadertruth import kexec
ok, why = kexec.available("arm64")
if not ok:
    print(json.dumps({"skip": why})); sys.exit()
cmd = kexec.command("kexec-tools-crash", "arm64", Path(sys.argv[1]))
cmd.insert(1, "-strace")
p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
out = (p.stdout + p.stderr).splitlines()
made = []
for ln in out:
    if "Unknown syscall 294" in ln:  # asm-generic/unistd.h: __NR_kexec_file_load 294
        made.append("kexec_file_load")
    elif " kexec_load(" in ln:
        made.append("kexec_load")
print(json.dumps({"calls": made, "version": kexec.version("arm64"),
                  "refused": [ln for ln in out if "not supported in kexec_file" in ln]}))
"""


@pytest.mark.parametrize("suite, version", [("", "2.0.25"), ("trixie", "2.0.29")])
@pytest.mark.parametrize("which", ["debian-image", "uimage"])
def test_the_real_kexec_makes_the_modelled_calls(suite, version, which, kernel, uimage):
    image = kernel if which == "debian-image" else uimage
    env = {**os.environ, "LOADERTRUTH_SUITE": suite}
    p = subprocess.run([sys.executable, "-c", _REAL, str(image)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    real = json.loads(p.stdout)
    if "skip" in real:
        pytest.skip(real["skip"])
    assert f"2.0.{version.split('.')[-1]}" in real["version"]
    # The modelled path on a host whose kernel answers ENOSYS to kexec_file_load (Debian
    # 12 and 13 arm64: no CONFIG_KEXEC_FILE), with the same release.
    _, doc = preflight_json(image, "--sysroot", SYSROOTS / "arm64-4k-crash512m",
                            "--kexec-tools", version)
    made = [a["syscall"] for a in doc["kexec_path"]["steps"] if a["outcome"] != "refused"]
    assert real["calls"] == made
    assert bool(real["refused"]) == any(a["outcome"] == "refused"
                                        for a in doc["kexec_path"]["steps"])


# --- each turn of the path, on a host whose kernel has kexec_file_load --------------------

#: arm64-4k-crash512m's Debian 6.1 config excerpt with CONFIG_KEXEC_FILE set (as Fedora
#: and Ubuntu build it): kexec_file_load exists, so the kernel's own errno decides.
KEXEC_FILE_CONFIG = ("CONFIG_ARM64_4K_PAGES=y\nCONFIG_KEXEC=y\nCONFIG_KEXEC_FILE=y\n"
                     "CONFIG_CRASH_DUMP=y\nCONFIG_RELOCATABLE=y\n")
SYN = ROOT / "corpus" / "synthetic" / "arm64"


def _host(tmp_path, base="arm64-4k-crash512m", **files) -> Path:
    root = tmp_path / base
    shutil.copytree(SYSROOTS / base, root, symlinks=True)
    (root / "boot").mkdir(exist_ok=True)
    for rel, text in {"boot/config-6.1.0-50-arm64": KEXEC_FILE_CONFIG, **files}.items():
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("image, options, files, want, verdict", [
    # image_size 0 (a pre-3.17 header): arm64 image_load returns -EINVAL
    # (arch/arm64/kernel/kexec_image.c, "!h->image_size"); EINVAL falls back (v2.0.29
    # kexec/kexec.c 1403-1419) and kexec_load takes it (16 MiB assumed).
    ("v3.12-le-noefi.img", ("--kexec-tools", "2.0.29"), {},
     [("kexec_file_load", "EINVAL", "fallback"), ("kexec_load", None, "loads")], "warn"),
    # -s: the same EINVAL ends the command ("syscall kexec_file_load not available.").
    ("v3.12-le-noefi.img", ("--kexec-tools", "2.0.29", "--loader", "kexec-file"), {},
     [("kexec_file_load", "EINVAL", "final")], "fail"),
    # kexec_load_disabled: kexec_load_permitted() fails first: -EPERM, not a fallback errno.
    ("v5.8-4k-le-anywhere-efi.img", ("--kexec-tools", "2.0.29"),
     {"proc/sys/kernel/kexec_load_disabled": "1\n"},
     [("kexec_file_load", "EPERM", "final")], "fail"),
    # A 16 MiB region cannot hold image_size + text_offset (27.5 MiB): kexec_add_buffer's
    # kexec_locate_mem_hole returns -EADDRNOTAVAIL; no fallback.
    ("v5.8-4k-le-anywhere-efi.img", ("--kexec-tools", "2.0.29", "--crashkernel",
                                     "16M@0xd8000000"), {},
     [("kexec_file_load", "EADDRNOTAVAIL", "final")], "fail"),
    # Before 2.0.27, plain -p is kexec_load whatever the kernel has. (A pre-3.17 header
    # states no byte order or page size: the arch and page-size steps warn.)
    ("v3.12-le-noefi.img", ("--kexec-tools", "2.0.26"), {},
     [("kexec_load", None, "loads")], "warn"),
])
def test_the_kernels_errno_decides_the_fallback(tmp_path, image, options, files, want,
                                                verdict):
    rc, doc = preflight_json(SYN / image, "--sysroot", _host(tmp_path, **files), *options)
    assert (calls(doc), doc["verdict"]) == (want, verdict)
    assert doc["kexec_path"]["steps"][0]["available"] is True
    assert rc == (1 if verdict == "fail" else 0)


@pytest.mark.parametrize("version, want, verdict", [
    # no zboot probe before 2.0.27: kexec_load's path refuses the PE
    ("2.0.25", [("kexec_load", None, "refused")], "fail"),
    # 2.0.27: pez_arm64_load hands kexec_file_load the decompressed Image, which the
    # kernel takes (kexec/arch/arm64/kexec-vmlinuz-arm64.c; kexec_load only from 2.0.28)
    ("2.0.27", [("kexec_file_load", None, "loads")], "pass"),
])
def test_a_zboot_by_release(tmp_path, version, want, verdict):
    zboot = KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi"
    rc, doc = preflight_json(zboot, "--sysroot", _host(tmp_path), "--kexec-tools", version)
    assert (calls(doc), doc["verdict"]) == (want, verdict)
    if verdict == "pass":
        assert doc["loader"] == "kexec-file"
        image = next(s for s in doc["steps"] if s["step"] == "image")
        assert "unwraps it and passes the Image inside" in image["message"]


def test_an_unsigned_image_under_lockdown_is_eperm_and_final(tmp_path):
    # kernel/kexec_file.c kimage_validate_signature: not SIG_FORCE, locked down -> -EPERM
    rc, doc = preflight_json(SYN / "v5.8-4k-le-anywhere-efi.img", "--sysroot",
                             SYSROOTS / "arm64-lockdown-integrity", "--kexec-tools", "2.0.29")
    assert calls(doc) == [("kexec_file_load", "EPERM", "final")]
    assert rc == 1 and doc["loader"] == "kexec-file"


def test_hostile_package_files_are_flagged_not_read(tmp_path):
    from validator.kdump.host import read_host

    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    os.mkfifo(tmp_path / "var/lib/dpkg/status")  # refused before reading: no hang
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_bytes(b"ID=\x00\xff\n")
    host = read_host(tmp_path)
    assert host.kexec_tools is None and host.os_id is None
    assert {m[1] for m in host.malformed} == {"/var/lib/dpkg/status", "/etc/os-release"}
    os.unlink(tmp_path / "var/lib/dpkg/status")
    (tmp_path / "var/lib/dpkg/status").write_text("Package: kexec-tools\nDescription: "
                                                  + "x" * (65 << 10) + "\n")
    host = read_host(tmp_path)
    assert host.kexec_tools is None
    assert any(m[1] == "/var/lib/dpkg/status" and "longer than" in m[2]
               for m in host.malformed)


def test_the_release_from_proc_version_when_osrelease_is_absent(tmp_path):
    from validator.kdump.host import read_host

    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/version").write_text(
        "Linux version 6.12.57+deb13-arm64 (debian-kernel@lists.debian.org) (gcc) #1 SMP\n")
    host = read_host(tmp_path)
    assert host.osrelease == "6.12.57+deb13-arm64"
    assert host.evidence["arch"][0].file == "/proc/version"
