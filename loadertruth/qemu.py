"""QEMU's own direct kernel boot: ``qemu-system-aarch64 -M virt -kernel IMAGE``, no firmware.

What QEMU 7.2 does with ``-kernel`` (hw/arm/boot.c ``arm_setup_direct_kernel_boot``; facts
only, read in the Debian 7.2+dfsg source and confirmed by the runs): ``arm_load_elf``
first (an ELF is loaded at its physical addresses and started at ``e_entry`` as a
bare-metal program: no boot stub, nothing in x0), then ``load_uimage_as`` (uImage), then
for an AArch64 CPU ``load_aarch64_image``: gunzip when the file starts ``1f 8b``
(hw/core/loader.c ``load_image_gzipped_buffer``, at most 256 MiB), else the raw file; if
it is longer than 60 bytes and has "ARM\\x64" at 0x38, a non-zero image_size is the
kernel's size and text_offset the load offset (plus 2 MiB when below 4 KiB, where the boot
stub lives); otherwise offset 0x80000 and the file's size. The buffer goes to RAM base
(0x40000000 on virt) + that offset. Then: a size over the RAM size -> "kernel ... is too
large to fit in RAM"; a negative one (image_size >= 2^63 read into an ``ssize_t``) ->
"could not load kernel"; the DTB goes 2 MiB-aligned after max(RAM base + 128 MiB, image
end) -> "Not enough space for DTB after kernel/initrd" when that is past the RAM; ROM
blobs that overlap -> "Some ROM regions are overlapping" (hw/core/loader.c
``rom_check_and_register_reset``). A 6-instruction boot stub at RAM base loads x0 = DTB,
x1-x3 = 0 and branches to the entry.

How the harness observes it: QEMU is started with ``-S`` and its gdbstub on a private
unix socket; the harness single-steps the CPU through the boot stub (at most
``MAX_STEPS`` instructions, until the PC leaves the stub) and reads the registers and
guest memory at the kernel's first instruction. Verdict:

==========================================  ===========================================
observation                                 verdict
==========================================  ===========================================
QEMU exits before the CPU starts            rejected, by its error line ("could not
                                            load kernel", "too large to fit in RAM",
                                            "Not enough space for DTB", "Some ROM
                                            regions are overlapping", or a silent
                                            exit(1) of ``arm_load_elf``)
no boot stub ran (PC is not the RAM base)   rejected: started as a bare-metal program
                                            (an ELF, a non-Linux uImage), no DTB in x0
no RAM / no "ARM\\x64" at entry+0x38        rejected: what runs is not an Image header
                                            (the raw-blob fallback, or nothing loaded)
entry - text_offset not 2 MiB aligned       rejected (booting.rst "placed text_offset
                                            bytes from a 2MB aligned base address")
x0 not a DTB (d00dfeed), x1-x3 not 0        rejected (booting.rst "Primary CPU general-
                                            purpose register settings")
entry + image_size past the RAM, or over    rejected (booting.rst "At least image_size
the DTB                                     bytes from the start of the image must be
                                            free")
all of the above hold                       accepted
no stop in time                             None
==========================================  ===========================================

text_offset and image_size are read from guest memory at the entry (the header QEMU
actually placed), image_size 0 meaning text_offset 0x80000 (booting.rst) and the loaded
size unknown, so then only the entry itself is checked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .common import CACHE, Verdict, new_verdict, qemu, scrub, tail, versions

RAM_BASE = 0x40000000  # hw/arm/virt.c memmap VIRT_MEM
RAM_MIB = 2048
RAM_END = RAM_BASE + RAM_MIB * (1 << 20)
#: the boot stub QEMU writes at RAM base: 6 instructions, then 4 literal words
STUB_END = RAM_BASE + 0x28
MAX_STEPS = 16
TIMEOUT = 20.0
ARM64_MAGIC = b"ARM\x64"
FDT_MAGIC = b"\xd0\x0d\xfe\xed"
SZ_2M = 2 << 20
LEGACY_TEXT_OFFSET = 0x80000

#: QEMU's refusals (stderr), most specific first
REJECT = (
    "could not load kernel",
    "is too large to fit in RAM",
    "Not enough space for DTB",
    "Some ROM regions are overlapping",
    "Could not open",
)


def available(arch: str = "arm64") -> tuple[bool, str]:
    if arch != "arm64":
        return False, "qemu-system-aarch64 -kernel is run on arm64 images only"
    if qemu() is None:
        return False, "qemu-system-aarch64 not installed (qemu-system-arm)"
    return True, ""


_VERSION: list[str] = []


def version() -> str:
    """``QEMU <Debian version>`` from versions.json, else ``qemu-system-aarch64 --version``."""
    recorded = versions().get("host", {}).get("qemu-system-arm")
    if recorded:
        return f"qemu-system-aarch64 {recorded} (-M virt -kernel)"
    if not _VERSION:
        out = ""
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([qemu() or "qemu-system-aarch64", "--version"],
                                 capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"version (\S+)(?: \(([^)]*)\))?", out)
        _VERSION.append(m.group(2) or m.group(1) if m else "unknown")
    return f"qemu-system-aarch64 {_VERSION[0]} (-M virt -kernel)"


def command(image: Path, gdb_socket: Path) -> list[str]:
    return [
        qemu() or "qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
        "-m", str(RAM_MIB), "-nographic", "-nic", "none", "-monitor", "none",
        "-serial", "none", "-no-reboot", "-S",
        "-chardev", f"socket,id=gdb0,path={gdb_socket},server=on,wait=off",
        "-gdb", "chardev:gdb0", "-kernel", str(image),
    ]


class GdbRemote:
    """The few packets of the GDB remote protocol the harness needs (gdb's "Remote
    Protocol" appendix): ``g`` registers, ``m`` memory, ``s`` single step."""

    def __init__(self, path: Path, deadline: float):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() >= deadline:
                    raise TimeoutError("no gdbstub socket") from None
                time.sleep(0.01)
        self.deadline = deadline
        self.buf = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _packet(self) -> str:
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    body = self.buf[start + 1:end]
                    self.buf = self.buf[end + 3:]
                    self.sock.sendall(b"+")
                    return body.decode("latin-1")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("gdbstub did not answer")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("gdbstub closed")
            self.buf += chunk

    def ask(self, body: str) -> str:
        checksum = sum(body.encode()) % 256
        self.sock.sendall(f"${body}#{checksum:02x}".encode())
        return self._packet()

    def registers(self) -> dict:
        """x0-x30, sp, pc (little-endian 64-bit fields of the ``g`` reply)."""
        reply = self.ask("g")
        words = [int.from_bytes(bytes.fromhex(reply[i:i + 16]), "little")
                 for i in range(0, 33 * 16, 16)]
        regs = {f"x{i}": words[i] for i in range(31)}
        regs["sp"], regs["pc"] = words[31], words[32]
        return regs

    def memory(self, addr: int, length: int) -> bytes | None:
        """Guest memory (the MMU is off: physical), or None where nothing answers."""
        reply = self.ask(f"m{addr:x},{length:x}")
        if not reply or reply.startswith("E"):
            return None
        return bytes.fromhex(reply)

    def step(self) -> str:
        return self.ask("s")


def observe(gdb: GdbRemote) -> dict:
    """Step through QEMU's boot stub; the registers and memory at the kernel's entry."""
    regs = gdb.registers()
    observed: dict = {"reset_pc": regs["pc"]}
    stub = regs["pc"] == RAM_BASE
    steps = 0
    while stub and RAM_BASE <= regs["pc"] < STUB_END and steps < MAX_STEPS:
        gdb.step()
        steps += 1
        regs = gdb.registers()
    observed.update(stub=stub, steps=steps, pc=regs["pc"],
                    **{f"x{i}": regs[f"x{i}"] for i in range(4)})
    header = gdb.memory(regs["pc"], 64)
    observed["header"] = header.hex() if header is not None else None
    fdt = gdb.memory(regs["x0"], 8) if regs["x0"] else None
    observed["dtb_magic"] = fdt[:4].hex() if fdt else None
    observed["dtb_size"] = int.from_bytes(fdt[4:8], "big") if fdt else None
    return observed


def judge(observed: dict) -> tuple[bool, str]:
    """booting.rst's requirements on the machine state at the kernel's first instruction."""
    pc = observed["pc"]
    if not observed.get("stub"):
        return False, (f"no boot stub: started at {pc:#x} as a bare-metal program "
                       f"(x0 = {observed['x0']:#x})")
    raw = bytes.fromhex(observed["header"]) if observed.get("header") else None
    if raw is None:
        return False, f"entry {pc:#x}: no memory there"
    if raw[0x38:0x3C] != ARM64_MAGIC:
        return False, (f"entry {pc:#x}: no ARM\\x64 magic at +0x38 ({raw[0x38:0x3C].hex()}): "
                       "not an Image header")
    text_offset = int.from_bytes(raw[8:16], "little")
    image_size = int.from_bytes(raw[16:24], "little")
    if image_size == 0:
        text_offset = LEGACY_TEXT_OFFSET
    observed["text_offset"], observed["image_size"] = text_offset, image_size
    base = (pc - text_offset) % (1 << 64)
    observed["base"] = base
    if base % SZ_2M:
        return False, (f"entry {pc:#x} - text_offset {text_offset:#x} = {base:#x} is not "
                       "2 MiB aligned")
    if observed.get("dtb_magic") != FDT_MAGIC.hex():
        return False, f"x0 = {observed['x0']:#x} is not a DTB"
    if any(observed[f"x{i}"] for i in (1, 2, 3)):
        return False, "x1-x3 are not zero"
    end = pc + image_size
    if end > RAM_END:
        return False, f"entry {pc:#x} + image_size {image_size:#x} ends past the RAM"
    dtb, dtb_end = observed["x0"], observed["x0"] + (observed.get("dtb_size") or 0)
    if image_size and pc < dtb_end and dtb < end:
        return False, f"the DTB at {dtb:#x} lies inside the image's image_size bytes"
    return True, (f"entry {pc:#x} = {base:#x} + text_offset {text_offset:#x}, "
                  f"x0 = DTB at {observed['x0']:#x}")


def classify_exit(stderr: str, returncode: int | None) -> tuple[bool, str]:
    """QEMU exited before the CPU ran: its deciding line (or a silent exit)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for needle in REJECT:
        for ln in lines:
            if needle in ln:
                return False, ln
    if lines:
        return False, lines[-1]
    return False, f"QEMU exited with status {returncode} before starting the CPU, no message"


def run(image: Path, rel: str, arch: str = "arm64", sha: str | None = None) -> Verdict:
    v, ok = new_verdict("qemu", image, rel, arch, sha, version(), available(arch))
    if not ok:
        return v
    CACHE.mkdir(parents=True, exist_ok=True)
    # a short path: unix socket names are limited to 107 bytes
    scratch = Path(tempfile.mkdtemp(prefix="qemu-k-"))
    sock = scratch / "gdb"
    t0 = time.monotonic()
    deadline = t0 + TIMEOUT
    proc = subprocess.Popen(command(image, sock), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, LC_ALL="C"))
    gdb = None
    try:
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is not None or not sock.exists():
            try:
                _, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                v.message = "harness: QEMU neither started nor exited in time"
                return v
            err = scrub(err.decode("utf-8", "replace"), image)
            v.accept, v.message = classify_exit(err, proc.returncode)
            v.observed = {"exit_status": proc.returncode}
            v.log_tail = tail(err.splitlines())
            return v
        try:
            gdb = GdbRemote(sock, deadline)
            observed = observe(gdb)
        except (TimeoutError, ConnectionError, OSError, ValueError) as e:
            # QEMU opens the gdbstub socket before it loads the kernel: a refusal
            # closes it, and the process is about to exit
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            if proc.poll() is not None:
                err = scrub(proc.stderr.read().decode("utf-8", "replace"), image)
                v.accept, v.message = classify_exit(err, proc.returncode)
                v.observed = {"exit_status": proc.returncode}
                v.log_tail = tail(err.splitlines())
            else:
                v.message = f"harness: {e}"
            return v
        v.accept, v.message = judge(observed)
        v.observed = observed
    finally:
        if gdb is not None:
            gdb.close()
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for f in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
        shutil.rmtree(scratch, ignore_errors=True)
        v.seconds = round(time.monotonic() - t0, 3)
    return v


def main(argv: list[str] | None = None) -> int:
    """``python -m loadertruth.qemu IMAGE...``: one verdict per image, as JSON lines."""
    import json
    import sys

    for name in argv if argv is not None else sys.argv[1:]:
        v = run(Path(name), name)
        print(json.dumps(v.to_json(), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
