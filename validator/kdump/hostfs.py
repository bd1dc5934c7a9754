"""Host files read inside a root that no path may leave, bounded, and without blocking.

``HostFS(root)`` opens names such as ``/proc/iomem`` relative to ``root``. For the
running system (``root`` is ``/``) a name is opened as it is, through
``validator.source.open_regular``. For a sysroot every component of the path is
resolved inside ``root``, as chroot(2) would: ``..`` stops at ``root``, an absolute
symlink starts again at ``root``, and a relative one is followed from where it is. The
kernel does this itself with openat2(2) and ``RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS``
(Linux 5.6+, include/uapi/linux/openat2.h); where the kernel lacks it (ENOSYS, or a
seccomp filter that says EPERM) the same walk is done component by component with
``O_NOFOLLOW``, reading each symlink and resolving it relative to ``root``, at most
``MAX_HOPS`` symlinks (the kernel's MAXSYMLINKS is 40).

Every open is ``O_NONBLOCK | O_NOCTTY``; anything but a regular file is refused before a
byte is read, so a FIFO or a device in a sysroot cannot block or be drained. Reads stop
at a limit, never at ``st_size``: files in /proc and /sys say 0 there.

Nothing read here is ever shown as it is: ``describe`` gives a sanitised summary
(``"binary, 4096 bytes"``) for a file that does not have the shape the kernel gives it.
"""

from __future__ import annotations

import errno
import os
import stat

MAX_HOPS = 40
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
#: openat2's number in the unified syscall tables (x86_64 syscall_64.tbl, powerpc and
#: s390 syscall.tbl, asm-generic/unistd.h for arm64, riscv, loongarch). Other machines
#: (mips, alpha, ia64 number it differently) use the checked walk.
_OPENAT2 = {m: 437 for m in ("x86_64", "aarch64", "aarch64_be", "ppc64", "ppc64le",
                             "riscv64", "s390x", "loongarch64", "i386", "i486", "i586",
                             "i686", "armv7l", "armv8l")}

_FLAGS = (os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
          | getattr(os, "O_CLOEXEC", 0))
_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}
#: errno values that say the tree is not what a kernel builds (flagged), as against a
#: file that is simply absent or not readable without root (not flagged).
_ODD = {errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENXIO, errno.ENAMETOOLONG}


class Unreadable(Exception):
    """A host file that cannot be read; ``odd`` when no kernel would make it so."""

    def __init__(self, why: str, odd: bool = False):
        super().__init__(why)
        self.why, self.odd = why, odd


def _why(exc: OSError) -> Unreadable:
    if exc.errno == errno.ENOENT:
        return Unreadable("absent")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Unreadable("unreadable: permission denied")
    return Unreadable(f"unreadable: {exc.strerror or exc}", exc.errno in _ODD)


def _regular(fd: int) -> int:
    """``fd`` if it is a regular file (then blocking again), else closed and refused."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise Unreadable(f"{kind}, not a regular file: refused before reading", True)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _Openat2:
    """openat2(2) through ctypes; ``None`` from ``load`` where it cannot be used."""

    def __init__(self, number: int):
        import ctypes

        class OpenHow(ctypes.Structure):
            _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                        ("resolve", ctypes.c_uint64)]

        self._ctypes, self._how, self._number = ctypes, OpenHow, number
        self._syscall = ctypes.CDLL(None, use_errno=True).syscall
        self._syscall.restype = ctypes.c_long

    @classmethod
    def load(cls, root_fd: int) -> _Openat2 | None:
        number = _OPENAT2.get(os.uname().machine)
        if number is None:
            return None
        try:
            impl = cls(number)
            fd = impl(root_fd, ".", getattr(os, "O_PATH", 0) | os.O_DIRECTORY
                      | os.O_CLOEXEC)
        except (OSError, AttributeError, ImportError):
            return None  # ENOSYS (before 5.6), EPERM from a seccomp filter, no ctypes
        os.close(fd)
        return impl

    def __call__(self, dir_fd: int, path: str, flags: int) -> int:
        c = self._ctypes
        how = self._how(flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        fd = self._syscall(c.c_long(self._number), c.c_int(dir_fd),
                           c.c_char_p(os.fsencode(path)), c.byref(how),
                           c.c_size_t(c.sizeof(how)))
        if fd < 0:
            code = c.get_errno()
            raise OSError(code, os.strerror(code))
        return fd


class HostFS:
    """Read-only, bounded access to the files of one host tree."""

    def __init__(self, root: str, use_openat2: bool = True):
        self.root = root
        self.live = os.path.realpath(root) == "/"
        self._root_fd: int | None = None
        self._openat2: _Openat2 | None = None
        self.method = "open" if self.live else "walk"
        if not self.live:
            try:
                self._root_fd = os.open(root, getattr(os, "O_PATH", os.O_RDONLY)
                                        | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                raise Unreadable(_why(exc).why) from None
            if use_openat2:
                self._openat2 = _Openat2.load(self._root_fd)
                if self._openat2 is not None:
                    self.method = "openat2"

    def close(self) -> None:
        if self._root_fd is not None:
            os.close(self._root_fd)
            self._root_fd = None

    def __enter__(self) -> HostFS:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- opening ---------------------------------------------------------------------

    def open(self, name: str) -> int:
        """A descriptor of the regular file ``name``; ``Unreadable`` otherwise."""
        if self.live:
            from validator.source import InputError, open_regular
            try:
                return open_regular(name)[0]
            except InputError as exc:
                why = str(exc).removeprefix(f"{name}: ")
                if why == "no such file":
                    raise Unreadable("absent") from None
                if why == "permission denied":
                    raise Unreadable("unreadable: permission denied") from None
                raise Unreadable(why, "regular file" in why or why == "is a directory") \
                    from None
        try:
            fd = self._open(name, _FLAGS)
        except OSError as exc:
            if exc.errno == errno.ENOENT and self._dangling(name):
                raise Unreadable("a symlink to nothing inside the sysroot", True) from None
            raise _why(exc) from None
        return _regular(fd)

    def _open(self, name: str, flags: int, follow: bool = True) -> int:
        assert self._root_fd is not None
        if self._openat2 is not None:
            return self._openat2(self._root_fd, name.lstrip("/") or ".",
                                 flags | (0 if follow else os.O_NOFOLLOW))
        return self._walk(name, flags, follow)

    def link(self, name: str) -> str | None:
        """The target ``name`` names if it is a symbolic link (its parents resolved inside
        the root), else None; for showing which file a link led to, never for opening."""
        if self.live:
            try:
                return os.readlink(name)
            except OSError:
                return None
        try:
            fd = self._open(name, getattr(os, "O_PATH", os.O_RDONLY) | os.O_CLOEXEC,
                            follow=False)
        except OSError:
            return None
        try:
            if not stat.S_ISLNK(os.fstat(fd).st_mode):
                return None
            return os.readlink("", dir_fd=fd)  # readlinkat(fd, "") of an O_PATH link
        except OSError:
            return None
        finally:
            os.close(fd)

    def _dangling(self, name: str) -> bool:
        """Is ``name`` itself a symlink (whose target is not inside the root)?"""
        try:
            fd = self._open(name, getattr(os, "O_PATH", os.O_RDONLY) | os.O_CLOEXEC,
                            follow=False)
        except OSError:
            return False
        try:
            return stat.S_ISLNK(os.fstat(fd).st_mode)
        finally:
            os.close(fd)

    def _walk(self, name: str, flags: int, follow: bool = True) -> int:
        """Resolve ``name`` below the root one component at a time (chroot semantics);
        open the last component with ``flags`` (and O_NOFOLLOW: no symlink can be
        swapped in after it was checked), not following it unless ``follow``."""
        root = self._root_fd
        parts = [p for p in name.split("/") if p not in ("", ".")]
        parts.reverse()  # a stack: the next component is parts[-1]
        dirs: list[int] = []  # descriptors of the directories below the root, in order
        hops = 0
        try:
            while parts:
                part = parts.pop()
                if part in ("", "."):
                    continue
                if part == "..":
                    if dirs:
                        os.close(dirs.pop())
                    continue
                here = dirs[-1] if dirs else root
                if not parts and not follow:
                    return os.open(part, flags | os.O_NOFOLLOW, dir_fd=here)
                try:
                    target = os.readlink(part, dir_fd=here)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    target = None  # not a symlink
                if target is not None:
                    hops += 1
                    if hops > MAX_HOPS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
                    if target.startswith("/"):
                        while dirs:
                            os.close(dirs.pop())
                    parts.extend(reversed([p for p in target.split("/")
                                           if p not in ("", ".")]))
                    continue
                if not parts:
                    return os.open(part, flags | os.O_NOFOLLOW, dir_fd=here)
                dirs.append(os.open(part, getattr(os, "O_PATH", os.O_RDONLY)
                                    | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                    dir_fd=here))
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))  # the root itself
        finally:
            for fd in dirs:
                os.close(fd)

    # --- reading ---------------------------------------------------------------------

    def read(self, name: str, limit: int) -> tuple[bytes, bool]:
        """Up to ``limit`` bytes of ``name`` and whether there was more."""
        fd = self.open(name)
        try:
            return read_bounded(fd, limit)
        finally:
            os.close(fd)

    def lines(self, name: str, limit: int, max_line: int = 4096):
        """Yield the lines of ``name`` (bytes, without the newline), reading at most
        ``limit`` bytes; a line longer than ``max_line`` ends the file with
        ``LineTooLong``, more than ``limit`` bytes with ``TooLarge``."""
        fd = self.open(name)
        try:
            yield from _lines(fd, limit, max_line)
        finally:
            os.close(fd)

    def gunzip(self, name: str, limit: int, in_limit: int = 4 << 20) -> bytes:
        """The decompressed contents of the gzip file ``name``, at most ``limit`` bytes;
        ``Unreadable(odd=True)`` for a stream that is not gzip or larger than that."""
        import zlib

        fd = self.open(name)
        out = bytearray()
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        read = 0
        try:
            while not inflate.eof:
                chunk = inflate.unconsumed_tail or os.read(fd, 64 << 10)
                read += 0 if inflate.unconsumed_tail else len(chunk)
                if not chunk:
                    raise Unreadable("empty" if not read else
                                     "not gzip: the stream ends early", True)
                if read > in_limit:
                    raise Unreadable(f"larger than {in_limit >> 20} MiB compressed: not a "
                                     "kernel config", True)
                out += inflate.decompress(chunk, limit + 1 - len(out))
                if len(out) > limit:
                    raise Unreadable(f"more than {limit >> 20} MiB decompressed: not a "
                                     "kernel config", True)
        except zlib.error:
            raise Unreadable("not gzip: the stream does not decode", True) from None
        finally:
            os.close(fd)
        return bytes(out)


class TooLarge(Exception):
    pass


class LineTooLong(Exception):
    pass


def read_bounded(fd: int, limit: int) -> tuple[bytes, bool]:
    """Read up to ``limit`` bytes from ``fd`` (not trusting st_size); say if more."""
    data = bytearray()
    while len(data) <= limit:
        chunk = os.read(fd, min(64 << 10, limit + 1 - len(data)))
        if not chunk:
            return bytes(data), False
        data += chunk
    return bytes(data[:limit]), True


def _lines(fd: int, limit: int, max_line: int):
    pending = b""
    total = 0
    while True:
        chunk = os.read(fd, 64 << 10)
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"larger than {limit >> 20} MiB")
        if not chunk:
            break
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            if len(line) > max_line:
                raise LineTooLong(f"a line longer than {max_line} bytes")
            yield line
        if len(pending) > max_line:
            raise LineTooLong(f"a line longer than {max_line} bytes")
    if pending:
        yield pending


_TEXT = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def is_text(data: bytes) -> bool:
    """Printable ASCII with tabs and newlines: what the kernel writes in these files."""
    return not data.translate(None, bytes(_TEXT))


def describe(data: bytes) -> str:
    """What a file holds, without any of its bytes: for evidence and messages."""
    if not data:
        return "empty"
    kind = "text" if is_text(data) else "binary"
    return f"{kind}, {len(data)} byte{'s' if len(data) != 1 else ''}"
