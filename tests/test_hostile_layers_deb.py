"""What the loader or the package manager really takes, checked against the real tools.

A .deb whose kernel path has several members (a later duplicate, a hard link, a symlink):
kimage judges the bytes dpkg installs; `dpkg --unpack` into a scratch root (as root) and
`dpkg-deb -x` are the oracles, and the bytes kimage judged (the tar member it reports) are
compared with the installed file byte for byte. A uImage whose data CRC does not match:
U-Boot's own `dumpimage` refuses it, kimage reports `uimage/bad-data-crc` and the u-boot
loader rejects it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from validator import checker
from validator.io.limits import Limits
from validator.pipeline import analyse

BASE = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img").read_bytes().ljust(0x2000,
                                                                                    b"\0")


def kernel(tag: str) -> bytes:
    """A distinct kernel: the banner names ``tag`` (kimage's kernel_version fact)."""
    return BASE + f"Linux version 6.1.99-{tag} (kimage@test) (gcc) #1 SMP\n\0".encode()


def banner(data: bytes) -> str | None:
    m = re.search(rb"Linux version (\S+)", data)
    return m.group(1).decode() if m else None


def tar_bytes(entries: list[tuple]) -> bytes:
    """GNU tar of (name, "file", bytes) | (name, "hardlink"|"symlink", target) | (name,
    "dir", None), in this order: what dpkg-deb --build writes (GNU format)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "file":
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value))
                continue
            info.type = {"hardlink": tarfile.LNKTYPE, "symlink": tarfile.SYMTYPE,
                         "dir": tarfile.DIRTYPE}[kind]
            info.mode = 0o755 if kind == "dir" else 0o777
            if value is not None:
                info.linkname = value
            tf.addfile(info)
    return buf.getvalue()


def deb_bytes(entries: list[tuple]) -> bytes:
    control = tar_bytes([("./control", "file", b"Package: kimage-test\nVersion: 1\n"
                          b"Architecture: all\nMaintainer: kimage <kimage@test>\n"
                          b"Description: test\n")])
    out = bytearray(b"!<arch>\n")
    for name, data in (("debian-binary", b"2.0\n"), ("control.tar", control),
                       ("data.tar", tar_bytes([("./", "dir", None), ("./boot/", "dir", None),
                                               *entries]))):
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) & 1 else b"")
    return bytes(out)


def installed(root: Path, path: str) -> bytes | None:
    """The bytes at ``path`` under ``root``, symlinks resolved inside ``root``."""
    p = root / path
    for _ in range(8):
        if not p.is_symlink():
            return p.read_bytes() if p.is_file() else None
        target = os.readlink(p)
        p = root / target.lstrip("/") if target.startswith("/") else p.parent / target
    return None


def dpkg_deb_extract(deb: Path, tmp_path: Path) -> Path:
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is not installed")
    root = tmp_path / "extracted"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, capture_output=True)
    return root


def dpkg_unpack(deb: Path, tmp_path: Path) -> Path:
    """What dpkg itself installs: `dpkg --unpack` into a scratch root (needs root)."""
    if not shutil.which("dpkg") or os.geteuid() != 0:
        pytest.skip("dpkg --unpack into a scratch root needs dpkg and root")
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    for sub in ("info", "updates"):
        (admin / sub).mkdir(parents=True)
    for name in ("status", "available"):
        (admin / name).touch()
    subprocess.run(["dpkg", f"--root={root}", "--log=/dev/null", "--force-script-chrootless",
                    "--force-unsafe-io", "--unpack", str(deb)], check=True,
                   capture_output=True)
    return root


def judged(deb: Path) -> tuple[bytes | None, object]:
    """The bytes of the tar member kimage judged (data.tar is stored: its offset in the
    file plus the member's), and the analysis."""
    result = analyse(deb, Limits(decode_all=True))
    layers = {layer.kind: layer.details for layer in result.layers}
    tar = layers.get("tar", {})
    if "member_offset" not in tar:
        return None, result
    data = next(m for m in layers["deb"]["members"] if m["name"] == "data.tar")
    with open(deb, "rb") as f:
        f.seek(data["offset"] + tar["member_offset"])
        return f.read(tar["member_size"]), result


A, B, C = kernel("aaaa"), kernel("bbbb"), kernel("cccc")
K = "./boot/vmlinuz-1"
CASES = {
    "later-duplicate": ([(K, "file", A), (K, "file", B)], B),
    "hard-link": ([("./boot/other", "file", B), (K, "file", A),
                   (K, "hardlink", "./boot/other")], B),
    "hard-link-then-target-replaced": ([("./boot/other", "file", B), (K, "hardlink",
                                                                        "./boot/other"),
                                        ("./boot/other", "file", C)], B),
    "symlink-after-file": ([(K, "file", A), ("./boot/real", "file", B), (K, "symlink", "real")],
                           B),
    "symlink-before-file": ([("./boot/real", "file", B), (K, "symlink", "real"),
                             (K, "file", A)], B),
}
#: `dpkg-deb -x` (GNU tar) extracts in order, so a file after a symlink replaces it; dpkg
#: makes symlinks last. The package manager is dpkg.
TAR_DIFFERS = {"symlink-before-file"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_kernel_judged_is_the_one_dpkg_installs(case, tmp_path):
    entries, expected = CASES[case]
    deb = tmp_path / "k.deb"
    deb.write_bytes(deb_bytes(entries))
    root = dpkg_unpack(deb, tmp_path)
    assert installed(root, "boot/vmlinuz-1") == expected  # the oracle agrees with the case
    member, result = judged(deb)
    assert member == installed(root, "boot/vmlinuz-1")
    assert result.facts["kernel_version"] == banner(expected)
    assert result.verdict != "fail", [f.message for f in result.findings]


@pytest.mark.parametrize("case", sorted(set(CASES) - TAR_DIFFERS))
def test_the_kernel_judged_is_the_one_dpkg_deb_extracts(case, tmp_path):
    entries, expected = CASES[case]
    deb = tmp_path / "k.deb"
    deb.write_bytes(deb_bytes(entries))
    root = dpkg_deb_extract(deb, tmp_path)
    member, result = judged(deb)
    assert member == installed(root, "boot/vmlinuz-1") == expected
    assert result.facts["kernel_version"] == banner(expected)


def test_a_symlink_out_of_the_package_is_no_kernel(tmp_path):
    deb = tmp_path / "k.deb"
    deb.write_bytes(deb_bytes([(K, "file", A), (K, "symlink", "/usr/lib/linux/vmlinuz")]))
    root = dpkg_deb_extract(deb, tmp_path)
    assert (root / "boot/vmlinuz-1").is_symlink()
    assert installed(root, "boot/vmlinuz-1") is None  # nothing the package installs
    result = analyse(deb, Limits(decode_all=True))
    assert [f.rule for f in result.findings] == ["deb/no-kernel"]
    assert "/usr/lib/linux/vmlinuz" in result.findings[0].message


def test_link_loops_stop(tmp_path):
    deb = tmp_path / "k.deb"
    deb.write_bytes(deb_bytes([(K, "symlink", "vmlinuz-2"), ("./boot/vmlinuz-2", "symlink",
                                                               "vmlinuz-1")]))
    result = analyse(deb, Limits(decode_all=True))
    assert [f.rule for f in result.findings] == ["deb/no-kernel"]
    assert "more than 4 links" in result.findings[0].message


# -- uImage data CRC ---------------------------------------------------------------------

def mkimage(payload: Path, out: Path) -> None:
    if not shutil.which("mkimage") or not shutil.which("dumpimage"):
        pytest.skip("mkimage/dumpimage (u-boot-tools) are not installed")
    subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "kernel", "-C", "none",
                    "-a", "0x80000", "-e", "0x80000", "-n", "kimage-test", "-d", str(payload),
                    str(out)], check=True, capture_output=True)


def dumpimage_accepts(path: Path, tmp_path: Path) -> bool:
    """U-Boot's dumpimage verifies the header and data CRCs before it extracts."""
    proc = subprocess.run(["dumpimage", "-T", "kernel", "-o", str(tmp_path / "out.bin"),
                           str(path)], capture_output=True, text=True)
    return proc.returncode == 0


def test_a_data_crc_that_does_not_match_is_refused(tmp_path):
    payload = tmp_path / "Image"
    payload.write_bytes(kernel("crc"))
    good = tmp_path / "uImage"
    mkimage(payload, good)
    assert dumpimage_accepts(good, tmp_path)
    result = checker.check_image(good, checker.Options())
    assert "uimage/bad-data-crc" not in [f.rule for f in result.findings]
    assert next(layer for layer in result.layers if layer.kind == "uimage").details[
        "data_crc_ok"] is True

    data = bytearray(good.read_bytes())
    data[64 + 0x2000 + 3] ^= 0x01  # a byte of the banner: the header is untouched
    bad = tmp_path / "uImage.bad"
    bad.write_bytes(bytes(data))
    assert not dumpimage_accepts(bad, tmp_path)
    result = checker.check_image(bad, checker.Options())
    assert [f.rule for f in result.findings if f.severity == "error"] == [
        "uimage/bad-data-crc"]
    uboot = result.loaders["u-boot"]
    assert uboot["verdict"] == "reject" and "uimage/bad-data-crc" in uboot["reasons"]


def test_inspect_does_not_read_the_payload_for_the_crc(tmp_path):
    payload = tmp_path / "Image"
    payload.write_bytes(kernel("crc") + bytes(4 << 20))
    path = tmp_path / "uImage"
    mkimage(payload, path)
    result = analyse(path)
    assert "data_crc_ok" not in result.layers[0].details
