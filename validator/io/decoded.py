"""Decoded views: a decoder's output produced on demand with bounded memory
(``DecodedView``); the per-analysis pool of them that shares
``Limits.max_decoder_memory`` is ``validator.io.limits.Context``, so that
a raw input's analysis does not import this module (see the package docstring)."""

from __future__ import annotations

from bisect import bisect_right

from validator.catalogue import finding
from validator.io.limits import Limits, MiB
from validator.io.views import SliceView, _scan
from validator.model import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Protocol

    from validator.io.source import Source

    class Decoder(Protocol):
        """A pull decoder over a parent view: ``read(n)`` gives at most n new bytes, b""
        at the end. ``consumed`` is the input read so far; ``finished`` is True once the
        end marker was seen; ``trailing`` the input bytes after it (None when unknown)."""

        consumed: int
        finished: bool
        trailing: int | None

        def read(self, n: int) -> bytes: ...


class DecodeError(Exception):
    """A decoder stopped: ``rule`` is the finding's rule ID."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


class DecodedView:
    """The output of a decoder, produced on demand with bounded memory.

    The first ``HEAD`` bytes are kept in one buffer; after them the last ``WINDOW`` (and
    up to as much again before it is trimmed) are kept as the decoder handed them out,
    a list of its chunks, copied nowhere: a read within one chunk is one slice of it (the
    chunk itself when the read is the whole chunk), so the bytes a reader skips (the
    members of a tar archive it passes) are never copied by kimage."""

    HEAD = 1 * MiB
    WINDOW = 1 * MiB
    CHUNK = 64 * 1024

    transformed = True
    base = None  # not a file offset
    #: False: ``Context.finish`` leaves the stream where its reader stopped, even with
    #: ``Limits.decode_all`` (an rpm payload, read only as far as its kernel member).
    to_end = True

    def __init__(self, factory, parent, limits: Limits, what: str,
                 declared_length: int | None = None, window: int = 0, pool=None,
                 upfront: bool = False):
        self._factory = factory  # () -> Decoder
        self.window = window  # the decoder's history window in bytes (0: negligible)
        self.upfront = upfront  # the window is allocated whole at the start (block codecs)
        self._pool = pool  # the Context whose decoders share Limits.max_decoder_memory
        self.parent = parent
        self.source: Source = parent.source
        self.limits = limits
        self.what = what  # for messages: "gzip stream", "tar member ..."
        self.declared_length = declared_length
        self.findings: list[Finding] = []
        self.total: int | None = None  # decoded length once the end was reached
        self.finished = False  # the decoder saw its end marker
        self.trailing: int | None = None
        self.restarts = 0
        self._failed = False
        self.in_part = False  # stopped at kimage's memory cap: what follows is unknown
        self._start()

    # -- decoding -------------------------------------------------------------------

    def _start(self) -> None:
        self._dec = None
        self._head = bytearray()
        self._chunks: list[bytes] = []  # the window, as decoded
        self._starts: list[int] = []  # the offset of each chunk
        self._win_len = 0  # bytes in the chunks
        self._win_start = 0  # the offset of the first chunk
        self._pos = 0  # bytes decoded so far
        self._done = False
        self._consumed = 0

    def _decoder(self):
        if self._dec is None:
            self._dec = self._factory()
        return self._dec

    def _release(self) -> None:
        """Drop the decoder (and its window) once the stream is done."""
        if self._dec is not None:
            self._consumed = self._dec.consumed
            self._dec = None

    @property
    def decoder_memory(self) -> int:
        """What this view holds now: its buffers, and the live decoder's history window,
        min(window, bytes decoded)."""
        held = self._head.__sizeof__() + self._held()
        if self._dec is None:
            return held
        return held + (self.window if self.upfront else min(self.window, self._pos))

    def _memory_after(self, pos: int) -> int:
        """About what this view will hold with ``pos`` bytes decoded."""
        window = max(self._held(), min(2 * self.WINDOW + 2 * self.CHUNK, pos))
        history = self.window if self.upfront else min(self.window, pos)
        return min(self.HEAD, pos) + window + history

    def _fail(self, rule_id: str, message: str) -> None:
        self._done = True
        self._release()
        if not self._failed:
            self._failed = True
            self.in_part = rule_id == "layer/decoded-in-part"
            self.findings.append(finding(rule_id, f"{self.what}: {message}"))

    def _advance(self, want: int) -> None:
        """Decode until ``want`` bytes exist (or the end, or a limit)."""
        limits = self.limits
        while not self._done and self._pos < want:
            if self._pos == 0 and self.upfront and self._over_memory(0):
                break  # a block codec's buffers come whole with its first block
            try:
                dec = self._decoder()
                budget = limits.max_decompressed - self._pos
                chunk = dec.read(min(self.CHUNK, budget + 1))
            except DecodeError as exc:
                self._fail(exc.rule, exc.message)
                break
            except MemoryError:
                self._fail("layer/decompression-limit", "the decoder ran out of memory")
                break
            except Exception as exc:  # a library's own error type: corrupt input
                self._fail("layer/corrupt", f"{type(exc).__name__}: {exc}")
                break
            if not chunk:
                self._done = True
                self.total = self._pos
                self.finished = dec.finished
                self.trailing = dec.trailing
                self._release()
                if not dec.finished and getattr(self.parent, "in_part", False):
                    self._fail("layer/decoded-in-part", f"decoded the first {self._pos:#x} "
                               f"bytes: the stream around it was decoded in part, so its "
                               f"end is not checked")
                elif not dec.finished:
                    self._fail("layer/truncated", f"ends after {self._pos:#x} decoded bytes "
                               f"without its end marker")
                break
            if self._pos + len(chunk) > limits.max_decompressed:
                self._fail("layer/decompression-limit",
                           f"more than {limits.max_decompressed:#x} bytes decoded "
                           f"(the cap on decompressed output)")
                break
            consumed = max(dec.consumed, 1)
            if (self._pos + len(chunk) > limits.ratio_floor
                    and self._pos + len(chunk) > limits.max_ratio * consumed):
                self._fail("layer/decompression-limit",
                           f"{self._pos + len(chunk):#x} bytes from {consumed:#x}: more than "
                           f"{limits.max_ratio}:1, a decompression bomb")
                break
            if (self._pos < self.window + 2 * self.WINDOW + self.CHUNK
                    and self._over_memory(len(chunk))):
                break
            self._push(chunk)
        if (self._done and self.total is not None and self.declared_length is not None
                and self.total != self.declared_length and not self._failed):
            self._fail("layer/lying-size", f"declares {self.declared_length:#x} bytes, "
                       f"decodes to {self.total:#x}")

    def _over_memory(self, more: int) -> bool:
        """True (and the finding) when ``more`` decoded bytes would take the chain's
        decoders past ``Limits.max_decoder_memory``."""
        if self._pool is None:
            return False
        cap = self.limits.max_decoder_memory
        others = self._pool.decoder_memory() - self.decoder_memory
        if others + self._memory_after(self._pos + more) <= cap:
            return False
        held = f" ({others / MiB:.1f} MiB held by the streams around it)" if others else ""
        what = (f"buffers of {self.window / MiB:.1f} MiB from its first block" if self.upfront
                else f"a {self.window / MiB:.1f} MiB history window")
        self._fail("layer/decoded-in-part",
                   f"decoded the first {self._pos / MiB:.1f} MiB; it needs {what}, and "
                   f"decoding further would take kimage's decoders beyond the "
                   f"{cap / MiB:.0f} MiB they may hold in all{held}: its end and length "
                   f"are not checked")
        return True

    def _held(self) -> int:
        """The window's memory: its chunks (bytes objects, header included)."""
        return self._win_len + 40 * len(self._chunks)

    def _push(self, chunk: bytes) -> None:
        room = self.HEAD - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            if len(self._head) == self.HEAD:
                self._head = bytearray(self._head)  # full: drop the growth reserve
        self._chunks.append(chunk)
        self._starts.append(self._pos)
        self._win_len += len(chunk)
        self._pos += len(chunk)
        if self._win_len >= 2 * self.WINDOW:  # trimmed a window at a time, whole chunks,
            chunks, starts = self._chunks, self._starts  # keeping at least WINDOW bytes
            drop = 0
            while self._win_len - len(chunks[drop]) >= self.WINDOW:
                self._win_len -= len(chunks[drop])
                drop += 1
            del chunks[:drop], starts[:drop]
            self._win_start = starts[0]

    # -- the view protocol -----------------------------------------------------------

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        length = min(length, self.WINDOW - self.CHUNK)
        end = offset + length
        head = len(self._head)
        if end <= head:
            return bytes(memoryview(self._head)[offset:end])
        self._rewind_for(max(offset, head))
        self._advance(end)
        head = len(self._head)
        if offset >= head:
            return self._from_window(offset, end)
        return bytes(memoryview(self._head)[offset:end]) + self._from_window(head, end)

    def block(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``, no further than the end of the chunk
        that holds ``offset``: that chunk itself where ``offset`` begins it. A search
        that reads the stream so follows the chunks as they were decoded, and copies
        nothing (``read`` joins the chunks a read spans: a copy of every byte)."""
        if offset < 0 or length <= 0:
            return b""
        self._rewind_for(offset)
        self._advance(offset + 1)
        if offset >= self._win_start + self._win_len:
            return b""
        i = bisect_right(self._starts, offset) - 1
        end = min(offset + length, self._starts[i] + len(self._chunks[i]))
        return self._from_window(offset, end)

    def _rewind_for(self, offset: int) -> None:
        """Behind the window: decode again from the start (bounded, memory-flat)."""
        if offset < self._win_start:
            self.restarts += 1
            self._start()

    def _from_window(self, start: int, end: int) -> bytes:
        """The window's bytes in [start, end) (fewer at its end; none behind it)."""
        if start < self._win_start:
            return b""
        end = min(end, self._win_start + self._win_len)
        if end <= start:
            return b""
        i = bisect_right(self._starts, start) - 1
        chunk, at = self._chunks[i], self._starts[i]
        if end <= at + len(chunk):  # within one chunk: a slice, or the chunk itself
            return chunk[start - at:end - at]
        parts = [chunk[start - at:]]
        for part, part_at in zip(self._chunks[i + 1:], self._starts[i + 1:], strict=True):
            if part_at >= end:
                break
            parts.append(part[:end - part_at])
        return b"".join(parts)

    @property
    def known_length(self) -> int | None:
        """The decoded length if the end was reached, else the declared length, else None."""
        if self.total is not None:
            return self.total
        return self.declared_length

    @property
    def length(self) -> int:
        """The decoded length; decodes to the end (bounded) when not known yet."""
        if self.total is None:
            self._advance(self.limits.max_decompressed + 1)
        if self.total is not None:
            return self.total
        return self._pos

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def consumed(self) -> int:
        return self._dec.consumed if self._dec is not None else self._consumed

    def finish(self) -> None:
        """Decode to the end (bounded), checking the stream and any declared size."""
        self._advance(self.limits.max_decompressed + 1)

    def slice(self, offset: int, length: int) -> SliceView:
        return SliceView(self, offset, length)

    def scan(self, pattern: re.Pattern[bytes], max_match: int = 256,
             budget: int | None = None):
        return _scan(self, pattern, max_match, budget)
