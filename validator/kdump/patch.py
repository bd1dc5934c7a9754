"""Write ``__run_at_load`` as a loader does, and nothing else.

A ppc64 kdump loader turns the 32-bit word at 0x5c of the kernel head ("run0" in a
relocatable kernel) into 1 so that the kernel runs where it is loaded
(shared/reference/ppc64.md, sections 4-5). ``write_run_at_load`` does the same to a
file: the word at first-PT_LOAD + 0x5c of a ppc64 ELF vmlinux (or 0x5c of a bare head),
in the kernel's byte order (the ELF's EI_DATA).

Safety: with ``-o`` the input is opened read-only (a regular file only: a FIFO or a
device is refused before it is read) and never modified. The output is written to a
temporary file in the destination's directory (``.<name>.<random>.kimage-tmp``), copied
with ``copy_file_range`` (the kernel copies; nothing is read whole into memory), patched,
given its metadata (validator.kdump.patch_dest), fsynced, re-parsed to check that the word reads
back and nothing else in the head moved, and only then given the destination's name:
created without replacing anything, or with ``--force`` / ``--in-place`` renamed over a
regular file (atomic on POSIX file systems), after which the directory is fsynced. A
crash at any point leaves the destination either absent or as it was, never
half-written; at worst a temporary file remains. What may be replaced, and which owner,
mode and attributes the result has: validator.kdump.patch_dest.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass

from validator.formats.ppc64_head import HEAD_SIZE, RUN0, RUN_AT_LOAD_OFFSET
from validator.kdump import patch_dest
from validator.source import open_regular

VALUES = {"1": 1, "run0": RUN0}
TEMP_SUFFIX = ".kimage-tmp"
CHUNK = 8 << 20

#: Test hook: pause (sleep) at a stage so a test can SIGKILL the writer there, or change
#: the temporary file: ``copy:N`` (after at least N bytes of the copy), ``patched``,
#: ``verified``; for ``KIMAGE_TEST_PAUSE_SECONDS`` (default an hour).
PAUSE_ENV = "KIMAGE_TEST_PAUSE"




class PatchError(Exception):
    """kimage patch refuses: the message is one line for the user."""


@dataclass
class Plan:
    path: str
    offset: int  # file offset of the word
    endianness: str  # byte order it is written in
    old: int
    new: int
    head_offset: int  # file offset of the head (first PT_LOAD, or 0)

    @property
    def new_bytes(self) -> bytes:
        return self.new.to_bytes(4, self.endianness)

    def describe(self) -> str:
        return (f"__run_at_load at file offset {self.offset:#x} ({self.endianness}-endian): "
                f"{_show(self.old)} -> {_show(self.new)} ({self.new_bytes.hex(' ')})")


def _show(value: int) -> str:
    return "'run0'" if value == RUN0 else str(value) if value < 0x1000 else f"{value:#010x}"


def plan(path: str | os.PathLike, value: int) -> Plan:
    """Where and how the word is written; ``PatchError`` when there is none to write."""
    from validator.pipeline import analyse

    path = os.fspath(path)
    result = analyse(path)  # InputError for an unreadable file
    if result.format != "ppc64-head":
        what = result.facts.get("arch") or result.format
        raise PatchError(f"{path}: not a ppc64 kernel ({what}): there is no __run_at_load "
                         f"to write (patch/no-run-at-load)")
    old = result.header.get("run_at_load")
    if old == 0:
        raise PatchError(f"{path}: __run_at_load is 0: the kernel is not relocatable, and a "
                         f"loader leaves the word alone (patch/no-run-at-load)")
    if old not in (RUN0, 1):
        raise PatchError(f"{path}: __run_at_load holds {old:#010x}, neither 'run0' nor 1: "
                         f"not a kernel head kimage would patch (patch/no-run-at-load)")
    elf = next((layer for layer in result.layers if layer.kind == "elf"), None)
    order = elf.details["endianness"] if elf is not None else result.facts["endianness"]
    offset = result.header_offset + RUN_AT_LOAD_OFFSET
    from validator.source import Source
    with Source(path) as src:
        raw = src.read(offset, 4)
    if len(raw) != 4 or int.from_bytes(raw, order) != old:
        raise PatchError(f"{path}: the word at {offset:#x} ({raw.hex(' ')}) does not read as "
                         f"{_show(old)} in the ELF's {order}-endian order: the ELF and the "
                         f"head disagree on byte order")
    return Plan(path, offset, order, old, value, result.header_offset)


def write_run_at_load(path: str | os.PathLike, value: int, out: str | os.PathLike | None = None,
                      in_place: bool = False, force: bool = False) -> tuple[Plan, str]:
    """Write the word into a copy of ``path`` at ``out`` (or over ``path`` with in_place).

    Returns (plan, destination). Raises PatchError (refusal), InputError (unreadable).
    """
    path = os.fspath(path)
    if in_place == (out is not None):
        raise PatchError("give exactly one of -o OUT and --in-place")
    p = plan(path, value)
    src_fd, src_stat = open_regular(path)
    try:
        try:
            if in_place:
                dest = patch_dest.check_in_place(path, src_stat, force)
            else:
                dest = os.fspath(out)
                patch_dest.check_out(dest, src_stat, force)
            _write(p, src_fd, src_stat, dest, in_place, force)
        except patch_dest.DestinationError as exc:
            raise PatchError(str(exc)) from None
    finally:
        os.close(src_fd)
    return p, dest


def _write(p: Plan, src_fd: int, src_stat: os.stat_result, dest: str, in_place: bool,
           force: bool) -> None:
    directory = os.path.dirname(os.path.abspath(dest))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", suffix=TEMP_SUFFIX,
                                   dir=directory)
    except OSError as exc:
        raise PatchError(f"{directory}: cannot create the temporary file there: "
                         f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "r+b", buffering=0) as f:
            _copy(p.path, src_fd, src_stat, f.fileno())
            os.pwrite(f.fileno(), p.new_bytes, p.offset)
            # After the last write: a write clears set-id bits and file capabilities.
            if in_place:
                patch_dest.keep_metadata(src_fd, src_stat, f.fileno())
            else:
                patch_dest.new_file_metadata(src_stat, f.fileno())
            os.fsync(f.fileno())
        _pause("patched")
        _verify(p, src_fd, tmp, src_stat)
        _pause("verified")
        if in_place:
            patch_dest.replace(tmp, dest, expect=src_stat)
        elif force:
            patch_dest.replace(tmp, dest)
        else:
            patch_dest.create(tmp, dest)
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(directory)


def _copy(src_path: str, src_fd: int, before: os.stat_result, dst_fd: int) -> None:
    """Copy the file into ``dst_fd`` by the kernel (copy_file_range, else sendfile)."""
    pause_at = _pause_bytes()
    size, done = before.st_size, 0
    while done < size:
        n = min(CHUNK, size - done)
        copied = _copy_chunk(src_fd, dst_fd, done, n)
        if copied == 0:
            raise PatchError(f"{src_path}: ended early while copying ({done} of {size})")
        done += copied
        if pause_at is not None and done >= pause_at:
            _pause(f"copy:{done}", force=True)
            pause_at = None
    after = os.fstat(src_fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise PatchError(f"{src_path}: changed while it was being copied")


def _copy_chunk(src: int, dst: int, offset: int, n: int) -> int:
    try:
        return os.copy_file_range(src, dst, n, offset, offset)
    except OSError:  # EXDEV on old kernels, ENOSYS, EINVAL on some file systems
        pass
    os.lseek(dst, offset, os.SEEK_SET)
    try:
        return os.sendfile(dst, src, offset, n)
    except OSError:
        data = os.pread(src, n, offset)
        return os.write(dst, data)


def _verify(p: Plan, src_fd: int, tmp: str, src_stat: os.stat_result) -> None:
    from validator.pipeline import analyse
    from validator.source import Source

    result = analyse(tmp)
    problems = []
    if result.format != "ppc64-head" or result.header_offset != p.head_offset:
        problems.append(f"has no head where the input has one ({result.format}, "
                        f"{result.header_offset})")
    elif result.header.get("run_at_load") != p.new:
        problems.append(f"reads {result.header.get('run_at_load')!r} at 0x5c, not {p.new}")
    if result.file_size != src_stat.st_size:
        problems.append(f"has {result.file_size} bytes, not {src_stat.st_size}")
    old_head = os.pread(src_fd, HEAD_SIZE, p.head_offset)
    with Source(tmp) as b:
        new_head = b.read(p.head_offset, HEAD_SIZE)
    word = p.offset - p.head_offset
    expected = old_head[:word] + p.new_bytes + old_head[word + 4:]
    if new_head != expected:
        problems.append("differs from the input in other bytes of the head")
    if problems:
        raise PatchError(f"{tmp}: the patched copy " + "; ".join(problems)
                         + "; it was removed and nothing renamed (patch/verify-failed)")


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _pause_bytes() -> int | None:
    stage = os.environ.get(PAUSE_ENV, "")
    if stage.startswith("copy:"):
        return int(stage[5:])
    return None


def _pause(stage: str, force: bool = False) -> None:
    """The test hook: announce the stage on stderr and wait to be killed."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted or not (force or wanted == stage):
        return
    sys.stderr.write(f"kimage-test-paused {stage}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get(PAUSE_ENV + "_SECONDS", 3600)))
