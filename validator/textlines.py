"""Bounded reading of a text companion (a .config, a System.map), many lines at a time.

``blocks`` yields ``(first, text)``: ``text`` holds whole lines of a binary stream,
decoded as UTF-8 (an invalid byte as U+FFFD, line by line as the bytes lie), the first
of them line number ``first``. A line longer than ``max_line`` bytes is yielded alone as
``(its number, None)`` and skipped to its end without keeping it. A NUL byte or more than
``max_size`` bytes (or ``max_lines`` lines) raises ``error`` with one line that says the
file is not ``noun``.
Memory stays at one read (``CHUNK`` bytes) and one line whatever the file holds; each
reader parses a block with one regular expression over all its lines, not a call a line
(a distribution's System.map has 150,000 of them).
"""

from __future__ import annotations

#: Bytes read at a time (a distribution's .config is one read, its System.map six).
CHUNK = 1 << 20


def blocks(stream, name: str, noun: str, error: type[Exception], max_size: int,
           max_line: int, too_big: str | None = None, max_lines: int | None = None):
    too_big = too_big or f"{name}: larger than {max_size >> 20} MiB, not {noun}"
    chunk = CHUNK
    total = done = 0  # bytes read; lines yielded or skipped
    rest = b""  # the start of a line the last read ended inside
    long = False  # inside a line longer than max_line: read to its end, keep none of it
    while True:
        data = stream.read(chunk)
        total += len(data)
        if total > max_size:
            raise error(too_big)
        if not data:
            break
        nul = data.find(b"\0")
        if nul >= 0:
            line = done + 1 + data.count(b"\n", 0, nul)
            raise error(f"{name}: binary data (a NUL byte on line {line}), not {noun}")
        end = data.rfind(b"\n") + 1
        if not end:  # no line ends in this read
            if not long:
                rest += data
                long = len(rest) > max_line
                rest = b"" if long else rest
            continue
        if long:
            start = data.index(b"\n") + 1
            done += 1
            yield done, None
            long, head = False, data[start:end]
        else:
            head = rest + data[:end] if rest else data[:end]
        if head:
            done = yield from _lines(head, done, max_line)
        if max_lines is not None and done > max_lines:
            raise error(f"{name}: more than {max_lines:,} lines, not {noun}")
        rest = data[end:]
        long = len(rest) > max_line
        rest = b"" if long else rest
    if long:
        yield done + 1, None
    elif rest:
        yield from _lines(rest, done, max_line)


def _lines(data: bytes, done: int, max_line: int):
    """Yield ``data`` (whole lines, the last perhaps without its newline; the first is line
    ``done + 1``) as one block, or as the blocks between its lines longer than
    ``max_line`` and those lines as ``(number, None)``. Returns the last line's number."""
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if not _may_hold_long_line(data, max_line) or max(
            map(len, data.split(b"\n"))) <= max_line:
        yield done + 1, data.decode("utf-8", "replace")
        return done + lines
    start = at = 0  # where the block being gathered starts; where the line starts
    first = done + 1  # the block's first line
    for number, line in enumerate(data.split(b"\n")[:lines], done + 1):
        if len(line) > max_line:
            if at > start:
                yield first, data[start:at].decode("utf-8", "replace")
            yield number, None
            start, first = at + len(line) + 1, number + 1
        at += len(line) + 1
    if start < len(data):
        yield first, data[start:].decode("utf-8", "replace")
    return done + lines


def _may_hold_long_line(data: bytes, max_line: int) -> bool:
    """False when no line of ``data`` is longer than ``max_line`` bytes, else True (the
    caller then measures each line): a newline in each of its windows of ``width`` bytes
    end to end, where any run of ``max_line + 1`` bytes holds a whole window. One search
    a window (512 a megabyte of System.map), not an object a line."""
    width = (max_line + 2) // 2
    find = data.find
    return any(find(b"\n", start, start + width) < 0
               for start in range(0, len(data) - width + 1, width))
