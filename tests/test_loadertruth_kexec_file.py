"""loadertruth.kexec_file_kernel: the job encoding (with loadertruth.imagediff) and the
console parsing (loadertruth.kexec_file_console), pure Python; the QEMU guest itself
runs in ``make loader-truth``, not here."""

from __future__ import annotations

import gzip
import struct

from loadertruth import compare, imagediff
from loadertruth import kexec_file_console as kfc
from loadertruth import kexec_file_kernel as kfk
from loadertruth.run import applicable


def _sparse(path, size, chunks):
    with open(path, "wb") as f:
        for off, data in chunks:
            f.seek(off)
            f.write(data)
        f.truncate(size)
    return path


def test_base_roundtrip_keeps_only_data(tmp_path):
    size = 3 << 20
    data = [(0, b"\x01" * 64), (1 << 20, b"abc"), (size - 5, b"tail!")]
    p = _sparse(tmp_path / "base", size, data)
    blob = imagediff.encode_base(p)
    assert blob[:4] == b"KBAS"
    assert struct.unpack_from("<Q", blob, 8)[0] == size
    assert len(blob) < 4 * 65536 + 200  # zeros are not shipped
    assert imagediff.decode_base(blob) == p.read_bytes()


def test_base_of_empty_file(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert imagediff.decode_base(imagediff.encode_base(p)) == b""


def _rebuild(base, image):
    patches = imagediff.diff_patches(base, image)
    got = imagediff.apply_patches(imagediff.decode_base(imagediff.encode_base(base)),
                                  image.stat().st_size, patches)
    return got, patches


def test_diff_header_patch(tmp_path):
    size = 2 << 20
    base = _sparse(tmp_path / "b", size, [(0, bytes(range(64))), (0x10000, b"x" * 100)])
    img = _sparse(tmp_path / "i", size, [(0, bytes(range(64))), (0x10000, b"x" * 100),
                                         (16, b"\xff" * 8), (0x38, b"ARMe")])
    got, patches = _rebuild(base, img)
    assert got == img.read_bytes()
    assert [off for off, _ in patches] == [16, 0x38]


def test_diff_truncation_and_extension(tmp_path):
    size = 1 << 20
    content = [(0, b"\x11" * 4096), (size - 4096, b"\x22" * 4096)]
    base = _sparse(tmp_path / "b", size, content)
    short = _sparse(tmp_path / "s", 100, [(0, b"\x11" * 100)])
    got, patches = _rebuild(base, short)
    assert got == short.read_bytes() and patches == []
    longer = _sparse(tmp_path / "l", size + 12345, content)
    got, patches = _rebuild(base, longer)
    assert got == longer.read_bytes() and patches == []


def test_diff_zeroed_data_and_long_patch_split(tmp_path):
    size = 1 << 20
    base = _sparse(tmp_path / "b", size, [(0, b"\x33" * 20000)])
    img = _sparse(tmp_path / "i", size, [(0, b"\x33" * 10), (10, b"\x00" * 19990)])
    got, patches = _rebuild(base, img)
    assert got == img.read_bytes()
    assert all(len(d) <= imagediff.PATCH_CHUNK for _, d in patches)


def test_job_encoding():
    job = kfk.encode_job(
        [kfk.JobImage(0, 0, 100, []), kfk.JobImage(1, 0, 4096, [(56, b"ARMe"), (8, b"\0")])],
        {0: "/b/0"}, ["normal", "crash"], cmdline="console=ttyAMA0 x")
    assert job.splitlines() == [
        "cmdline console=ttyAMA0 x", "modes normal crash", "base 0 /b/0",
        "img 0 0 100 0", "img 1 0 4096 2", "p 56 41524d65", "p 8 00", "end"]


def test_initramfs_is_a_gzip_newc_cpio():
    rd = kfk.initramfs(b"\x7fELF", {0: b"KBAS"}, "end\n")
    raw = gzip.decompress(rd)
    assert raw.startswith(b"070701")
    for name in (b"init\0", b"b/0\0", b"job\0", b"dev/console\0", b"TRAILER!!!\0"):
        assert name in raw
    # every header is 4-byte aligned: the entry after "init" starts at a multiple of 4
    assert raw.index(b"070701", raw.index(b"init\0")) % 4 == 0


CONSOLE = """\
[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x000f0510]
KFL-INFO osrelease 6.1.176
KFL-INFO iomem   a9a00000-b99fffff : Crash kernel
KFL-KMSG 0 normal 7 kexec_image: Loaded kernel at 0x40200000 bufsz=0x1f6e200 memsz=0x1f80000
KFL 0 normal 0 OK 0 51234
KFL-UNLOAD 0 normal 0 OK 0
KFL 0 crash -1 EADDRNOTAVAIL 99 812
KFL-KMSG 1 normal 3 kexec_image: Could not find any suitable kernel location!
KFL 1 normal -1 ENOEXEC 8 30
KFL 1 crash -1 ENOEXEC 8 20
KFL-ERR 2 ftruncate No space left on device
KFL 3 normal -1 ENOSYS 38 5
KFL-END 4
"""


def test_parse_console():
    p = kfc.parse_console(CONSOLE)
    assert p["end"] == 4
    assert p["info"]["osrelease"] == ["6.1.176"]
    assert p["loads"][(0, "normal")]["unload"] == "OK"
    assert p["loads"][(0, "crash")]["errno"] == "EADDRNOTAVAIL"
    assert p["errors"] == {2: "ftruncate No space left on device"}

    acc, msg, obs = kfc.verdict_fields(p["loads"][(0, "normal")], None)
    assert acc is True and msg == "kexec_file_load: 0"
    assert obs["kernel_mem"] == 0x40200000 and obs["memsz"] == 0x1F80000
    assert obs["unload"] == "OK"
    acc, msg, obs = kfc.verdict_fields(p["loads"][(1, "normal")], None)
    assert acc is False and msg == "kexec_file_load: -1 ENOEXEC (8)"
    assert obs["kmsg"] == ["<3>kexec_image: Could not find any suitable kernel location!"]
    # the harness cannot decide: rebuild error, no line, no kexec_file_load at all
    assert kfc.verdict_fields(None, p["errors"][2])[0] is None
    assert kfc.verdict_fields(None, None)[0] is None
    acc, msg, _ = kfc.verdict_fields(p["loads"][(3, "normal")], None)
    assert acc is None and "CONFIG_KEXEC_FILE" in msg


def test_parse_console_line_shared_with_kernel_output():
    p = kfc.parse_console("[   12.3] random: crng init doneKFL 5 crash 0 OK 0 7\r\n")
    assert p["loads"][(5, "crash")]["rc"] == 0


def test_wiring():
    assert compare.KIMAGE_LOADER["kexec-file-kernel"] == "kexec-file"
    assert compare.KIMAGE_LOADER["kexec-file-kernel-crash"] == "kexec-file"
    assert applicable("kexec-file-kernel", "arm64")
    assert applicable("kexec-file-kernel-crash", "ppc64")  # a ppc64le guest


def test_plan_ships_each_base_once(tmp_path):
    size = 1 << 20
    base = _sparse(tmp_path / "as-is--base", size, [(0, b"\x01" * 64)])
    v1 = _sparse(tmp_path / "magic--zero", size, [(0, b"\x01" * 56), (56, b"\0" * 4),
                                                   (60, b"\x01" * 4)])
    v2 = _sparse(tmp_path / "truncated--32", 32, [(0, b"\x01" * 32)])
    items = [kfk.Item(p, p.name, "arm64", "", base) for p in (base, v1, v2)]
    blobs, paths, job = kfk.plan(items)
    assert list(blobs) == [0] and paths == {0: "/b/0"}
    assert [(j.id, j.base, j.size) for j in job] == [(0, 0, size), (1, 0, size), (2, 0, 32)]
    assert job[1].patches == [(56, b"\0" * 4)] and job[2].patches == []


def test_ppc64_placement_lines():
    load = {"rc": 0, "errno": "OK", "errnum": 0, "us": 1, "kmsg": [
        "<7>kexec_elf: Loaded the kernel at 0x20000000",
        "<7>kexec_elf: Loaded purgatory at 0x2ffe0000",
        "<7>Loaded elf core header at 0x22890000, bufsz=0x1000 memsz=0x10000",
        "<7>No dynamic reconfiguration memory found",
        "<7>kexec_elf: Loaded device tree at 0x2ffd0000"]}
    _, _, obs = kfc.verdict_fields(load, None)
    assert (obs["kernel_mem"], obs["purgatory_mem"], obs["elfcorehdr_mem"], obs["dtb_mem"]) == (
        0x20000000, 0x2FFE0000, 0x22890000, 0x2FFD0000)
    assert len(obs["kmsg"]) == 4  # the constant line is dropped


def test_guest_command_line():
    for arch, guest in kfk.GUESTS.items():
        cmd = kfk.command(kfk.Path("/k"), kfk.Path("/i"), arch)
        append = cmd[cmd.index("-append") + 1]
        assert f"console={guest.console}" in append and "crashkernel=" in append
        assert "-no-reboot" in cmd
