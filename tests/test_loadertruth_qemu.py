"""loadertruth/qemu.py: the verdict from what QEMU left at the kernel's first instruction.

Pure Python (a fake gdbstub, recorded observations); three real runs of a few KiB each
(well under a second) when qemu-system-aarch64 is installed.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from loadertruth import qemu
from tests.test_rules import ARM64_BASE, arm64, patch

#: a 6.1 header as QEMU left it at 0x40200000: text_offset 0, image_size 0x2010000
HEADER = (bytes(8) + (0).to_bytes(8, "little") + (0x2010000).to_bytes(8, "little")
          + bytes(32) + b"ARM\x64" + bytes(4))


def seen(**changes) -> dict:
    """An observation of a good boot (values from a run on the Debian 6.1 Image)."""
    o = {"reset_pc": 0x40000000, "stub": True, "steps": 6, "pc": 0x40200000,
         "x0": 0x48000000, "x1": 0, "x2": 0, "x3": 0, "header": HEADER.hex(),
         "dtb_magic": "d00dfeed", "dtb_size": 0x100000}
    o.update(changes)
    return o


def with_header(text_offset: int, image_size: int, magic: bytes = b"ARM\x64") -> str:
    return (bytes(8) + text_offset.to_bytes(8, "little") + image_size.to_bytes(8, "little")
            + bytes(32) + magic + bytes(4)).hex()


def test_a_good_boot_is_accepted():
    ok, message = qemu.judge(seen())
    assert ok is True
    assert message == "entry 0x40200000 = 0x40200000 + text_offset 0x0, x0 = DTB at 0x48000000"


@pytest.mark.parametrize("changes, accept, says", [
    # the raw-blob fallback: no magic at the entry
    ({"pc": 0x40080000, "header": with_header(0, 0x2010000, b"\0\0\0\0")}, False,
     "no ARM\\x64 magic"),
    # a 60-byte file: the magic is there, but QEMU did not read it (0x40080000, offset 0)
    ({"pc": 0x40080000}, False, "is not 2 MiB aligned"),
    # image_size 0: text_offset is 0x80000 whatever the field says
    ({"pc": 0x40080000, "header": with_header(0x1234, 0)}, True, "text_offset 0x80000"),
    ({"pc": 0x40001234, "header": with_header(0x1234, 0x2010000)}, True, "0x40000000"),
    ({"pc": 0x40200000, "header": None}, False, "no memory there"),
    ({"stub": False, "pc": 0x0, "x0": 0}, False, "bare-metal"),
    ({"dtb_magic": None}, False, "is not a DTB"),
    ({"x2": 1}, False, "x1-x3"),
    ({"header": with_header(0, 0x80000000)}, False, "ends past the RAM"),
    ({"x0": 0x40400000}, False, "inside the image"),
])
def test_judge(changes, accept, says):
    ok, message = qemu.judge(seen(**changes))
    assert ok is accept
    assert says in message


@pytest.mark.parametrize("stderr, says", [
    ("qemu-system-aarch64: could not load kernel 'IMAGE'\n", "could not load kernel"),
    ("qemu-system-aarch64: kernel 'IMAGE' is too large to fit in RAM (kernel size "
     "4294967296, RAM size 2147483648)\n", "too large to fit in RAM"),
    ("qemu-system-aarch64: Not enough space for DTB after kernel/initrd\n",
     "Not enough space for DTB"),
    ("qemu-system-aarch64: Some ROM regions are overlapping\nThese ROM regions might have "
     "been loaded by direct user request or by default.\n\nThe following two regions overlap "
     "(in the cpu-memory-0 address space):\n  IMAGE (addresses 0x000000003ffff000 - "
     "0x0000000041f6cfc0)\n  bootloader (addresses 0x0000000040000000 - "
     "0x0000000040000028)\n", "Some ROM regions are overlapping"),
    ("", "exited with status 1"),
])
def test_classify_exit(stderr, says):
    ok, message = qemu.classify_exit(stderr, 1)
    assert ok is False
    assert says in message


class FakeStub:
    """A gdbstub that answers like QEMU's at the reset of a -kernel boot: the boot stub at
    0x40000000 (each step moves the PC by 4, the 6th branches to 0x40200000)."""

    def __init__(self, path):
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.pc, self.steps = 0x40000000, 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def reply(self, body: str) -> bytes:
        return b"+$" + body.encode() + b"#" + f"{sum(body.encode()) % 256:02x}".encode()

    def answer(self, request: str) -> str:
        if request == "g":
            regs = [0] * 33
            if self.steps >= 1:
                regs[0] = 0x48000000
            regs[32] = self.pc
            return "".join(r.to_bytes(8, "little").hex() for r in regs) + "00000000"
        if request == "s":
            self.steps += 1
            self.pc = 0x40200000 if self.steps == 6 else self.pc + 4
            return "S05"
        if request.startswith("m"):
            addr, length = (int(x, 16) for x in request[1:].split(","))
            if addr == 0x40200000:
                return HEADER[:length].hex()
            if addr == 0x48000000:
                return bytes.fromhex("d00dfeed00100000")[:length].hex()
            return "E14"
        return ""

    def serve(self):
        conn, _ = self.server.accept()
        buf = b""
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"#" in buf:
                    start, end = buf.index(b"$"), buf.index(b"#")
                    request = buf[start + 1:end].decode()
                    buf = buf[end + 3:]
                    conn.sendall(self.reply(self.answer(request)))


def test_observe_steps_through_the_boot_stub(tmp_path):
    path = tmp_path / "gdb"
    stub = FakeStub(path)
    gdb = qemu.GdbRemote(path, deadline=time.monotonic() + 5)
    try:
        observed = qemu.observe(gdb)
    finally:
        gdb.close()
        stub.server.close()
    assert observed["steps"] == 6
    assert observed["pc"] == 0x40200000 and observed["x0"] == 0x48000000
    assert observed["dtb_magic"] == "d00dfeed" and observed["dtb_size"] == 0x100000
    assert qemu.judge(observed)[0] is True


needs_qemu = pytest.mark.skipif(qemu.qemu() is None, reason="qemu-system-aarch64 missing")


@needs_qemu
@pytest.mark.parametrize("data, accept, says", [
    (ARM64_BASE, True, "entry 0x40200000 = 0x40200000 + text_offset 0x0"),
    (patch(ARM64_BASE, 0x38, b"ARMD"), False, "entry 0x40080000: no ARM\\x64 magic"),
    (arm64(image_size=4 << 30), False, "too large to fit in RAM"),
])
def test_real_qemu(data, accept, says, tmp_path):
    image = tmp_path / "Image"
    image.write_bytes(data)
    v = qemu.run(image, "Image")
    assert v.accept is accept, v
    assert says in v.message
