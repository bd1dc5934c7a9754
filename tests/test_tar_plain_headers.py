"""The tar walk reads plain headers itself (``validator.formats.deb.ustar``) and hands
every other header to ``tarfile``: what it yields, and how it ends, must be what a walk
by ``tarfile`` alone (CPython's reader, independent of kimage) yields and how it ends, on
archives of every format ``tarfile`` and GNU tar write, with long names, ustar prefixes,
links, extended and global headers, odd numeric fields, and archives cut short or broken
in the middle."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile

import pytest

import validator.formats.compression.decoder  # noqa: F401  (registers layer/* rules)
from validator.formats.deb import tar as tar_layer
from validator.formats.deb import ustar
from validator.io.views import BytesView


def _entries(tf: tarfile.TarFile) -> None:
    def add(name, data=b"", **kw):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 1_700_000_000
        for k, v in kw.items():
            setattr(info, k, v)
        tf.addfile(info, io.BytesIO(data) if data else None)

    add("./", type=tarfile.DIRTYPE)
    add("./boot/", type=tarfile.DIRTYPE)
    add("./boot/System.map-6.1.0-50-arm64", b"ffffffc008000000 T _text\n")
    add("./boot/config-6.1.0-50-arm64", b"CONFIG_ARM64=y\n" * 40)
    add("./boot/vmlinuz-6.1.0-50-arm64", bytes(range(256)) * 9 + b"tail")
    add("./usr/lib/modules/6.1.0-50-arm64/" + "d" * 90 + "/" + "m" * 60 + ".ko", b"\x7fELF")
    add("./boot/vmlinuz", type=tarfile.SYMTYPE, linkname="vmlinuz-6.1.0-50-arm64")
    add("./boot/vmlinuz.old", type=tarfile.LNKTYPE, linkname="./boot/vmlinuz-6.1.0-50-arm64")
    add("./dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    add("./fifo", type=tarfile.FIFOTYPE)
    add("./empty", b"")
    add("./" + "x" * 150 + "/odd-name-\u00e9\u4e2d", b"unicode")


def _archive(fmt: int, pax_global: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_global or {}) as tf:
        _entries(tf)
    return buf.getvalue()


def _walk(data: bytes, reader) -> tuple:
    walk = tar_layer.Walk(BytesView(data))
    members = list(reader(walk))
    finding = walk.finding
    return members, walk.count, (finding.rule, finding.message) if finding else None


def _kimage(walk):
    return walk.members()


def _tarfile_only(walk):
    """The walk as it was before the plain headers were read without tarfile."""
    from validator.io.views import ViewFile

    try:
        if walk._guarded(0):
            return
        tf = tarfile.open(fileobj=ViewFile(walk.view), mode="r:")  # noqa: SIM115
        yield from walk._tarfile(tf)
    except tarfile.ReadError as exc:
        text = str(exc)
        rule_id = "layer/truncated" if "unexpected end" in text else "layer/corrupt"
        walk.finding = tar_layer.finding(rule_id, f"tar archive after {walk.count} "
                                         f"members: {text}")


def _set_field(block: bytearray, lo: int, hi: int, value: bytes) -> None:
    block[lo:hi] = value.ljust(hi - lo, b"\0")[:hi - lo]
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)


def _variants() -> dict[str, bytes]:
    out = {}
    for name, fmt in (("gnu", tarfile.GNU_FORMAT), ("ustar", tarfile.USTAR_FORMAT),
                      ("pax", tarfile.PAX_FORMAT)):
        with contextlib.suppress(ValueError):  # ustar: a name too long for it
            out[name] = _archive(fmt)
    out["pax-global"] = _archive(tarfile.PAX_FORMAT, {"comment": "global"})
    gnu = out["gnu"]
    for cut in (100, 512, 700, 1024, 1536, 2000, 3000, len(gnu) - 1024, len(gnu) - 700):
        out[f"gnu-cut-{cut}"] = gnu[:cut]
    headers = [i for i in range(0, len(gnu) - 512, 512)
               if ustar.plain(gnu[i:i + 512]) is not None]
    assert len(headers) >= 8
    for n, at in enumerate(headers[:8]):
        bad = bytearray(gnu)
        bad[at + 3] ^= 0x20  # the checksum no longer matches
        out[f"gnu-bad-checksum-{n}"] = bytes(bad)
        for field, (lo, hi), value in (("size-spaces", (124, 136), b" 0000000011 "),
                                       ("mode-plus", (100, 108), b"+0644"),
                                       ("mode-digit-9", (100, 108), b"0000649"),
                                       ("uid-base256", (108, 116), b"\x80" + b"\0" * 6 + b"\x07"),
                                       ("mtime-empty", (136, 148), b""),
                                       ("devmajor-junk", (329, 337), b"12\0zz"),
                                       ("prefix", (345, 500), b"some/prefix"),
                                       ("type-areg", (156, 157), b"\0"),
                                       ("type-x", (156, 157), b"x")):
            odd = bytearray(gnu)
            block = bytearray(odd[at:at + 512])
            _set_field(block, lo, hi, value)
            odd[at:at + 512] = block
            out[f"gnu-{field}-{n}"] = bytes(odd)
    out["zeros"] = bytes(10240)
    out["empty"] = b""
    return out


@pytest.mark.parametrize("name", sorted(_variants()))
def test_the_walk_is_tarfiles_walk(name):
    data = _variants()[name]
    assert _walk(data, _kimage) == _walk(data, _tarfile_only)


def test_plain_headers_are_read_without_tarfile():
    data = _archive(tarfile.GNU_FORMAT)
    plain = sum(ustar.plain(data[i:i + 512]) is not None for i in range(0, len(data), 512))
    assert plain >= 12  # every member but the GNU long-name ones


@pytest.mark.skipif(not shutil.which("tar"), reason="GNU tar not installed")
def test_gnu_tars_archives_walk_as_tarfile_walks_them(tmp_path):
    root = tmp_path / "root"
    (root / "boot").mkdir(parents=True)
    (root / "boot" / "vmlinuz-1").write_bytes(b"MZ" * 3000)
    (root / "boot" / "config-1").write_text("CONFIG_X=y\n")
    deep = root / "usr/lib/modules/1/kernel" / ("d" * 120)
    deep.mkdir(parents=True)
    (deep / "m.ko").write_bytes(b"\x7fELF")
    (root / "boot" / "vmlinuz").symlink_to("vmlinuz-1")
    for fmt in ("gnu", "ustar", "posix", "oldgnu", "v7"):
        out = tmp_path / f"{fmt}.tar"
        proc = subprocess.run(["tar", f"--format={fmt}", "-cf", str(out), "-C", str(root),
                               "."], capture_output=True)
        if proc.returncode != 0:
            continue  # a name this format cannot hold
        data = out.read_bytes()
        assert _walk(data, _kimage) == _walk(data, _tarfile_only), fmt
