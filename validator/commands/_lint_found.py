"""What lint's walk found, held so that its memory hardly grows with the number of files.

``Entries`` is the sequence of every path lint reports, in order. The plain files of a
directory are held in blocks of up to ``BLOCK`` names, each block one string of the
names and an array of where each begins, not an object per file: lint's peak RSS grows
about 45 bytes a file where a list of ``Entry`` objects made it grow 190 (bench/). An
``Entry`` is made when it is read (a worker reads by index, lint's own process in
order). Links, files named on the command line and paths that cannot be checked are held
as their ``Entry``, one each.

``sorted_names(names)`` sorts a directory's names in runs of ``BLOCK``, merged as they are
read (heapq.merge): a directory of 100,000 images never holds 100,000 strings at once.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_right

#: Names in a block, and in a sorted run.
BLOCK = 4096
_SEP = "\0"  # no file name holds it


class Entry:
    """One path lint reports. ``real``: the resolved path of a link or of a file named on
    the command line (what may be found twice), else None; ``problem``: why it cannot be
    checked (then nothing else matters). A file found in a directory is held as the
    directory (one string for all its files) and its name: ``path`` joins them."""

    __slots__ = ("_where", "_name", "real", "link", "problem")

    def __init__(self, path: str, real: str | None = None, link: bool = False,
                 problem: str | None = None, name: str | None = None) -> None:
        self._where, self._name = path, name  # with ``name``, ``path`` is its directory
        self.real, self.link, self.problem = real, link, problem

    @property
    def path(self) -> str:
        return self._where if self._name is None else os.path.join(self._where, self._name)

    @property
    def name(self) -> str | None:
        """The file's name when the walk found it in a directory, else None (a PATH given
        on the command line, or a link)."""
        return self._name

    @property
    def pair_base(self) -> str:
        """The name companions are found beside: a link's target (``vmlinuz ->
        vmlinuz-V`` pairs with ``config-V``), else the path as given."""
        return self.real if self.link and self.real else self.path


class _Names:
    """Plain files of one directory, in order: their names joined by NUL, and where each
    name begins in that string."""

    __slots__ = ("directory", "text", "starts")

    def __init__(self, directory: str, names: list[str]) -> None:
        self.directory = directory
        self.text = _SEP.join(names)
        self.starts = array("I")
        at = 0
        for name in names:
            self.starts.append(at)
            at += len(name) + 1

    def __len__(self) -> int:
        return len(self.starts)

    def entry(self, i: int) -> Entry:
        begin = self.starts[i]
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.text)
        return Entry(self.directory, name=self.text[begin:end])

    def __iter__(self):
        directory = self.directory
        for name in _split(self.text):
            yield Entry(directory, name=name)


class Entries:
    """Every path lint reports, in order: a sequence (``len``, ``[i]``, ``[i:]``, ``for``)
    of ``Entry``; see the module. ``problems``: how many cannot be checked."""

    def __init__(self) -> None:
        self.blocks: list[Entry | _Names] = []
        self.ends = array("Q")  # the index after each block's last entry
        self.problems = 0

    def append(self, entry: Entry) -> None:
        self.blocks.append(entry)
        self.ends.append(len(self) + 1)
        if entry.problem is not None:
            self.problems += 1

    def add_names(self, directory: str, names: list[str]) -> None:
        """The plain files ``names`` (sorted) of ``directory``, after what is held."""
        for begin in range(0, len(names), BLOCK):
            self._add(_Names(directory, names[begin:begin + BLOCK]))

    def _add(self, block: _Names) -> None:
        self.blocks.append(block)
        self.ends.append(len(self) + len(block))

    def drop(self, at: set[int]) -> None:
        """Without the blocks at the indexes ``at`` (each an ``Entry``)."""
        kept = [b for k, b in enumerate(self.blocks) if k not in at]
        self.blocks, self.ends, self.problems = [], array("Q"), 0
        for block in kept:
            if type(block) is Entry:
                self.append(block)
            else:
                self._add(block)

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else 0

    def __iter__(self):
        for block in self.blocks:
            if type(block) is Entry:
                yield block
            else:
                yield from block

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1 or stop != len(self):
                raise ValueError("Entries: only a tail [start:] can be sliced")
            return _Tail(self, start)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("Entries index out of range")
        k = bisect_right(self.ends, i)
        block = self.blocks[k]
        if type(block) is Entry:
            return block
        return block.entry(i - (self.ends[k - 1] if k else 0))


class _Tail:
    """``entries[start:]`` without a copy."""

    __slots__ = ("entries", "start")

    def __init__(self, entries: Entries, start: int) -> None:
        self.entries, self.start = entries, start

    def __len__(self) -> int:
        return len(self.entries) - self.start

    def __getitem__(self, i: int) -> Entry:
        if not 0 <= i < len(self):
            raise IndexError("Entries index out of range")
        return self.entries[self.start + i]


def sorted_names(names):
    """``iter(sorted(names))`` for an iterable of any length, taken at once, which holds
    at most ``BLOCK`` of them as separate strings (each sorted run is kept as one string,
    and the runs are merged as the names are read)."""
    runs: list[str] = []
    run: list[str] = []
    for name in names:
        run.append(name)
        if len(run) == BLOCK:
            run.sort()
            runs.append(_SEP.join(run))
            run = []
    run.sort()
    if not runs:
        return iter(run)
    if run:
        runs.append(_SEP.join(run))
    import heapq

    return heapq.merge(*(_split(r) for r in runs))


def _split(text: str):
    """The names of a joined string, one at a time."""
    at = 0
    while True:
        end = text.find(_SEP, at)
        if end < 0:
            yield text[at:]
            return
        yield text[at:end]
        at = end + 1
