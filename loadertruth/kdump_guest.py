"""A real crash capture in a guest: does ``kexec -p`` load into a ``crashkernel=`` region of
a given size, and does the capture kernel then run to its initramfs and see /proc/vmcore?

The guest is Debian 13's own arm64 kernel (linux-image-6.12.*-arm64, unpacked by
``install.sh kdump-guest``) under qemu-system-aarch64 (``-M virt``, TCG, one CPU) with
``crashkernel=SIZE`` on its command line. Its initramfs (written here, newc) holds
busybox-static:arm64 and Debian 13's kexec-tools:arm64 with its libraries (the tree
``install.sh suite trixie`` unpacks); its /init runs

    kexec -d -p /cap/Image --initrd=/cap/initrd.img --append="CAPTURE_CMDLINE"

(the kernel's own Image as the capture kernel, as kdump-tools does) and, when the load
succeeded, ``echo c > /proc/sysrq-trigger``. The capture initramfs (busybox and a /init)
prints ``KDG-CAPTURE vmcore <size>`` when /proc/vmcore exists and powers off.

Outcomes, from the serial log only (loadertruth/kdump_guest_log.py):

- ``no-reservation``   the first kernel reserved nothing (kexec_crash_size 0)
- ``load-refused``     kexec -p failed; ``message`` is kexec's own last line
- ``capture-failed``   loaded and panicked, but the capture kernel never reached its
                       /init (it panicked, hung, or the guest timed out); the last
                       kernel lines are kept
- ``capture-ok``       the capture kernel ran its /init and saw /proc/vmcore

Markers the guest prints: ``KDG-INFO key value`` (the host facts kimage preflight reads:
possible CPUs, kexec_crash_size, the fdt's totalsize, the "Crash kernel" range),
``KDG-KEXEC`` (kexec's output, with -d the segments it placed), ``KDG-LOAD rc loaded``,
``KDG-CAPTURE``. One qemu at a time; every run is bounded by ``--timeout``.

    python -m loadertruth.kdump_guest --sizes 38M,39M,106M --search --json runs.json
    python -m loadertruth.kdump_guest --runs runs.json --record loadertruth/kdump-guest-results.json
    python -m loadertruth.kdump_guest --check loadertruth/kdump-guest-results.json

``--search`` bisects (1 MiB steps) the smallest size that captures; ``--record`` adds kimage
preflight's verdict on the same host (kdump_guest_host) and writes the checked-in record;
``--check`` reruns its sizes and exits 1 when an outcome differs (make loader-truth
KDUMP_GUEST=1).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from .common import CACHE, REPO, which
from .cpio import S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, cpio_newc
from .kdump_guest_log import judge

WORK = CACHE / "kdump-guest"
KROOT = WORK / "kernel"          # dpkg-deb -x of linux-image-*-arm64 (./boot only)
BUSYBOX = WORK / "busybox" / "usr" / "bin" / "busybox"
KEXEC_ROOT = CACHE / "root-arm64-trixie"
RESULTS = REPO / "loadertruth" / "kdump-guest-results.json"
RAM_MIB = 1024
CPUS = 1
TIMEOUT = 600.0
#: seconds without console output after which a guest is taken as hung
IDLE = 90.0
MiB = 1 << 20

#: the capture kernel's command line: kdump-tools' arm64 KDUMP_CMDLINE_APPEND defaults
#: (reset_devices nr_cpus=1; systemd.unit= has no meaning here) and the serial console
CAPTURE_CMDLINE = "console=ttyAMA0 reset_devices nr_cpus=1 rdinit=/init panic=-1"
#: the first kernel's, without crashkernel= (added per run)
GUEST_CMDLINE = "console=ttyAMA0 rdinit=/init panic=-1 loglevel=6"

OUTER_INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "KDG-INFO release $(uname -r)"
echo "KDG-INFO possible $(cat /sys/devices/system/cpu/possible)"
echo "KDG-INFO crash_size $(cat /sys/kernel/kexec_crash_size)"
echo "KDG-INFO fdt_size $(wc -c < /sys/firmware/fdt)"
echo "KDG-INFO fdt_head $(head -c 40 /sys/firmware/fdt | od -An -tx1 | tr -d ' \n')"
echo "KDG-INFO memtotal $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
sed 's/^/KDG-IOMEM /' /proc/iomem
if [ "$(cat /sys/kernel/kexec_crash_size)" = 0 ]; then
    echo "KDG-LOAD none 0"; poweroff -f
fi
/sbin/kexec -d -p /cap/Image --initrd=/cap/initrd.img --append="$(cat /cap/cmdline)" \
    >/tmp/kexec.out 2>&1
rc=$?
sed 's/^/KDG-KEXEC /' /tmp/kexec.out
echo "KDG-LOAD $rc $(cat /sys/kernel/kexec_crash_loaded)"
if [ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ]; then
    echo "KDG-PANIC"
    echo c > /proc/sysrq-trigger
fi
poweroff -f
"""

CAPTURE_INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys
/bin/busybox mount -t proc proc /proc
echo "KDG-CAPTURE init $(/bin/busybox sed -n 's/^MemTotal: *//p' /proc/meminfo)"
if [ -e /proc/vmcore ]; then
    echo "KDG-CAPTURE vmcore $(/bin/busybox stat -c %s /proc/vmcore)"
else
    echo "KDG-CAPTURE no-vmcore"
fi
/bin/busybox poweroff -f
"""


def kernel_image() -> Path | None:
    found = sorted((KROOT / "boot").glob("vmlinuz-*")) if (KROOT / "boot").is_dir() else []
    return found[-1] if found else None


def available() -> tuple[bool, str]:
    if which("qemu-system-aarch64") is None:
        return False, "qemu-system-aarch64 missing (apt-get install qemu-system-arm)"
    if kernel_image() is None or not BUSYBOX.is_file():
        return False, f"no guest kernel/busybox in {WORK} (sh loadertruth/install.sh kdump-guest)"
    if not (KEXEC_ROOT / "usr/sbin/kexec").is_file():
        return False, (f"no kexec-tools:arm64 in {KEXEC_ROOT} "
                       "(sh loadertruth/install.sh suite trixie)")
    return True, ""


def versions() -> dict:
    out = {}
    stamp = WORK / "versions.json"
    if stamp.is_file():
        out.update(json.loads(stamp.read_text()))
    trixie = CACHE / "versions-trixie.json"
    if trixie.is_file():
        out["kexec-tools"] = json.loads(trixie.read_text()).get("arm64", {}).get("kexec-tools")
    q = which("qemu-system-aarch64")
    if q:
        first = subprocess.run([q, "--version"], capture_output=True, text=True,
                               timeout=30).stdout.splitlines()
        out["qemu"] = first[0] if first else "?"
    return out


def _tree(root: Path, sub: str, dest: str) -> list[tuple[str, int, bytes, int, int]]:
    """Regular files and symlinks under root/sub, as cpio entries under dest."""
    out = []
    base = root / sub
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "gconv")
        rel = Path(dirpath).relative_to(base)
        out.append((str(Path(dest) / rel), S_IFDIR | 0o755, b"", 0, 0))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            target = str(Path(dest) / rel / name)
            if p.is_symlink():
                out.append((target, S_IFLNK | 0o777, os.readlink(p).encode(), 0, 0))
            elif p.is_file():
                out.append((target, S_IFREG | 0o755, p.read_bytes(), 0, 0))
    return out


def capture_initrd() -> bytes:
    """The capture initramfs: busybox and its /init, gzip (as initramfs-tools writes)."""
    entries = [
        ("bin", S_IFDIR | 0o755, b"", 0, 0),
        ("bin/busybox", S_IFREG | 0o755, BUSYBOX.read_bytes(), 0, 0),
        ("dev", S_IFDIR | 0o755, b"", 0, 0),
        ("dev/console", S_IFCHR | 0o600, b"", 5, 1),
        ("init", S_IFREG | 0o755, CAPTURE_INIT.encode(), 0, 0),
    ]
    return gzip.compress(cpio_newc(entries), compresslevel=9, mtime=0)


def outer_initrd(image: Path, cap: bytes) -> bytes:
    """The first kernel's initramfs (uncompressed newc: nothing to inflate under TCG)."""
    entries = [
        ("bin", S_IFDIR | 0o755, b"", 0, 0),
        ("bin/busybox", S_IFREG | 0o755, BUSYBOX.read_bytes(), 0, 0),
        ("dev", S_IFDIR | 0o755, b"", 0, 0),
        ("dev/console", S_IFCHR | 0o600, b"", 5, 1),
        ("init", S_IFREG | 0o755, OUTER_INIT.encode(), 0, 0),
        ("sbin", S_IFDIR | 0o755, b"", 0, 0),
        ("sbin/kexec", S_IFREG | 0o755, (KEXEC_ROOT / "usr/sbin/kexec").read_bytes(), 0, 0),
        ("usr", S_IFDIR | 0o755, b"", 0, 0),
        ("usr/lib", S_IFDIR | 0o755, b"", 0, 0),
        ("usr/lib/ld-linux-aarch64.so.1", S_IFLNK | 0o777,
         b"aarch64-linux-gnu/ld-linux-aarch64.so.1", 0, 0),
        *_tree(KEXEC_ROOT, "usr/lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu"),
        ("lib", S_IFLNK | 0o777, b"usr/lib", 0, 0),
        ("cap", S_IFDIR | 0o755, b"", 0, 0),
        ("cap/Image", S_IFREG | 0o644, image.read_bytes(), 0, 0),
        ("cap/initrd.img", S_IFREG | 0o644, cap, 0, 0),
        ("cap/cmdline", S_IFREG | 0o644, CAPTURE_CMDLINE.encode(), 0, 0),
    ]
    return cpio_newc(entries)


def prepare() -> tuple[Path, Path, Path]:
    """Write the capture initrd and the outer initramfs once; (image, capture, outer)."""
    image = kernel_image()
    WORK.mkdir(parents=True, exist_ok=True)
    cap = capture_initrd()
    cap_path = WORK / "capture-initrd.img"
    if not cap_path.is_file() or cap_path.read_bytes() != cap:
        cap_path.write_bytes(cap)
    outer = WORK / "outer-initramfs.cpio"
    data = outer_initrd(image, cap)
    if not outer.is_file() or outer.stat().st_size != len(data) or outer.read_bytes() != data:
        outer.write_bytes(data)
    return image, cap_path, outer


def command(image: Path, outer: Path, size: str) -> list[str]:
    return [which("qemu-system-aarch64") or "qemu-system-aarch64", "-M", "virt",
            "-cpu", "cortex-a57", "-smp", str(CPUS), "-m", str(RAM_MIB), "-nographic",
            "-nic", "none", "-monitor", "none", "-no-reboot", "-kernel", str(image),
            "-initrd", str(outer), "-append", f"{GUEST_CMDLINE} crashkernel={size}"]


def _read(proc: subprocess.Popen, timeout: float) -> tuple[bytes, bool]:
    """The guest's console until qemu exits, ``timeout`` passes, or nothing more is printed
    for IDLE seconds (a capture kernel that dies before its console prints nothing more)."""
    chunks: list[bytes] = []
    last = [time.monotonic()]

    def pump() -> None:
        while data := proc.stdout.read1(65536):
            chunks.append(data)
            last[0] = time.monotonic()

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    end = time.monotonic() + timeout
    timed_out = False
    while proc.poll() is None:
        now = time.monotonic()
        if now > end or now - last[0] > IDLE:
            timed_out = True
            proc.kill()
            break
        time.sleep(0.5)
    proc.wait()
    t.join(timeout=10)
    return b"".join(chunks), timed_out


def run(size: str, timeout: float = TIMEOUT, log_dir: Path | None = None) -> dict:
    """One guest boot with crashkernel=size; the judged outcome (see judge)."""
    ok, why = available()
    if not ok:
        return {"size": size, "outcome": "harness-error", "message": why}
    image, _, outer = prepare()
    t0 = time.monotonic()
    proc = subprocess.Popen(command(image, outer, size), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, LC_ALL="C"))
    raw, timed_out = _read(proc, timeout)
    log = raw.decode("utf-8", "replace")
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"crashkernel-{size}.log").write_text(log)
    out = {"size": size, **judge(log, timed_out), "timed_out": timed_out,
           "seconds": round(time.monotonic() - t0, 1)}
    return out


def to_bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", size)
    if not m:
        raise ValueError(f"bad size {size!r}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def search(runs: list[dict], timeout: float, logs: Path) -> list[dict]:
    """Bisect, in whole MiB, between the largest size that did not capture and the
    smallest that did (from ``runs``); the runs added."""
    ok = [to_bytes(r["size"]) for r in runs if r["outcome"] == "capture-ok"]
    bad = [to_bytes(r["size"]) for r in runs if r["outcome"] in ("load-refused",
                                                                  "capture-failed")]
    if not ok or not bad:
        return []
    lo, hi = max(b for b in bad if b < min(ok)) // MiB, min(ok) // MiB
    added = []
    while hi - lo > 1:
        mid = (lo + hi) // 2
        r = run(f"{mid}M", timeout, logs)
        print(f"crashkernel={mid}M: {r['outcome']}: {r['message']} ({r.get('seconds')} s)",
              flush=True)
        added.append(r)
        if r["outcome"] == "capture-ok":
            hi = mid
        elif r["outcome"] in ("load-refused", "capture-failed"):
            lo = mid
        else:
            break
    return added


def check(rec: dict, timeout: float, logs: Path) -> int:
    """Rerun every size of a record; 1 when an outcome differs from the recorded one."""
    differ = 0
    for old in rec["runs"]:
        r = run(old["size"], timeout, logs)
        same = r["outcome"] == old["outcome"]
        differ += not same
        print(f"crashkernel={old['size']}: {r['outcome']} (recorded {old['outcome']})"
              f"{'' if same else ' DIFFERS: ' + r['message']}", flush=True)
    print(f"kdump_guest: {len(rec['runs']) - differ} of {len(rec['runs'])} as recorded")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="", help="crashkernel= sizes, comma separated (M)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per guest run")
    ap.add_argument("--logs", type=Path, default=WORK / "logs")
    ap.add_argument("--json", type=Path, help="write the runs as JSON here")
    ap.add_argument("--runs", type=Path, action="append", default=[],
                    help="also take the runs of an earlier --json (same guest)")
    ap.add_argument("--record", type=Path, help="write the record (runs + kimage's verdicts)")
    ap.add_argument("--check", type=Path, metavar="RECORD",
                    help="rerun the sizes of a record and compare the outcomes (exit 1 on a "
                         "difference)")
    ap.add_argument("--search", action="store_true",
                    help="add runs that bisect the smallest size that captures (1 MiB steps)")
    args = ap.parse_args(argv)
    ok, why = available()
    if not ok:
        print(f"kdump_guest: skipped: {why}", file=sys.stderr)
        return 0
    if args.check:
        return check(json.loads(args.check.read_text()), args.timeout, args.logs)
    runs = [r for f in args.runs for r in json.loads(f.read_text())]
    for r in runs:  # an earlier run: judged again from its log (the judge may have learnt)
        log = args.logs / f"crashkernel-{r['size']}.log"
        if log.is_file():
            stopped = r.get("timed_out", "qemu stopped" in r["message"]
                            or "no console output" in r["message"])
            r.update(judge(log.read_text(), stopped), timed_out=stopped)
    for size in [s for s in args.sizes.split(",") if s]:
        r = run(size, args.timeout, args.logs)
        print(f"crashkernel={size}: {r['outcome']}: {r['message']} ({r.get('seconds')} s)",
              flush=True)
        runs.append(r)
    if args.search:
        runs += search(runs, args.timeout, args.logs)
    runs.sort(key=lambda r: to_bytes(r["size"]))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n")
    if args.record:
        from .kdump_guest_host import kimage_verdicts, record

        image, cap, _ = prepare()
        kimage_verdicts(runs, image, cap)
        args.record.write_text(json.dumps(record(runs, image, cap), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
