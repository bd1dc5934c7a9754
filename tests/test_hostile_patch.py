"""kimage patch against a hostile file system: what OUT may be, who owns the result, races.

Run through the ``kimage`` command in a subprocess, as tests/test_patch.py does. The
ownership cases need root (the test environment is root; they skip with a reason
otherwise). Expected outcomes come from the rules the README states, the kernel's file
types (stat(2)) and the POSIX ACL extended-attribute format of the kernel's uapi
headers (include/uapi/linux/posix_acl_xattr.h), never from validator code.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

LE_ELF = CORPUS / "synthetic/ppc64/vmlinux-fixup_endian_long-le-run0.elf"
WORD = 0x1000 + 0x5C  # first PT_LOAD (file offset 0x1000) + 0x5c, little-endian
PATCHED = b"\x01\x00\x00\x00"
PAUSE_ENV = "KIMAGE_TEST_PAUSE"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mknod)")


def kimage(*args, timeout=120, prefix=(), env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "validator", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def patch(*args, **kw) -> subprocess.CompletedProcess:
    return kimage("patch", *args[:1], "--run-at-load", "1", *args[1:], **kw)


def refused(p: subprocess.CompletedProcess, needle: str) -> None:
    """Exit 2, and one line on stderr that says ``needle``."""
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert needle in lines[0], lines[0]


def temporaries(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if n.endswith(".kimage-tmp")]


def word(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(WORD)
        return f.read(4)


def private_copy(tmp_path: Path, name: str = "vmlinux") -> Path:
    src = tmp_path / name
    shutil.copyfile(LE_ELF, src)
    assert word(src) != PATCHED
    return src


# --- 1. an existing OUT that is not a regular file: refused, even with --force -------

@pytest.mark.parametrize("force", [False, True])
def test_a_fifo_out_stays_a_fifo(tmp_path, force):
    out = tmp_path / "out"
    os.mkfifo(out)
    p = patch(LE_ELF, "-o", out, *(["--force"] if force else []), timeout=30)
    refused(p, "is a FIFO, not a regular file: refused, even with --force")
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_to_dev_null_stays_a_symlink(tmp_path, force):
    out = tmp_path / "out"
    out.symlink_to("/dev/null")
    p = patch(LE_ELF, "-o", out, *(["--force"] if force else []))
    refused(p, "is a symbolic link, not a regular file: refused, even with --force")
    assert os.path.islink(out) and os.readlink(out) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.listdir(tmp_path) == ["out"]


def test_a_symlink_to_a_regular_file_is_neither_replaced_nor_followed(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"kept")
    out = tmp_path / "out"
    out.symlink_to(target)
    refused(patch(LE_ELF, "-o", out, "--force"), "is a symbolic link")
    assert os.path.islink(out) and target.read_bytes() == b"kept"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    refused(patch(LE_ELF, "-o", dangling, "--force"), "is a symbolic link")
    assert os.path.islink(dangling) and not (tmp_path / "nowhere").exists()
    assert sorted(os.listdir(tmp_path)) == ["dangling", "out", "target"]


def test_a_directory_and_a_socket_out_are_refused(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    refused(patch(LE_ELF, "-o", d, "--force"), "is a directory, not a regular file")
    assert d.is_dir() and os.listdir(d) == []
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        refused(patch(LE_ELF, "-o", sock_path, "--force"), "is a socket, not a regular file")
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    assert temporaries(tmp_path) == []


@ROOT_ONLY
def test_a_character_device_out_stays_a_device(tmp_path):
    """The same device as /dev/null (char 1:3), made in a private directory: a failure
    of this test must not be able to take /dev/null away from the host."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    p = patch(LE_ELF, "-o", null, "--force")
    refused(p, "is a character device, not a regular file: refused, even with --force")
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert os.listdir(tmp_path) == ["null"]


@ROOT_ONLY
def test_dev_null_itself_is_refused_before_anything_is_written():
    """-o /dev/null without --force: refused before a temporary file exists in /dev (the
    --force case is the device test above, on a private node)."""
    before = os.stat("/dev/null")
    refused(patch(LE_ELF, "-o", "/dev/null"), "is a character device, not a regular file")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino, before.st_rdev)
    assert temporaries(Path("/dev")) == []


def test_help_says_what_is_never_written_over():
    p = kimage("patch", "--help")
    text = " ".join(p.stdout.split())
    assert "a device, FIFO, socket, directory or symbolic link at OUT, even with --force" in text
    assert "never modified" not in text


# --- the input must be a regular file: a FIFO is refused, not waited on ---------------

@pytest.mark.parametrize("mode", ["-o", "--in-place"])
def test_a_fifo_image_is_refused_without_hanging(tmp_path, mode):
    fifo = tmp_path / "vmlinux"
    os.mkfifo(fifo)
    args = ["-o", tmp_path / "out"] if mode == "-o" else ["--in-place"]
    p = patch(fifo, *args, timeout=20)  # the old code blocked in open(2) for ever
    refused(p, "a FIFO, not a regular file: refused before reading")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["vmlinux"]


# --- 2. owner, group, mode, set-id bits, xattrs, ACLs, hard links ---------------------

def _acl_xattr(owner_perm: int, user: int, user_perm: int, group_perm: int, other: int) -> bytes:
    """system.posix_acl_access as the kernel stores it: version 2, then (tag, perm, id)
    entries sorted by tag (include/uapi/linux/posix_acl_xattr.h, posix_acl.h)."""
    undefined = 0xFFFFFFFF
    entries = [(0x01, owner_perm, undefined),  # ACL_USER_OBJ
               (0x02, user_perm, user),  # ACL_USER
               (0x04, group_perm, undefined),  # ACL_GROUP_OBJ
               (0x10, group_perm, undefined),  # ACL_MASK
               (0x20, other, undefined)]  # ACL_OTHER
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def _setuid_file(tmp_path: Path) -> tuple[Path, bytes | None]:
    """A copy owned by 1234:1234, mode 04755, user.kimage=1 and, where the file system
    takes one, an ACL granting uid 4321 r-x. Returns (path, the ACL xattr or None)."""
    src = private_copy(tmp_path)
    os.chown(src, 1234, 1234)
    os.chmod(src, 0o4755)
    os.setxattr(src, "user.kimage", b"1")
    acl = None
    try:
        if shutil.which("setfacl"):
            subprocess.run(["setfacl", "-m", "u:4321:r-x", str(src)], check=True)
        else:
            os.setxattr(src, "system.posix_acl_access", _acl_xattr(7, 4321, 5, 5, 5))
        acl = os.getxattr(src, "system.posix_acl_access")
    except OSError:
        pass  # no ACLs on this file system: that part is not tested
    os.chmod(src, 0o4755)  # chown and ACL changes may clear set-id bits; set them again
    st = os.stat(src)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 1234, 0o4755)
    return src, acl


def _xattr(path: Path, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name)
    except OSError:
        return None


@ROOT_ONLY
def test_in_place_keeps_owner_group_mode_xattrs_and_acl(tmp_path):
    src, acl = _setuid_file(tmp_path)
    inode = src.stat().st_ino
    p = patch(src, "--in-place")
    assert p.returncode == 0, p.stderr
    st = os.stat(src)
    assert st.st_ino != inode and word(src) == PATCHED  # a new file, renamed in
    assert (st.st_uid, st.st_gid) == (1234, 1234)  # not root's
    assert stat.S_IMODE(st.st_mode) == 0o4755  # owner kept exactly: set-uid kept
    assert _xattr(src, "user.kimage") == b"1"
    if acl is not None:
        assert _xattr(src, "system.posix_acl_access") == acl
    assert os.listdir(tmp_path) == ["vmlinux"]


@ROOT_ONLY
def test_a_new_out_belongs_to_the_caller_and_is_never_set_id(tmp_path):
    src, _ = _setuid_file(tmp_path)
    out = tmp_path / "out"
    p = patch(src, "-o", out)
    assert p.returncode == 0, p.stderr
    st = os.stat(out)
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())  # root's, as cp makes it
    assert stat.S_IMODE(st.st_mode) == 0o755  # 04755 without set-uid: no root set-uid file
    assert _xattr(out, "user.kimage") is None and _xattr(out, "system.posix_acl_access") is None
    os.chmod(src, 0o2750)  # set-group-ID too, and through --force
    p = patch(src, "-o", out, "--force")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o750


@ROOT_ONLY
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")
def test_in_place_drops_set_id_when_the_owner_cannot_be_kept(tmp_path):
    """Root without CAP_CHOWN cannot give the new file to uid 1234: it stays root's, so
    it must not stay set-uid (that would be a root set-uid file made from a user's)."""
    src, _ = _setuid_file(tmp_path)
    p = patch(src, "--in-place", prefix=["setpriv", "--bounding-set=-chown", "--"])
    assert p.returncode == 0, p.stderr
    st = os.stat(src)
    assert word(src) == PATCHED and (st.st_uid, st.st_gid) == (0, 0)
    assert stat.S_IMODE(st.st_mode) == 0o755
    assert _xattr(src, "user.kimage") == b"1"  # the rest is still kept


def test_in_place_refuses_a_file_with_other_hard_links_unless_forced(tmp_path):
    src = private_copy(tmp_path)
    other = tmp_path / "other-link"
    os.link(src, other)
    original = LE_ELF.read_bytes()
    refused(patch(src, "--in-place"), "has 2 hard links")
    assert src.read_bytes() == original and os.stat(src).st_nlink == 2
    p = patch(src, "--in-place", "--force")
    assert p.returncode == 0, p.stderr
    assert word(src) == PATCHED  # this name: the new file
    assert other.read_bytes() == original  # the other link keeps the old bytes, as --help says
    assert sorted(os.listdir(tmp_path)) == ["other-link", "vmlinux"]


# --- 3. no check-then-rename: OUT is created without replacing anything --------------

def test_ten_concurrent_writers_of_one_out_one_wins(tmp_path):
    """Each writer pauses after its verification (past the early "exists" check) so that
    all of them race for the name; exactly one may create it."""
    out = tmp_path / "out"
    env = dict(os.environ, **{PAUSE_ENV: "verified", PAUSE_ENV + "_SECONDS": "3"})
    procs = [subprocess.Popen([sys.executable, "-m", "validator", "patch", str(LE_ELF),
                               "--run-at-load", "1", "-o", str(out)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(10)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [2] * 9, results
    for code, _, err in results:
        if code == 2:
            lines = [x for x in err.splitlines() if not x.startswith("kimage-test-paused")]
            assert len(lines) == 1 and "exists" in lines[0], err
    assert word(out) == PATCHED
    assert os.listdir(tmp_path) == ["out"]  # no temporary file left


def _paused(args: list, stage: str = "verified", seconds: str = "3") -> subprocess.Popen:
    env = dict(os.environ, **{PAUSE_ENV: stage, PAUSE_ENV + "_SECONDS": seconds})
    proc = subprocess.Popen([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stderr.readline()
    assert line.startswith(b"kimage-test-paused " + stage.encode()), line
    return proc


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


def test_an_out_created_while_the_copy_is_written_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    proc = _paused(["patch", LE_ELF, "--run-at-load", "1", "-o", out])
    out.write_bytes(b"another writer's file")
    code, err = _finish(proc)
    assert code == 2 and "exists" in err and "--force" in err, err
    assert out.read_bytes() == b"another writer's file"
    assert os.listdir(tmp_path) == ["out"]


def test_force_checks_out_again_just_before_the_rename(tmp_path):
    """OUT was a regular file at the first check and is a FIFO at the rename."""
    out = tmp_path / "out"
    out.write_bytes(b"old")
    proc = _paused(["patch", LE_ELF, "--run-at-load", "1", "-o", out, "--force"])
    out.unlink()
    os.mkfifo(out)
    code, err = _finish(proc)
    assert code == 2 and "is a FIFO, not a regular file" in err, err
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    assert os.listdir(tmp_path) == ["out"]


def test_in_place_leaves_a_file_replaced_meanwhile_alone(tmp_path):
    src = private_copy(tmp_path)
    proc = _paused(["patch", src, "--run-at-load", "1", "--in-place"])
    fresh = tmp_path / "fresh"
    fresh.write_bytes(b"a newer kernel")
    os.replace(fresh, src)
    code, err = _finish(proc)
    assert code == 2 and "was replaced or changed" in err, err
    assert src.read_bytes() == b"a newer kernel"
    assert os.listdir(tmp_path) == ["vmlinux"]


@pytest.mark.parametrize("renameat2", [None, errno.ENOSYS])  # none in libc; the kernel has none
def test_without_renameat2_link_creates_out_and_never_replaces(tmp_path, monkeypatch, renameat2):
    from validator.kdump import patch_dest  # declares no rules: safe to import here

    monkeypatch.setattr(patch_dest, "_renameat2_noreplace", lambda tmp, dest: renameat2)
    tmp, dest = tmp_path / ".out.x.kimage-tmp", tmp_path / "out"
    tmp.write_bytes(b"new")
    patch_dest.create(str(tmp), str(dest))
    assert dest.read_bytes() == b"new" and os.listdir(tmp_path) == ["out"]
    tmp.write_bytes(b"newer")
    with pytest.raises(patch_dest.DestinationError, match="exists"):
        patch_dest.create(str(tmp), str(dest))
    assert dest.read_bytes() == b"new"
