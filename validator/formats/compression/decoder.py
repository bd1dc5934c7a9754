"""Compressed kernels: detect the codec by magic, decode streaming and bounded.

Loaders that take a compressed kernel recognise it by its leading bytes (U-Boot's
``image_comp``, kexec-tools' ``slurp_decompress_file``, GRUB's gzio/xzio) and undo it
before they look for a header; so does this layer. Decoding uses the standard library
(zlib, lzma, bz2) and the ``lz4`` and ``zstandard`` bindings, imported only when a stream
of theirs is present; it is pulled on demand by a ``DecodedView`` (bounded memory, capped
output). lzo has no decoder here (``python-lzo`` ships no wheel for this platform): it
is reported as ``layer/unsupported-compression``.
"""

from __future__ import annotations

import struct

from validator.catalogue import finding
from validator.formats.compression import (  # noqa: F401 (probe re-exported)
    codec_of,
    layer_rules,  # noqa: F401 (the layer/* rules)
    probe,
)
from validator.formats.compression.frames import (
    LZ4_LEGACY,
    LZ4_LEGACY_BLOCK,
    UPFRONT,
    history_window,
    zstd_frame_end,
)
from validator.formats.results import Unwrapped
from validator.io.decoded import DecodeError
from validator.io.limits import Context
from validator.io.views import read_all
from validator.model import Layer

#: The largest history window a decoder may reserve. The kernel's xz uses a 32 MiB
#: dictionary (scripts/xz_wrap.sh), `lzma -9` 64 MiB and its zstd22 (`zstd -22 --ultra`) a
#: 2^27 = 128 MiB window; a header asking for more is refused before anything is reserved
#: (liblzma's memlimit, zstandard's max_window_size). What a stream really uses is
#: min(window, bytes decoded), held under Limits.max_decoder_memory by the DecodedView.
MAX_WINDOW = 128 << 20
#: liblzma's memory limit: the dictionary plus its decoder's own few hundred KiB.
LZMA_MEMLIMIT = MAX_WINDOW + (4 << 20)

CHUNK = 64 * 1024
#: The most an lzma decompressor object is asked for per call. CPython builds a call's
#: output in blocks, the first of 32 KiB, and copies them into one new bytes object when
#: there are more: a 64 KiB call copies everything it decodes once more; a 32 KiB call
#: hands on its block (1 % of the instructions of decoding a Debian data.tar.xz).
LZMA_OUT = 32 * 1024
#: A devicetree blob's magic (big-endian 0xd00dfeed), as appended in Image.lz4-dtb.
FDT_MAGIC = b"\xd0\x0d\xfe\xed"

def unwrap(view, ctx: Context, codec: str | None = None, offset: int = 0) -> Unwrapped:
    """Describe the compressed stream in ``view`` and hand on its decoded bytes."""
    head = view.read(0, 32)
    found = codec_of(head)
    codec = codec or found
    layer = Layer(codec or "compressed", offset if view.base is None else view.base)
    details = layer.details
    details["codec"] = codec
    if codec == "lz4":
        details["frame"] = "legacy" if head.startswith(LZ4_LEGACY) else "lz4f"
    result = Unwrapped(layer, None, facts={"compression": codec})
    compressed = view.known_length
    if compressed is not None:
        details["compressed_size"] = compressed
    if codec == "lzo":
        result.findings.append(finding(
            "layer/unsupported-compression",
            "lzo (lzop) stream: no lzo decoder is installed (python-lzo has no wheel here)",
            offset=0))
        return result
    try:
        factory, declared = stream_decoder(codec, view, head)
    except ImportError as exc:  # zstandard or lz4 missing or broken: kimage cannot decode it
        result.findings.append(finding(
            "layer/unsupported-compression",
            f"{codec} stream: its decoder cannot be imported ({exc.name or exc})", offset=0))
        return result
    if declared is not None:
        details["declared_size"] = declared
    window = history_window(codec, head)
    if window is not None:
        details["window"] = window
    if window is not None and window > MAX_WINDOW:
        result.findings.append(finding(
            "layer/decoder-memory-limit", f"{codec} stream: its header asks for a "
            f"{window / (1 << 20):.0f} MiB history window, more than the "
            f"{MAX_WINDOW >> 20} MiB kimage reserves for one stream", offset=0))
        return result
    if declared is not None and window is not None:
        window = min(window, declared)
    result.view = ctx.decoded_view(factory, view, f"{codec} stream", layer=layer,
                                   window=MAX_WINDOW if window is None else window,
                                   upfront=codec in UPFRONT)
    return result


def stream_decoder(codec: str, view, head: bytes):
    """(factory of a pull Decoder over ``view``, declared decoded size or None): the one
    stream decoder per codec, of the check path and of the seed corpus's ``decompress``.
    ``head``: the stream's first 32 bytes."""
    if codec == "gzip":
        import zlib
        return (lambda: _ObjDecoder(view, zlib.decompressobj(31), zlib=True)), None
    if codec in ("xz", "lzma"):
        import lzma
        fmt = lzma.FORMAT_XZ if codec == "xz" else lzma.FORMAT_ALONE
        declared = None
        if codec == "lzma" and len(head) >= 13:
            size = struct.unpack_from("<Q", head, 5)[0]
            declared = None if size == (1 << 64) - 1 else size
        return (lambda: _ObjDecoder(view, lzma.LZMADecompressor(fmt, memlimit=LZMA_MEMLIMIT),
                                    out=LZMA_OUT)), declared
    if codec == "bzip2":
        import bz2
        return (lambda: _ObjDecoder(view, bz2.BZ2Decompressor())), None
    if codec == "lz4" and head.startswith(LZ4_LEGACY):
        import lz4.block  # here: a missing library is no corrupt stream

        return (lambda: _Lz4Legacy(view, lz4.block)), None
    if codec == "lz4":
        import lz4.frame
        declared = None
        try:
            info = lz4.frame.get_frame_info(head[:19])
            declared = info.get("content_size") or None
        except Exception:
            pass
        return (lambda: _ObjDecoder(view, lz4.frame.LZ4FrameDecompressor())), declared
    if codec == "zstd":
        from validator import zstdlib

        zstandard = zstdlib.load()
        declared = None
        try:
            size = zstandard.get_frame_parameters(head[:18]).content_size
            declared = None if size == zstandard.CONTENTSIZE_UNKNOWN else size
        except zstandard.ZstdError:
            pass
        return (lambda: _Zstd(view, zstandard)), declared
    raise ValueError(codec)


class _ObjDecoder:
    """zlib/lzma/bz2/lz4.frame decompressor objects, pulled with a bounded max_length."""

    def __init__(self, parent, obj, zlib: bool = False, out: int | None = None):
        self.parent = parent
        self.obj = obj
        self.zlib = zlib
        self.out = out  # the most asked for per call (None: what the reader asks)
        self.in_pos = 0
        self.consumed = 0
        self.finished = False
        self.trailing: int | None = None
        self._pending = b""

    def read(self, n: int) -> bytes:
        obj = self.obj
        while not self.finished:
            if self.zlib:
                data = obj.unconsumed_tail
                need_more = not data
            else:
                data = b""
                need_more = obj.needs_input
            if need_more:
                data = self.parent.read(self.in_pos, CHUNK)
                self.in_pos += len(data)
            try:
                out = obj.decompress(data, n if self.out is None else min(n, self.out))
            except Exception as exc:
                raise _translate(exc) from None
            self.consumed = self.in_pos
            if obj.eof:
                self.finished = True
                self.consumed = self.in_pos - len(obj.unused_data or b"")
                total = getattr(self.parent, "known_length", None)
                self.trailing = None if total is None else total - self.consumed
            if out:
                return out
            if need_more and not data:
                return b""  # input exhausted before the end marker
        return b""


def _translate(exc: Exception) -> DecodeError:
    text = str(exc)
    if "incorrect length check" in text:
        return DecodeError("layer/lying-size", "the gzip ISIZE field does not match the "
                           "decoded length")
    if "Memory usage limit" in text or "memory" in text.lower():
        return DecodeError("layer/decoder-memory-limit", f"the decoder would need more than "
                           f"{MAX_WINDOW >> 20} MiB of history window: {text}")
    return DecodeError("layer/corrupt", f"{type(exc).__name__}: {text}")


class _Lz4Legacy:
    """The kernel's `lz4 -l` legacy frame: magic, then (u32 LE size, LZ4 block)* ; each
    block decodes to at most 8 MiB. The kernel may append a 4-byte size after the last
    block (size_append); exactly four remaining bytes are taken as that trailer. A
    devicetree blob's magic where a block size would be ends the stream: Android's
    ``Image.lz4-dtb`` (``cat Image.lz4 *.dtb``, as ``Image.gz-dtb``) appends the DTBs the
    bootloader takes from behind the kernel; they are ``trailing_bytes``."""

    def __init__(self, parent, block):
        self._block = block  # the lz4.block module
        self.parent = parent
        self.in_pos = 4
        self.consumed = 4
        self.finished = False
        self.trailing: int | None = None
        self._out = b""  # the current block's output, handed out n bytes at a time
        self._at = 0

    def read(self, n: int) -> bytes:
        if self._at < len(self._out):
            data = self._out[self._at:self._at + n]
            self._at += len(data)
            return data
        parent = self.parent
        total = getattr(parent, "known_length", None)
        self._out = b""  # the block handed out: let it go before the next is read
        while True:
            word = parent.read(self.in_pos, 4)
            if len(word) == 0 or (total is not None and total - self.in_pos == 4):
                self.finished = True  # end of input (or the 4-byte size trailer)
                self.trailing = len(word) and 4
                return b""
            if len(word) < 4:
                raise DecodeError("layer/truncated", "lz4 legacy frame: block size cut short")
            size = struct.unpack("<I", word)[0]
            if word == FDT_MAGIC and self.in_pos > 4:  # Image.lz4-dtb: the DTBs follow
                self.finished = True
                self.trailing = None if total is None else total - self.in_pos
                return b""
            if word == LZ4_LEGACY:  # a concatenated legacy stream: skip its magic
                self.in_pos += 4
                continue
            if size == 0 or size > LZ4_LEGACY_BLOCK + LZ4_LEGACY_BLOCK // 255 + 16:
                raise DecodeError("layer/corrupt", f"lz4 legacy block size {size:#x} at "
                                  f"{self.in_pos:#x} is impossible")
            block = read_all(parent, self.in_pos + 4, size)  # at most 8 MiB and a bit
            if len(block) < size:
                raise DecodeError("layer/truncated", f"lz4 legacy block at {self.in_pos:#x} "
                                  f"wants {size:#x} bytes, {len(block):#x} remain")
            self.in_pos += 4 + size
            self.consumed = self.in_pos
            try:
                out = self._block.decompress(block, uncompressed_size=LZ4_LEGACY_BLOCK)
            except Exception as exc:
                raise DecodeError("layer/corrupt", f"lz4 legacy block: {exc}") from None
            if out:
                self._out, self._at = out, 0  # at most 8 MiB, held while it is read
                return self.read(n)


class _Zstd:
    """zstandard's stream_reader (bounded reads); at its end the frame's block headers
    are walked to tell a complete frame from one cut short."""

    def __init__(self, parent, zstandard):
        from validator.io.views import ViewFile

        self.parent = parent
        self._file = ViewFile(parent)
        self._reader = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(
            self._file, read_size=CHUNK, read_across_frames=False)
        self.finished = False
        self.trailing: int | None = None

    @property
    def consumed(self) -> int:
        return self._file.tell()

    def read(self, n: int) -> bytes:
        if self.finished:
            return b""
        try:
            out = self._reader.read(n)
        except Exception as exc:
            raise _translate(exc) from None
        if out:
            return out
        end = zstd_frame_end(self.parent)
        if end is None:
            return b""  # not finished: the caller reports layer/truncated
        self.finished = True
        total = getattr(self.parent, "known_length", None)
        self.trailing = None if total is None else total - end
        return b""


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
