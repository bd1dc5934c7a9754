"""Where ``kimage patch`` may put its copy, which metadata the copy gets, and how it lands.

The rules (README, "Write ``__run_at_load``"):

* An existing OUT must be a regular file. A device, FIFO, socket, directory or symbolic
  link (whatever it points to) is refused, with or without ``--force``: a rename over it
  would replace it by name, and a symbolic link would silently become a regular file.
* A new OUT (``-o``) belongs to the user running kimage, as ``cp`` without ``-p`` makes
  it, with the input's permission bits minus set-user-ID and set-group-ID: kimage never
  creates a set-id file. It is created without replacing anything (renameat2 with
  RENAME_NOREPLACE, else link(2)): an OUT that appears while the copy is written is
  refused as "exists". Only ``--force`` renames over an existing OUT, after checking
  again, just before the rename, that it is a regular file.
* ``--in-place`` keeps the owner and group where permitted (as ``sed -i`` does: the
  owner and group, else the group alone, EPERM ignored), the permission bits, and the
  extended attributes (POSIX ACLs live in ``system.posix_acl_access``); an attribute the
  file system or the kernel refuses to set (EPERM, ENOTSUP: typically ``security.*``) is
  skipped. Set-id bits and ``security.capability`` are kept only when the owner and the
  group are both kept exactly. A file with other hard links is refused unless
  ``--force``: the rename gives this name a new file and the other links keep the old one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

SETID = stat.S_ISUID | stat.S_ISGID
#: Privileges, kept only on a file whose owner and group are unchanged.
PRIVILEGED_XATTRS = ("security.capability",)
#: A new file may inherit this from the directory's default ACL; it goes when the input
#: has none.
INHERITED_XATTRS = ("system.posix_acl_access",)
AT_FDCWD = -100
RENAME_NOREPLACE = 1

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket",
          stat.S_IFLNK: "a symbolic link"}


class DestinationError(Exception):
    """Refused: the message is one line for the user."""


def _not_regular(dest: str, mode: int) -> DestinationError:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return DestinationError(f"{dest}: is {kind}, not a regular file: refused, even with "
                            f"--force (OUT must be a regular file or absent)")


def _lstat(dest: str) -> os.stat_result | None:
    try:
        return os.lstat(dest)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DestinationError(f"{dest}: {exc.strerror or exc}") from None


def check_out(dest: str, src: os.stat_result, force: bool) -> None:
    """Refuse an OUT that must not be written: not regular, the input, or existing."""
    st = _lstat(dest)
    if st is None:
        return
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(dest, st.st_mode)
    if (st.st_dev, st.st_ino) == (src.st_dev, src.st_ino):
        raise DestinationError(f"{dest}: is the input; use --in-place to patch it")
    if not force:
        raise DestinationError(f"{dest}: exists; use --force to replace it")


def check_in_place(path: str, src: os.stat_result, force: bool) -> str:
    """The file --in-place replaces (a symbolic link IMAGE: the file it names)."""
    if src.st_nlink > 1 and not force:
        raise DestinationError(
            f"{path}: has {src.st_nlink} hard links; --in-place would give this name a new "
            f"file and the other links would keep the old bytes; use --force to do so, or "
            f"-o OUT")
    return os.path.realpath(path)


def new_file_metadata(src: os.stat_result, fd: int) -> None:
    """-o OUT: ours, with the input's permission bits minus set-id."""
    os.fchmod(fd, stat.S_IMODE(src.st_mode) & ~SETID)


def keep_metadata(src_fd: int, src: os.stat_result, fd: int) -> None:
    """--in-place: owner, group, mode and extended attributes where permitted.

    Called after the last write to ``fd`` (a write clears set-id bits and file
    capabilities) and in this order: chown (which clears them too), attributes, mode.
    """
    try:
        os.fchown(fd, src.st_uid, src.st_gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, src.st_gid)
    now = os.fstat(fd)
    same_owner = (now.st_uid, now.st_gid) == (src.st_uid, src.st_gid)
    _copy_xattrs(src_fd, fd, same_owner)
    mode = stat.S_IMODE(src.st_mode)
    os.fchmod(fd, mode if same_owner else mode & ~SETID)


def _copy_xattrs(src_fd: int, fd: int, same_owner: bool) -> None:
    try:
        names = os.listxattr(src_fd)
    except OSError:  # ENOTSUP: the file system has none
        names = []
    for name in names:
        if name in PRIVILEGED_XATTRS and not same_owner:
            continue
        try:
            os.setxattr(fd, name, os.getxattr(src_fd, name))
        except OSError as exc:
            if exc.errno not in _SKIPPED:
                raise
    for name in INHERITED_XATTRS:
        if name not in names:
            with contextlib.suppress(OSError):
                os.removexattr(fd, name)


#: Not permitted here (security.* without the privilege, a file system without that
#: namespace), or gone since it was listed: skipped. Anything else fails the patch.
_SKIPPED = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA}


def replace(tmp: str, dest: str, expect: os.stat_result | None = None) -> None:
    """Rename ``tmp`` over ``dest`` (--force, --in-place) after checking ``dest`` again.

    ``dest`` must be absent or a regular file (with ``expect``: still that very file,
    unchanged). The check and the rename are two system calls: an entry put at ``dest``
    between them is replaced by name (rename(2) never writes into it).
    """
    st = _lstat(dest)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _not_regular(dest, st.st_mode)
    if expect is not None:
        same = st is not None and ((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
                                   == (expect.st_dev, expect.st_ino, expect.st_size,
                                       expect.st_mtime_ns))
        if not same:
            raise DestinationError(f"{dest}: was replaced or changed while the copy was "
                                   f"written; left as it is now")
    os.replace(tmp, dest)


def create(tmp: str, dest: str) -> None:
    """Give ``tmp`` the name ``dest`` only if nothing has it (atomically), then drop ``tmp``."""
    err = _renameat2_noreplace(tmp, dest)
    if err == 0:
        return
    if err == errno.EEXIST:
        raise _exists(dest)
    if err not in (None, errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        raise OSError(err, os.strerror(err), dest)
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise _exists(dest) from None
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise DestinationError(
                f"{dest}: this file system offers neither renameat2(RENAME_NOREPLACE) nor "
                f"link(2), so OUT cannot be created without risking replacing a file; "
                f"--force renames over it") from None
        raise
    os.unlink(tmp)


def _exists(dest: str) -> DestinationError:
    return DestinationError(f"{dest}: exists (created while the copy was written); use "
                            f"--force to replace it")


def _renameat2_noreplace(tmp: str, dest: str) -> int | None:
    """0 on success, an errno on failure, None when the C library has no renameat2."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(AT_FDCWD, os.fsencode(tmp), AT_FDCWD, os.fsencode(dest), RENAME_NOREPLACE) == 0:
        return 0
    return ctypes.get_errno()
