"""Layers on made-up and hostile input: every codec and container, bombs, lying sizes,
truncations, nesting, and the bounds on memory, reads and imports."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import subprocess
import sys
import tarfile
import tracemalloc
import zlib

import pytest

from tests.conftest import CORPUS, ROOT
from validator.io.limits import Limits
from validator.pipeline import analyse

SYNTH = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
NOEFI = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
BANNER = b"Linux version 6.1.99-test (kimage@corpus) (gcc) #1 SMP\n\0"
IMAGE = SYNTH.read_bytes().ljust(0x2000, b"\0") + BANNER + bytes(0x1000)
KERNELS = CORPUS / "kernels"
IMAGE_GZ = KERNELS / "arm64-4k-le-efi/Image.gz"
ZBOOT_GZIP = KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi"
ZBOOT_ZSTD = KERNELS / "arm64-4k-le-zboot-zstd/vmlinuz.efi"

MiB = 1 << 20


def write(tmp_path, data: bytes, name: str = "image"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rules(result) -> list[str]:
    return [f.rule for f in result.findings]


# -- codecs ----------------------------------------------------------------------------

def lz4_legacy(data: bytes, size_trailer: bool = True) -> bytes:
    """The kernel's `lz4 -l` framing: magic, then (u32 LE size, block)* (+ u32 size)."""
    import lz4.block

    out = bytearray(b"\x02\x21\x4c\x18")
    for i in range(0, len(data), 8 * MiB):
        block = lz4.block.compress(data[i:i + 8 * MiB], store_size=False)
        out += struct.pack("<I", len(block)) + block
    if size_trailer:
        out += struct.pack("<I", len(data))
    return bytes(out)


def lzma_alone(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_ALONE)


def compressors():
    import lz4.frame
    import zstandard

    return {
        "gzip": lambda d: gzip.compress(d, mtime=0),
        "xz": lambda d: lzma.compress(d, check=lzma.CHECK_CRC32),
        "lzma": lzma_alone,
        "bzip2": bz2.compress,
        "lz4": lz4.frame.compress,
        "lz4-legacy": lz4_legacy,
        "zstd": lambda d: zstandard.ZstdCompressor(level=19).compress(d),
    }


CODECS = ["gzip", "xz", "lzma", "bzip2", "lz4", "lz4-legacy", "zstd"]


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_reaches_the_header(codec, tmp_path):
    path = write(tmp_path, compressors()[codec](IMAGE))
    result = analyse(path)
    name = codec.split("-")[0]
    assert result.format == "arm64-image" and result.verdict == "pass", rules(result)
    assert result.facts["compression"] == name
    assert result.facts["kernel_version"] == "6.1.99-test"
    assert [layer.kind for layer in result.layers] == [name]
    assert result.header_offset is None  # the header's bytes are not the file's
    full = analyse(path, Limits(decode_all=True))
    assert full.payload_size == len(IMAGE) and full.verdict == "pass", rules(full)
    assert full.layers[0].details["decoded_size"] == len(IMAGE)


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_cut_short_is_truncated(codec, tmp_path):
    data = os.urandom(200_000)  # incompressible: the cut falls inside the stream
    blob = compressors()[codec](IMAGE + data)
    path = write(tmp_path, blob[: len(blob) * 2 // 3])
    result = analyse(path, Limits(decode_all=True))
    # (block codecs - bzip2, lz4 legacy - emit nothing of a block that is cut short, so
    # the header may be lost with it; then the chain stops without layer/unknown-format)
    assert set(rules(result)) & {"layer/truncated", "layer/corrupt"}, rules(result)
    assert "layer/unknown-format" not in rules(result)
    assert result.verdict == "fail"


def test_lzo_is_reported_not_decoded(tmp_path):
    path = write(tmp_path, b"\x89LZO\x00\r\n\x1a\n" + bytes(200))
    result = analyse(path)
    assert rules(result) == ["layer/unsupported-compression"]
    assert result.format == "unknown" and result.layers[0].kind == "lzo"


def test_corrupt_gzip(tmp_path):
    blob = bytearray(gzip.compress(IMAGE + os.urandom(50_000), mtime=0))
    blob[len(blob) // 2] ^= 0xFF
    result = analyse(write(tmp_path, bytes(blob)), Limits(decode_all=True))
    assert set(rules(result)) & {"layer/corrupt", "layer/lying-size"}


def test_gzip_with_a_lying_isize(tmp_path):
    blob = bytearray(gzip.compress(IMAGE, mtime=0))
    blob[-4:] = struct.pack("<I", len(IMAGE) + 1)
    result = analyse(write(tmp_path, bytes(blob)), Limits(decode_all=True))
    assert "layer/lying-size" in rules(result)


def test_trailing_dtb_after_gzip(tmp_path):
    dtb = b"\xd0\x0d\xfe\xed" + bytes(60)
    result = analyse(write(tmp_path, gzip.compress(IMAGE, mtime=0) + dtb),
                     Limits(decode_all=True))
    details = result.layers[0].details
    assert details["trailing_bytes"] == 64 and details["appended_dtb"] is True
    assert result.verdict == "pass"


# -- bombs -------------------------------------------------------------------------------

def _zeros_gzip(total: int, prefix: bytes = b"") -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(prefix)]
    chunk = bytes(MiB)
    for _ in range(total // MiB):
        out.append(c.compress(chunk))
    out.append(c.flush())
    return b"".join(out)


def test_gzip_bomb_stops_at_the_ratio(tmp_path):
    path = write(tmp_path, _zeros_gzip(64 * MiB, IMAGE))
    tracemalloc.start()
    result = analyse(path, Limits(decode_all=True))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "layer/decompression-limit" in rules(result)
    assert "bomb" in " ".join(f.message for f in result.findings)
    assert result.format == "arm64-image"  # its header was in front of the bomb
    assert peak < 12 * MiB, peak


def test_output_cap(tmp_path):
    data = IMAGE + os.urandom(3 * MiB)
    path = write(tmp_path, gzip.compress(data, compresslevel=1, mtime=0))
    result = analyse(path, Limits(decode_all=True, max_decompressed=2 * MiB))
    assert "layer/decompression-limit" in rules(result)
    assert result.payload_size is None


def test_zstd_bomb(tmp_path):
    import zstandard

    blob = zstandard.ZstdCompressor(level=1).compress(bytes(200 * MiB))
    assert len(blob) < 64 * 1024
    path = write(tmp_path, blob)
    # inspect decodes only the start: no header there, and nothing more is decoded
    assert rules(analyse(path)) == ["layer/unknown-format"]
    tracemalloc.start()
    result = analyse(path, Limits(decode_all=True))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "layer/decompression-limit" in rules(result)
    assert peak < 12 * MiB, peak


def test_bomb_in_a_subprocess_keeps_rss_low(tmp_path):
    path = write(tmp_path, _zeros_gzip(128 * MiB))
    # VmHWM is this process's own peak; ru_maxrss would start at pytest's peak at fork.
    code = ("from validator.pipeline import analyse, Limits; "
            f"r = analyse({str(path)!r}, Limits(decode_all=True)); "
            "print([f.rule for f in r.findings]); "
            "print('RSS', [int(line.split()[1]) for line in open('/proc/self/status') "
            "if line.startswith('VmHWM:')][0])")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "layer/decompression-limit" in p.stdout, p.stdout + p.stderr
    rss_kib = int(p.stdout.split("RSS")[1])
    assert rss_kib < 96 * 1024, rss_kib


# -- nesting -----------------------------------------------------------------------------

def test_twenty_deep_gzip_stops_at_the_nesting_limit(tmp_path):
    data = IMAGE
    for _ in range(20):
        data = gzip.compress(data, mtime=0)
    result = analyse(write(tmp_path, data))
    assert rules(result) == ["layer/nesting-limit"]
    assert len(result.layers) == Limits().max_depth
    assert result.format == "unknown" and result.verdict == "fail"


def test_nesting_within_the_limit(tmp_path):
    data = IMAGE
    for _ in range(3):
        data = gzip.compress(data, mtime=0)
    result = analyse(write(tmp_path, data))
    assert result.format == "arm64-image" and len(result.layers) == 3


# -- zboot -------------------------------------------------------------------------------

def zboot(payload: bytes, name: bytes = b"gzip", size: int | None = None) -> bytes:
    header = bytearray(0x200)
    header[0:8] = b"MZ\0\0zimg"
    header[8:16] = struct.pack("<II", 0x200, len(payload) if size is None else size)
    header[0x18:0x18 + len(name)] = name
    header[0x3C:0x40] = struct.pack("<I", 0x40)
    header[0x40:0x46] = b"PE\0\0" + struct.pack("<H", 0xAA64)
    return bytes(header) + payload


def test_zboot_gzip_and_zstd_real(tmp_path):
    for path, codec, name in ((ZBOOT_GZIP, "gzip", "gzip"), (ZBOOT_ZSTD, "zstd", "zstd22")):
        result = analyse(path)
        assert result.format == "arm64-image" and result.verdict == "pass"
        zb = result.layers[0].details
        assert zb["compression"] == name and zb["codec"] == codec
        assert zb["kexec_tools_accepts_name"] is True
        assert zb["pe"]["machine"] == 0xAA64 and zb["pe"]["subsystem"] == 10
        assert result.facts["compression"] == codec
        assert result.derived["pe"]["size_of_image_matches_image_size"] is True


@pytest.mark.parametrize(("name", "codec"), [(b"xzkern", "xz"), (b"lzma", "lzma"),
                                             (b"lz4", "lz4-legacy"), (b"zstd", "zstd"),
                                             (b"zstd22", "zstd")])
def test_zboot_names(tmp_path, name, codec):
    result = analyse(write(tmp_path, zboot(compressors()[codec](IMAGE), name)))
    assert result.format == "arm64-image", rules(result)
    assert result.layers[0].details["kexec_tools_accepts_name"] == (name[:4] in
                                                                   (b"gzip", b"zstd", b"lzma"))


def test_zboot_lzo_is_unsupported(tmp_path):
    result = analyse(write(tmp_path, zboot(b"\x89LZO\0\r\n\x1a\n" + bytes(100), b"lzo")))
    assert rules(result) == ["layer/unsupported-compression"]


def test_zboot_hostile_headers(tmp_path):
    gz = gzip.compress(IMAGE, mtime=0)
    cases = {
        "zboot/payload-outside-file": zboot(gz, size=len(gz) + 1),
        "zboot/unknown-compression": zboot(gz, b"brotli"),
        "zboot/compression-mismatch": zboot(gz, b"zstd22"),
        "zboot/no-arm64-image": zboot(gzip.compress(b"\0" * 4096, mtime=0)),
    }
    for rule_id, data in cases.items():
        result = analyse(write(tmp_path, data, rule_id.replace("/", "-")))
        assert rule_id in rules(result), (rule_id, rules(result))
        assert result.verdict == "fail"


def test_zboot_cut_short(tmp_path):
    data = ZBOOT_GZIP.read_bytes()[:0x20000]
    result = analyse(write(tmp_path, data))
    assert "zboot/payload-outside-file" in rules(result)


# -- uImage ------------------------------------------------------------------------------

def uimage(payload: bytes, comp: int = 1, size: int | None = None) -> bytes:
    head = bytearray(64)
    struct.pack_into(">IIIIIIIBBBB", head, 0, 0x27051956, 0, 0,
                     len(payload) if size is None else size, 0x80000, 0x80000,
                     zlib.crc32(payload), 5, 22, 2, comp)
    head[32:40] = b"Linux-t\0"
    struct.pack_into(">I", head, 4, zlib.crc32(bytes(head)))
    return bytes(head) + payload


def test_uimage(tmp_path):
    result = analyse(write(tmp_path, uimage(gzip.compress(IMAGE, mtime=0))))
    assert result.format == "arm64-image" and result.verdict == "pass", rules(result)
    d = result.layers[0].details
    assert d["arch"] == "arm64" and d["compression"] == "gzip" and d["header_crc_ok"]
    plain = analyse(write(tmp_path, uimage(IMAGE, comp=0), "plain"))
    assert plain.header_offset == 64 and plain.facts["compression"] is None


def test_uimage_hostile(tmp_path):
    gz = gzip.compress(IMAGE, mtime=0)
    lying = analyse(write(tmp_path, uimage(gz, size=len(gz) + 10), "lying"))
    assert "layer/lying-size" in rules(lying)
    bad_crc = bytearray(uimage(gz))
    bad_crc[40] ^= 1
    assert "uimage/bad-header-crc" in rules(analyse(write(tmp_path, bytes(bad_crc), "crc")))
    mismatch = analyse(write(tmp_path, uimage(gz, comp=6), "mismatch"))
    assert "uimage/compression-mismatch" in rules(mismatch)


# -- Android boot image ----------------------------------------------------------------------

def android(kernel: bytes, version: int = 0, page: int = 2048,
            kernel_size: int | None = None) -> bytes:
    head = bytearray(page if version < 3 else 4096)
    head[:8] = b"ANDROID!"
    size = len(kernel) if kernel_size is None else kernel_size
    if version < 3:
        struct.pack_into("<10I", head, 8, size, 0x10008000, 0, 0, 0, 0, 0x100, page,
                         version, 0)
    else:
        struct.pack_into("<4I", head, 8, size, 0, 0, 1580)
        struct.pack_into("<I", head, 40, version)
    pad = (-len(kernel)) % len(head)
    return bytes(head) + kernel + bytes(pad)


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_android_versions(tmp_path, version):
    data = android(gzip.compress(IMAGE, mtime=0) + b"\xd0\x0d\xfe\xed" + bytes(60), version)
    result = analyse(write(tmp_path, data))
    assert result.format == "arm64-image" and result.verdict == "pass", rules(result)
    assert result.layers[0].details["header_version"] == version


@pytest.mark.parametrize("version", [1, 4])
def test_android_image_lz4_dtb(tmp_path, version):
    """Image.lz4-dtb (Android kernels before GKI: the `lz4 -l` legacy stream, then the DTBs
    cat appends): the stream ends at the DTB's magic, which is trailing data, as for
    Image.gz-dtb; a legacy stream whose next word is no block size and no DTB is corrupt."""
    pytest.importorskip("lz4")
    from validator.checker import Options, check_image
    from validator.formats.compression.writer import compress

    dtb = b"\xd0\x0d\xfe\xed" + struct.pack(">I", 64) + bytes(56)
    data = android(compress("lz4", IMAGE) + dtb, version)
    result = check_image(write(tmp_path, data), Options())
    assert result.format == "arm64-image" and result.verdict == "pass", rules(result)
    lz4 = result.layers[1]
    assert (lz4.kind, lz4.details["trailing_bytes"]) == ("lz4", len(dtb))
    broken = android(compress("lz4", IMAGE) + b"\xd0\x0d\xfe\xee" + bytes(60), version)
    assert "layer/corrupt" in rules(check_image(write(tmp_path, broken, "broken"), Options()))


def test_android_hostile(tmp_path):
    gz = gzip.compress(IMAGE, mtime=0)
    lying = analyse(write(tmp_path, android(gz, kernel_size=MiB), "lying"))
    assert "layer/lying-size" in rules(lying)
    bad = analyse(write(tmp_path, android(gz, page=3000), "page"))
    assert "android/bad-header" in rules(bad)


# -- Debian packages -----------------------------------------------------------------------

def ar(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) & 1 else b"")
    return bytes(out)


def tar_xz(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def deb(files, data_name="data.tar.xz") -> bytes:
    return ar([("debian-binary", b"2.0\n"), ("control.tar.xz", tar_xz([("./control", b"x")])),
               (data_name, tar_xz(files))])


def test_deb_takes_the_first_kernel(tmp_path):
    other = IMAGE.replace(b"6.1.99-test", b"6.1.98-othr")
    data = deb([("./boot/config-6.1.99-test", b"CONFIG_X=y\n"),
                ("./boot/vmlinuz-6.1.99-test", IMAGE), ("./boot/vmlinuz-6.1.98-othr", other)])
    result = analyse(write(tmp_path, data, "k.deb"))
    assert result.format == "arm64-image" and result.verdict == "pass", rules(result)
    assert [layer.kind for layer in result.layers] == ["deb", "xz", "tar"]
    tar = result.layers[2].details
    assert tar["member"] == "./boot/vmlinuz-6.1.99-test"
    assert tar["config_member"] == "./boot/config-6.1.99-test"
    assert "first" in tar["selected"]
    assert result.facts["kernel_version"] == "6.1.99-test"
    assert result.facts["compression"] is None  # the kernel file itself is not compressed


def test_deb_with_a_compressed_kernel(tmp_path):
    data = deb([("./boot/vmlinuz-6.1.99-test", gzip.compress(IMAGE, mtime=0))])
    result = analyse(write(tmp_path, data, "k.deb"))
    assert [layer.kind for layer in result.layers] == ["deb", "xz", "tar", "gzip"]
    assert result.facts["compression"] == "gzip"


def test_deb_hostile(tmp_path):
    none = analyse(write(tmp_path, deb([("./usr/bin/x", b"hello")]), "none.deb"))
    assert rules(none) == ["deb/no-kernel"]
    # documentation files only, none a linux-image package's: no kernel package at all
    doc = analyse(write(tmp_path, deb([("./usr/share/doc/x", b"hello")]), "doc.deb"))
    assert rules(doc) == ["deb/no-kernel"]
    # a linux-image package's documentation only: Linux 7.x's linux-image-V metapackage
    meta = analyse(write(tmp_path, deb([("./usr/share/bug/linux-image-7.2.13+deb14-arm64",
                                         b"")]), "meta.deb"))
    assert rules(meta) == ["deb/metapackage"]
    good = deb([("./boot/vmlinuz-1", IMAGE)])
    cut = analyse(write(tmp_path, good[: len(good) - 100], "cut.deb"))
    assert "layer/lying-size" in rules(cut)  # the ar member says more than is there
    nodata = analyse(write(tmp_path, ar([("debian-binary", b"2.0\n")]), "nodata.deb"))
    assert rules(nodata) == ["deb/no-kernel"]
    garbage = analyse(write(tmp_path, b"!<arch>\n" + b"x" * 100, "garbage.deb"))
    assert set(rules(garbage)) & {"layer/corrupt", "layer/truncated"}


def test_real_deb_ordering_streams_past_other_members(tmp_path):
    files = [(f"./usr/share/doc/f{i}", os.urandom(2000)) for i in range(300)]
    data = deb(files + [("./boot/vmlinux-6.1.99-test", IMAGE)])
    result = analyse(write(tmp_path, data, "late.deb"))
    assert result.format == "arm64-image", rules(result)
    assert result.layers[2].details["member"] == "./boot/vmlinux-6.1.99-test"


# -- PE ----------------------------------------------------------------------------------

def test_pe_headers_beyond_reason(tmp_path):
    data = bytearray(SYNTH.read_bytes())
    struct.pack_into("<HHIIIHH", data, 0x44, 0xAA64, 0xFFFF, 0, 0, 0, 0xFFFF, 0x206)
    result = analyse(write(tmp_path, bytes(data)))
    assert rules(result) == ["pe/malformed"]


def test_pe_of_the_real_image(tmp_path):
    from corpus.materialise import materialise

    path = materialise(KERNELS / "arm64-4k-le-efi/Image.excerpt.json", tmp_path / "Image")
    pe = analyse(path).derived["pe"]
    assert pe["machine"] == 0xAA64 and pe["subsystem"] == 10
    assert [s["name"] for s in pe["sections"]] == [".text", ".data"]
    assert pe["authenticode"] is None and pe["size_of_image_matches_image_size"]


# -- reads and imports ---------------------------------------------------------------------

def test_inspect_of_a_large_gzip_reads_little(tmp_path):
    blob = gzip.compress(IMAGE + os.urandom(6 * MiB), compresslevel=1, mtime=0)
    path = write(tmp_path, blob)
    import validator.source as source

    seen = []
    real_close = source.Source.close

    def close(self):
        seen.append(self.bytes_read)
        real_close(self)

    source.Source.close = close
    try:
        result = analyse(path)
    finally:
        source.Source.close = real_close
    assert result.format == "arm64-image" and result.facts["kernel_version"] == "6.1.99-test"
    assert seen[0] <= MiB, seen


@pytest.mark.parametrize("kind", ["gzip-noefi", "gzip-efi", "uimage"])
def test_compressed_inspect_imports_nothing_heavy(tmp_path, kind):
    base = NOEFI.read_bytes() if kind == "gzip-noefi" else SYNTH.read_bytes()
    data = gzip.compress(base, mtime=0)
    if kind == "uimage":
        data = uimage(data)
    path = write(tmp_path, data)
    code = (f"import sys; from validator import cli; cli.main(['inspect', {str(path)!r}]); "
            "heavy = [m for m in ('hypothesis', 'jsonschema', 'pefile', 'elftools', "
            "'construct', 'lz4', 'zstandard', 'tarfile') if m in sys.modules]; "
            "print('HEAVY', heavy)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert "HEAVY []" in p.stdout, p.stdout + p.stderr


def test_no_traceback_on_any_prefix_of_a_wrapped_image(tmp_path):
    """Every cut of a uImage-in-gzip-in-zboot-ish chain is a finding, never an exception."""
    data = uimage(gzip.compress(IMAGE, mtime=0))
    for cut in list(range(60, 200, 7)) + [len(data) // 2, len(data) - 3]:
        result = analyse(write(tmp_path, data[:cut], f"cut{cut}"), Limits(decode_all=True))
        assert result.verdict == "fail" or result.format == "arm64-image"


def test_lz4_legacy_blocks_larger_than_the_window(tmp_path):
    """An 8 MiB legacy block is handed out in pieces: bytes past the first MiB of the
    stream (here the banner at 3 MiB) are still read."""
    data = IMAGE.replace(BANNER, bytes(len(BANNER))).ljust(3 * MiB, b"\1") + BANNER
    result = analyse(write(tmp_path, lz4_legacy(data)))
    assert result.facts["kernel_version"] == "6.1.99-test"
