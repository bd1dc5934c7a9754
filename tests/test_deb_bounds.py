"""A package's data archive is bounded as a package, its kernel as a kernel; the control
fields and the packaged System.map are read. Packages built here (ar + gzip'd tar, as
deb(5) lays them out; dpkg-deb reads them back where it is installed)."""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import tarfile

import pytest

from tests.test_hostile_layers_deb import kernel
from validator import checker
from validator.io.limits import Limits
from validator.pipeline import analyse

MiB = 1 << 20
CONTROL = (b"Package: linux-image-9.9.9-test\nVersion: 9.9.9-1+b2\nArchitecture: arm64\n"
           b"Maintainer: kimage <kimage@test>\nDescription: test\n")


def _tar_gz(entries: list[tuple[str, object]], level: int = 1) -> bytes:
    """gzip'd GNU tar of (name, bytes | (size, byte)) files: a (size, byte) pair is that
    byte repeated, streamed (no large buffer)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, value in entries:
            info = tarfile.TarInfo(name)
            if isinstance(value, tuple):
                size, byte = value
                info.size = size
                tf.addfile(info, _Repeat(size, byte))
            else:
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value))
    return buf.getvalue()


class _Repeat(io.RawIOBase):
    def __init__(self, size: int, byte: bytes):
        self.left, self.byte = size, byte

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return self.byte * n


def deb(path, data: list[tuple[str, object]], level: int = 1) -> None:
    with open(path, "wb") as out:
        out.write(b"!<arch>\n")
        for name, member in (("debian-binary", b"2.0\n"),
                             ("control.tar.gz", _tar_gz([("./control", CONTROL)])),
                             ("data.tar.gz", _tar_gz(data, level))):
            out.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(member):<10}`\n"
                      .encode())
            out.write(member + (b"\n" if len(member) & 1 else b""))


def _rules(result) -> list[str]:
    return [f.rule for f in result.findings]


def test_a_data_archive_beyond_one_decoders_cap_is_read_whole(tmp_path):
    """70 MiB of modules after the kernel: more than the 64 MiB one decoder may produce,
    a ratio no bomb has (random bytes); the package passes, its archive decoded whole."""
    import os

    path = tmp_path / "linux-image-9.9.9-test_9.9.9-1_arm64.deb"
    modules = os.urandom(70 * MiB)
    deb(path, [("./boot/vmlinuz-9.9.9-test", kernel("test")),
               ("./lib/modules/9.9.9-test/big.ko", modules)])
    del modules
    result = checker.check_image(path, checker.Options())
    assert "layer/decompression-limit" not in _rules(result)
    gz = next(layer.details for layer in result.layers if layer.kind == "gzip")
    assert gz["decoded_size"] > 70 * MiB
    assert result.facts["kernel_version"] == "6.1.99-test"  # the banner kernel() wrote


def test_a_bomb_in_the_data_archive_still_stops(tmp_path):
    path = tmp_path / "bomb.deb"
    deb(path, [("./boot/vmlinuz-9.9.9-test", kernel("test")),
               ("./lib/zeros", (64 * MiB, b"\0"))], level=9)  # about 1000:1
    result = analyse(path, Limits(decode_all=True))
    bombs = [f for f in result.findings if f.rule == "layer/decompression-limit"]
    assert bombs and "decompression bomb" in bombs[0].message


def test_the_kernel_member_gets_the_per_decoder_cap(tmp_path):
    path = tmp_path / "k.deb"
    image = kernel("test").ljust(256 * 1024, b"\0")  # more than a decoder's first chunk
    deb(path, [("./boot/vmlinuz-9.9.9-test", image)])
    cap = len(image) - 1
    def kernel_capped(result):
        return [f.message for f in result.findings if f.rule == "layer/decompression-limit"
                and "vmlinuz" in f.message]
    result = analyse(path, Limits(decode_all=True, max_decompressed=cap))
    assert [f"{len(image):#x} bytes" in m for m in kernel_capped(result)] == [True]
    assert result.format == "unknown"  # nothing beyond the cap is judged
    result = analyse(path, Limits(decode_all=True, max_decompressed=len(image)))
    assert kernel_capped(result) == [] and result.format == "arm64-image"


def test_the_control_fields_and_release_are_reported(tmp_path):
    path = tmp_path / "k.deb"
    deb(path, [("./boot/vmlinuz-9.9.9-test", kernel("test"))])
    if shutil.which("dpkg-deb"):  # Debian's own reading of the control member
        fields = subprocess.run(["dpkg-deb", "-f", str(path), "Package", "Version",
                                 "Architecture"], capture_output=True, text=True,
                                check=True).stdout
        assert fields.split() == ["Package:", "linux-image-9.9.9-test", "Version:",
                                  "9.9.9-1+b2", "Architecture:", "arm64"]
    result = analyse(path, Limits(decode_all=True))
    layers = {layer.kind: layer.details for layer in result.layers}
    assert (layers["deb"]["package"], layers["deb"]["package_version"],
            layers["deb"]["architecture"]) == ("linux-image-9.9.9-test", "9.9.9-1+b2",
                                               "arm64")
    assert layers["tar"]["kernel_release"] == "9.9.9-test"
    from validator.report import render_check_text

    text = render_check_text([checker.check_image(path, checker.Options())], color=False)
    assert "in linux-image-9.9.9-test 9.9.9-1+b2" in text.splitlines()[0]


@pytest.mark.parametrize("last", [True, False])
def test_the_packaged_system_map_is_the_symbols_dpkg_installs(tmp_path, last):
    """A System.map whose _end - _text (1) contradicts the header's image_size: check
    reports it as with --system-map; an earlier member of the same path is replaced by
    the last (dpkg installs the last)."""
    image = kernel("test")
    assert int.from_bytes(image[0x10:0x18], "little") != 1  # image_size, at 0x10
    wrong = b"ffff800008000000 T _text\nffff800008000001 B _end\n"
    stub = b"ffffffffffffffff B The real System.map is in the linux-image-9-dbg package\n"
    maps = [stub, wrong] if last else [wrong, stub]
    path = tmp_path / "k.deb"
    deb(path, [("./boot/System.map-9.9.9-test", maps[0]),
               ("./boot/vmlinuz-9.9.9-test", image),
               ("./boot/System.map-9.9.9-test", maps[1])])
    rules = _rules(checker.check_image(path, checker.Options()))
    if last:
        assert "symbols/image-size-mismatch" in rules
    else:
        assert "symbols/stub" in rules and "symbols/image-size-mismatch" not in rules
