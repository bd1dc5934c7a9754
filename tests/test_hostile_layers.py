"""Hostile wrappers: each is checked in a subprocess whose CPU time and peak RSS (VmHWM)
are measured, with the finding that says why kimage stopped.

ELF program-header tables (the loaders' bounds), tar extended headers of hundreds of
MiB, decoders whose history window would take memory past 64 MiB, and the robustness
harness's own memory. Inputs are built here from the formats' specifications (ELF gABI,
ustar/pax, xz file format 1.1.0, RFC 8878) and checked against the real tools (readelf,
xz, zstd) where those can tell.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib

import pytest

from tests.conftest import CORPUS, ROOT
from validator.io.limits import Limits
from validator.pipeline import analyse

MiB = 1 << 20
IMAGE = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img").read_bytes().ljust(0x2000,
                                                                                     b"\0")
PROBE = r"""
import json, resource, sys
from validator.cli import main
rc = main(sys.argv[1:])
sys.stdout.flush()
u = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
sys.stderr.write("\nPROBE " + json.dumps({"rc": rc, "cpu": u.ru_utime + u.ru_stime,
                                          "hwm_kib": hwm}) + "\n")
"""


def kimage(*args, timeout: float = 60):
    """(exit code, JSON report's first image, CPU seconds, peak RSS in MiB) of ``kimage
    check --format json ARGS`` in a fresh interpreter (VmHWM: ru_maxrss would carry
    pytest's own over the exec)."""
    proc = subprocess.run([sys.executable, "-c", PROBE, "check", "--format", "json", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    probe = json.loads(proc.stderr.rsplit("PROBE ", 1)[1])
    image = json.loads(proc.stdout)["images"][0]
    return probe["rc"], image, probe["cpu"], probe["hwm_kib"] / 1024


def rules(image: dict) -> list[str]:
    return [f["rule"] for f in image["findings"]]


def message(image: dict, rule_id: str) -> str:
    return next(f["message"] for f in image["findings"] if f["rule"] == rule_id)


# -- ELF program headers ----------------------------------------------------------------

def elf64(path, phnum: int, phentsize: int = 56, loads: int = 1,
          sh_info: int | None = None) -> None:
    """An ELF64 LE AArch64 ET_EXEC file (gABI): ``loads`` PT_LOAD entries at e_phoff 64,
    room for ``phnum`` entries of ``phentsize`` (sparse), and with ``sh_info`` one section
    header (section 0) carrying it, as PN_XNUM needs."""
    table_end = 64 + phnum * phentsize
    shoff = table_end if sh_info is not None else 0
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0, 64, shoff, 0, 64, phentsize,
                               phnum, 64, 1 if sh_info is not None else 0, 0)
    with open(path, "wb") as f:
        f.write(ehdr)
        for i in range(loads):
            f.seek(64 + i * phentsize)
            f.write(struct.pack("<IIQQQQQQ", 1, 5, 0x10000 + i * 0x1000, i * 0x1000, 0,
                                0x40, 0x40, 0x1000))
        if sh_info is not None:
            f.seek(shoff)
            f.write(struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, sh_info, 0, 0))
        f.truncate(max(f.tell(), table_end, 0x20000))


def readelf(*args) -> str:
    if not shutil.which("readelf"):
        pytest.skip("readelf (binutils) is not installed")
    return subprocess.run(["readelf", *args], capture_output=True, text=True).stdout


def test_a_268_mb_program_header_table_is_refused_at_once(tmp_path):
    """e_phnum 4096 of e_phentsize 65535: before, each header was sliced from a copy of the
    rest of the table (quadratic) and 268 MB were read; the loaders want e_phentsize ==
    sizeof(Elf64_Phdr) and refuse it."""
    path = tmp_path / "vmlinux"
    elf64(path, phnum=4096, phentsize=0xFFFF)
    assert path.stat().st_size == 64 + 4096 * 0xFFFF
    assert re.search(r"Size of program headers:\s+65535", readelf("-h", str(path)))
    rc, image, cpu, rss = kimage(str(path))
    assert rc == 1 and rules(image) and rules(image)[0] == "elf/malformed"
    assert "e_phentsize 65535" in message(image, "elf/malformed")
    assert cpu < 10 and rss <= 64, (cpu, rss)


def test_pn_xnum_is_taken_as_65535_headers_and_bounded(tmp_path):
    path = tmp_path / "vmlinux"
    elf64(path, phnum=0xFFFF, sh_info=3)
    # readelf follows the gABI escape (section 0's sh_info); the kexec loaders do not
    assert "There are 3 program headers" in readelf("-lW", str(path))
    rc, image, cpu, rss = kimage(str(path))
    assert rc == 1 and "elf/too-many-program-headers" in rules(image)
    text = message(image, "elf/too-many-program-headers")
    assert "PN_XNUM" in text and "65535" in text
    assert cpu < 10 and rss <= 64, (cpu, rss)


def test_the_largest_table_binfmt_elf_takes_is_read_whole_and_linearly(tmp_path):
    # fs/binfmt_elf.c: at most 65536 / sizeof(struct elf_phdr) = 1170 ELF64 headers
    path = tmp_path / "vmlinux"
    elf64(path, phnum=1170, loads=1170)
    listing = readelf("-lW", str(path))
    assert "There are 1170 program headers" in listing
    result = analyse(path, Limits(decode_all=True))
    elf = next(layer for layer in result.layers if layer.kind == "elf")
    assert len(elf.details["loads"]) == len(re.findall(r"^\s+LOAD\s", listing, re.M))
    assert "elf/too-many-program-headers" not in [f.rule for f in result.findings]
    elf64(path, phnum=1171, loads=1)
    assert "elf/too-many-program-headers" in [f.rule for f in analyse(path).findings]


def test_a_program_header_size_other_than_the_struct_is_malformed(tmp_path):
    # kexec-tools build_mem_elf64_ehdr and kexec_file_load elf_is_ehdr_sane refuse it
    path = tmp_path / "vmlinux"
    elf64(path, phnum=1, phentsize=64)
    assert re.search(r"Size of program headers:\s+64", readelf("-h", str(path)))
    result = analyse(path)
    assert [f.rule for f in result.findings][:1] == ["elf/malformed"]


# -- tar extended headers ----------------------------------------------------------------

def ar_member(name: str, size: int) -> bytes:
    return f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{size:<10}`\n".encode()


def small_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def header(name: str, typeflag: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = typeflag, size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def write_deb(path, data_tar_parts: list[bytes | int]) -> None:
    """A .deb (ar: debian-binary, control.tar, uncompressed data.tar) whose data.tar is
    ``data_tar_parts``: bytes, or an int for that many zero bytes left as a hole."""
    control = small_tar("./control", b"Package: t\nVersion: 1\nArchitecture: all\n")
    size = sum(p if isinstance(p, int) else len(p) for p in data_tar_parts)
    with open(path, "wb") as f:
        f.write(b"!<arch>\n" + ar_member("debian-binary", 4) + b"2.0\n")
        f.write(ar_member("control.tar", len(control)) + control)
        f.write(ar_member("data.tar", size))
        for part in data_tar_parts:
            if isinstance(part, int):
                f.seek(part, os.SEEK_CUR)
            else:
                f.write(part)
        f.truncate(f.tell())


def kernel_member(name: str = "./boot/vmlinuz-1") -> bytes:
    return header(name, tarfile.REGTYPE, len(IMAGE)) + IMAGE + bytes(-len(IMAGE) % 512)


@pytest.mark.parametrize("typeflag", [b"x", b"L", b"K"], ids=["pax", "gnu-longname",
                                                              "gnu-longlink"])
def test_a_300_mib_extended_header_is_not_read(typeflag, tmp_path):
    """Before, tarfile read the whole 300 MiB header into memory (672 MiB, 28 s)."""
    big = 300 * MiB
    path = tmp_path / "k.deb"
    write_deb(path, [header("././@LongLink", typeflag, big), b"25 path=./boot/vmlinuz-1\n",
                     big - 25, kernel_member(), bytes(1024)])
    rc, image, cpu, rss = kimage(str(path))
    assert rc == 1 and "layer/tar-header-limit" in rules(image)
    assert f"{big:#x} bytes" in message(image, "layer/tar-header-limit")
    assert cpu < 10 and rss <= 64, (cpu, rss)


def test_extended_headers_chained_without_end_stop_the_walk(tmp_path):
    # tarfile follows a chain recursively: 400 headers would exhaust the Python stack
    record = b"25 path=./boot/vmlinuz-1\n".ljust(512, b"\0")
    chain = [header("././@PaxHeader", b"x", 25) + record for _ in range(400)]
    path = tmp_path / "k.deb"
    write_deb(path, [*chain, kernel_member(), bytes(1024)])
    result = analyse(path, Limits(decode_all=True))
    assert [f.rule for f in result.findings] == ["layer/tar-header-limit"]
    assert "more than 8 extended headers" in result.findings[0].message


def test_sparse_members_are_not_followed(tmp_path):
    old = bytearray(header("./boot/vmlinuz-1", b"S", 0))
    old[482] = 1  # isextended: extension blocks follow (GNU tar's old sparse format)
    old[148:156] = b"        "
    old[148:155] = f"{sum(old):06o}\0".encode()
    extension = bytes(504) + b"\x01" + bytes(7)  # each says another follows
    path = tmp_path / "old.deb"
    write_deb(path, [bytes(old), extension * 100, bytes(1024)])
    result = analyse(path)
    assert "layer/tar-header-limit" in [f.rule for f in result.findings]
    record = b"22 GNU.sparse.major=1\n".ljust(512, b"\0")
    path = tmp_path / "pax.deb"
    write_deb(path, [header("././@PaxHeader", b"x", 22) + record, kernel_member(),
                     bytes(1024)])
    assert "layer/tar-header-limit" in [f.rule for f in analyse(path).findings]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_an_ordinary_long_name_is_still_read(fmt, tmp_path):
    name = "./boot/vmlinuz-6.1.99-" + "x" * 150
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        info = tarfile.TarInfo(name)
        info.size = len(IMAGE)
        tf.addfile(info, io.BytesIO(IMAGE))
    path = tmp_path / "k.deb"
    write_deb(path, [buf.getvalue()])
    listing = subprocess.run(["dpkg-deb", "-c", str(path)], capture_output=True, text=True)
    if listing.returncode == 0:  # the real tool reads the name the same way
        assert name[1:] in listing.stdout
    result = analyse(path, Limits(decode_all=True))
    assert result.format == "arm64-image", [f.message for f in result.findings]
    assert result.layers[-1].details["member"] == name


# -- decoder memory ----------------------------------------------------------------------

def payload(size: int, seed: int = 0) -> bytes:
    """An arm64 Image followed by ``size`` bytes of 16 symbols (about 2:1, no long matches:
    far from a bomb's ratio)."""
    table = bytes.maketrans(bytes(range(256)), bytes(0x41 + (i & 15) for i in range(256)))
    return IMAGE + os.urandom(size).translate(table)


def zstd_stream(data: bytes, window_log: int) -> bytes:
    """A zstd frame with that window and no content size, as `zstd -22 --ultra` from a
    pipe writes for the kernel's zstd22."""
    zstandard = pytest.importorskip("zstandard")
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=window_log)
    buf = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(
            buf, closefd=False) as writer:
        writer.write(data)
    return buf.getvalue()


def xz_stored(data: bytes, dict_size: int) -> bytes:
    """An xz stream (xz file format 1.1.0) of one block whose LZMA2 filter declares
    ``dict_size`` and whose data are stored chunks (no compression, made in no time)."""
    def crc(b: bytes) -> bytes:
        return struct.pack("<I", zlib.crc32(b))

    def vli(n: int) -> bytes:
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        return bytes(out + bytes([n]))

    bits = next(b for b in range(41) if ((2 | (b & 1)) << (b // 2 + 11)) >= dict_size)
    flags = b"\x00\x01"  # check: CRC32
    stream_header = b"\xfd7zXZ\x00" + flags + crc(flags)
    block_header = bytearray(b"\x00\x00\x21\x01" + bytes([bits]))  # LZMA2, 1 property byte
    block_header += bytes(-(len(block_header) + 4) % 4)
    block_header[0] = (len(block_header) + 4) // 4 - 1
    block_header = bytes(block_header) + crc(bytes(block_header))
    chunks = bytearray()
    for i in range(0, len(data), 0x10000):
        chunk = data[i:i + 0x10000]
        chunks += bytes([1 if i == 0 else 2]) + struct.pack(">H", len(chunk) - 1) + chunk
    chunks += b"\x00"
    unpadded = len(block_header) + len(chunks) + 4
    block = block_header + bytes(chunks) + bytes(-len(chunks) % 4) + crc(data)
    index = bytearray(b"\x00" + vli(1) + vli(unpadded) + vli(len(data)))
    index += bytes(-len(index) % 4)
    index = bytes(index) + crc(bytes(index))
    backward = struct.pack("<I", len(index) // 4 - 1) + flags
    footer = crc(backward) + backward + b"YZ"
    return stream_header + block + index + footer


def errors(image: dict) -> list[str]:
    """Error findings about decoding (a stream decoded in part is kimage's limit: info)."""
    return [f["rule"] for f in image["findings"]
            if f["severity"] == "error" and f["rule"].startswith("layer/")]


def tool(*args) -> subprocess.CompletedProcess:
    if not shutil.which(args[0]):
        pytest.skip(f"{args[0]} is not installed")
    return subprocess.run(args, capture_output=True, text=True)


def test_a_zstd_window_of_2_27_stops_at_the_decoder_budget(tmp_path):
    path = tmp_path / "Image.zst"
    path.write_bytes(zstd_stream(payload(40 * MiB), 27))
    assert "Window Size: 128 MiB" in tool("zstd", "-lv", str(path)).stdout
    rc, image, cpu, rss = kimage(str(path))
    assert "layer/decoded-in-part" in rules(image) and not errors(image), image["findings"]
    assert "128.0 MiB history window" in message(image, "layer/decoded-in-part")
    assert rss <= 64, rss


def test_an_xz_dictionary_of_64_mib_stops_at_the_decoder_budget(tmp_path):
    path = tmp_path / "Image.xz"
    path.write_bytes(xz_stored(payload(34 * MiB), 64 * MiB))
    assert tool("xz", "-t", str(path)).returncode == 0
    assert "--lzma2=dict=64MiB" in tool("xz", "--robot", "-lvv", str(path)).stdout
    rc, image, cpu, rss = kimage(str(path))
    assert "layer/decoded-in-part" in rules(image) and not errors(image), image["findings"]
    assert "64.0 MiB history window" in message(image, "layer/decoded-in-part")
    assert rss <= 64, rss


def test_nested_decoders_share_the_budget(tmp_path):
    inner = zstd_stream(payload(30 * MiB), 27)
    path = tmp_path / "Image.zst.xz"
    path.write_bytes(xz_stored(inner, 64 * MiB))
    rc, image, cpu, rss = kimage(str(path))
    assert "layer/decoded-in-part" in rules(image) and not errors(image), image["findings"]
    assert "held by the streams around it" in message(image, "layer/decoded-in-part")
    assert rss <= 64, rss


def test_a_deep_chain_of_large_windows_stays_within_64_mib(tmp_path):
    data = payload(20 * MiB)
    for _ in range(7):
        data = zstd_stream(data, 27)
    path = tmp_path / "Image.zst7"
    path.write_bytes(data)
    rc, image, cpu, rss = kimage(str(path))
    assert "layer/decoded-in-part" in rules(image) and not errors(image), image["findings"]
    assert rss <= 64, rss


def test_an_lz4_legacy_block_inside_a_decoded_stream_is_read_whole(tmp_path):
    """A legacy block (up to 8 MiB) is longer than a decoded view hands out at once; it
    was reported cut short."""
    lz4_block = pytest.importorskip("lz4.block")
    image = payload(9 * MiB)
    legacy = bytearray(b"\x02\x21\x4c\x18")  # the kernel's `lz4 -l` framing
    for i in range(0, len(image), 8 * MiB):
        block = lz4_block.compress(image[i:i + 8 * MiB], store_size=False)
        legacy += struct.pack("<I", len(block)) + block
    (tmp_path / "Image.lz4").write_bytes(bytes(legacy))
    if shutil.which("lz4"):  # the real lz4 reads the framing as the kernel's
        real = subprocess.run(["lz4", "-dc", str(tmp_path / "Image.lz4")],
                              capture_output=True)
        assert real.stdout == image
    path = tmp_path / "Image.lz4.gz"
    path.write_bytes(gzip.compress(bytes(legacy), compresslevel=1, mtime=0))
    result = analyse(path, Limits(decode_all=True))
    assert [f.rule for f in result.findings if f.severity == "error"] == []
    assert result.payload_size == len(image)


def test_a_window_beyond_128_mib_is_refused_before_decoding(tmp_path):
    path = tmp_path / "Image.zst"
    path.write_bytes(zstd_stream(IMAGE, 28))
    assert "Window Size: 256 MiB" in tool("zstd", "-lv", str(path)).stdout
    # the real zstd refuses it too without --memory (its default limit is 128 MiB)
    assert tool("zstd", "-t", str(path)).returncode != 0
    result = analyse(path, Limits(decode_all=True))
    assert [f.rule for f in result.findings] == ["layer/decoder-memory-limit"]
    assert "256 MiB" in result.findings[0].message


def test_a_real_zstd22_kernel_fits_the_budget():
    """corpus/kernels' zboot-zstd was made by the kernel's zstd22 (window 2^27): only its
    2.4 MB of output fill the window."""
    result = analyse(CORPUS / "kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi",
                     Limits(decode_all=True))
    zstd = next(layer for layer in result.layers if layer.kind == "zstd")
    assert zstd.details["window"] == 1 << 27
    assert result.verdict == "pass", [f.message for f in result.findings]


def test_the_robustness_harness_stays_within_64_mib(tmp_path):
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench/robustness.py"), "--inputs", "3000", "--workers",
         "1", "--seed", "hostile-layers", "--regressions", str(tmp_path / "reg"), "--json",
         str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(out.read_text())
    assert summary["inputs"] == 3000 and summary["exceptions"] == 0
    assert summary["peak_rss_mib"] <= 64, summary["peak_rss_mib"]
