"""kimage preflight without IMAGE, on fixture hosts laid out as Debian 12, Debian 13 and
Fedora (tests/sysroots/debian12-arm64, debian13-arm64, fedora-arm64; README there).

Each test copies a fixture into tmp_path and puts the real Debian 6.1 arm64 kernel
(corpus/real, materialised) and an initramfs written here (newc, tests.test_preflight's
writer, then gzip/zstd from the standard tools) where the distro keeps them. Expected
values are written out from the fixture files and the distro tools' sources (kdump-tools
1:1.8 kdump-config ``kdump_load``; kdump-utils v1.0.61 ``prepare_cmdline``,
``do_estimate``), or computed here from the image's header bytes (arm64 booting.rst:
text_offset at 8, image_size at 16, little-endian) and the initrd this test wrote; never
taken from the code under test.
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_preflight import ARM64_REAL, newc_header

SYSROOTS = ROOT / "tests" / "sysroots"
MiB = 1 << 20
D12, D13, FED = "6.1.0-50-arm64", "6.12.57+deb13-arm64", "6.17.1-300.fc43.aarch64"
UUID = "root=UUID=3f1c2a9e-5b7d-4c1e-9a2f-0d8e6b4c7a11"


def kimage(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def entry(name: str, data: bytes) -> bytes:
    return newc_header(name, len(data)) + data + b"\0" * (-len(data) % 4)


#: (name, size) of the dump initramfs' files; each rounds up to 4 KiB pages in tmpfs.
DUMP_FILES = (("init", 200), ("usr/sbin/makedumpfile", 400_000), ("usr/lib/libz.so", 90_000))
BOOT_FILES = (("init", 200), ("usr/bin/busybox", 700_000))


def initramfs(files, compress=gzip.compress) -> bytes:
    body = b"".join(entry(n, b"\x7f" * s) for n, s in files) + newc_header("TRAILER!!!", 0)
    return compress(body)


def pages(files) -> int:
    return sum((s + 4095) // 4096 * 4096 for _, s in files)


def place(tmp_path, base, kernel: Path, kernel_at: str | None, initrd: bytes | None,
          initrd_at: str | None, changes: dict | None = None) -> Path:
    root = tmp_path / base
    shutil.copytree(SYSROOTS / base, root, symlinks=True, dirs_exist_ok=True)
    if kernel_at:  # git keeps no empty directory: /boot may not be in the fixture
        (root / kernel_at.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / kernel_at.lstrip("/")).write_bytes(kernel.read_bytes())
    if initrd is not None and initrd_at:
        (root / initrd_at.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / initrd_at.lstrip("/")).write_bytes(initrd)
    for rel, content in (changes or {}).items():
        path = root / rel
        if content is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    return root


def preflight(root, *options) -> tuple[int, dict]:
    p = kimage("preflight", "--sysroot", root, "--format", "json", *options)
    assert p.returncode in (0, 1), p.stderr
    assert p.stderr == ""
    return p.returncode, json.loads(p.stdout)


def steps(doc) -> dict:
    return {s["step"]: s for s in doc["steps"]}


@pytest.fixture(scope="module")
def kernel(real_images) -> Path:
    return real_images[ARM64_REAL]


def debian(tmp_path, kernel, base="debian12-arm64", kver=D12, files=DUMP_FILES, **kw):
    """The fixture with the kernel in /boot, the kdump initrd in /var/lib/kdump and the
    two links `kdump-config symlinks` makes (not committed: a dangling link in the
    repository would break copies of it)."""
    (tmp_path / base / "var/lib/kdump").mkdir(parents=True, exist_ok=True)
    root = place(tmp_path, base, kernel, f"/boot/vmlinuz-{kver}", initramfs(files),
                 f"/var/lib/kdump/initrd.img-{kver}", **kw)
    (root / "var/lib/kdump/vmlinuz").symlink_to(f"/boot/vmlinuz-{kver}")
    (root / "var/lib/kdump/initrd.img").symlink_to(f"/var/lib/kdump/initrd.img-{kver}")
    return root


@pytest.mark.parametrize("base, kver", [("debian12-arm64", D12), ("debian13-arm64", D13)])
def test_debian_finds_kernel_initrd_and_the_kdump_config_command(tmp_path, kernel, base, kver):
    rc, doc = preflight(debian(tmp_path, kernel, base, kver))
    assert rc == 0, [s for s in doc["steps"] if s["status"] != "pass"]
    d = doc["discovery"]
    assert (d["tool"], d["kernel"], d["initrd"]) == (
        "kdump-tools", "/var/lib/kdump/vmlinuz", "/var/lib/kdump/initrd.img")
    # kdump-config: /proc/cmdline without BOOT_IMAGE= and crashkernel=, then the
    # KDUMP_CMDLINE_APPEND default that /usr/sbin/kdump-config carries.
    line = f"{UUID} ro quiet reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1"
    assert d["command"] == (f'kexec -p --command-line="{line}" '
                            f"--initrd=/var/lib/kdump/initrd.img /var/lib/kdump/vmlinuz")
    said = {(e["file"], e["value"]) for e in d["evidence"]}
    assert ("/var/lib/kdump/vmlinuz", f"-> /boot/vmlinuz-{kver}") in said
    assert ("/etc/default/kdump-tools", "KDUMP_KERNEL=/var/lib/kdump/vmlinuz") in said
    assert doc["loader"] == "kexec-tools"
    assert doc["image"]["path"].endswith("/var/lib/kdump/vmlinuz")
    assert doc["initrd"]["unpacked"] == pages(DUMP_FILES) and doc["initrd"]["dump_tool"]


def test_fedora_finds_the_kdump_initramfs_and_the_kdumpctl_command(tmp_path, kernel):
    import zstandard

    root = place(tmp_path, "fedora-arm64", kernel, f"/boot/vmlinuz-{FED}",
                 initramfs(DUMP_FILES, zstandard.ZstdCompressor().compress),
                 f"/boot/initramfs-{FED}kdump.img")
    rc, doc = preflight(root)
    d = doc["discovery"]
    assert (d["tool"], d["kernel"], d["initrd"]) == (
        "kdumpctl", f"/boot/vmlinuz-{FED}", f"/boot/initramfs-{FED}kdump.img")
    # prepare_cmdline: root=, crashkernel= and KDUMP_COMMANDLINE_REMOVE's (quiet) go;
    # BOOT_IMAGE stays; the append line, then rd.systemd.gpt_auto=no.
    append = ("novmcoredd hugetlb_cma=0 kfence.sample_interval=0 initramfs_options=size=90% "
              "irqpoll nr_cpus=1 reset_devices cgroup_disable=memory udev.children-max=2 "
              "panic=10 swiotlb=noforce cma=0")
    line = (f"BOOT_IMAGE=(hd0,gpt2)/vmlinuz-{FED} ro rootflags=subvol=root rhgb {append} "
            "rd.systemd.gpt_auto=no")
    assert d["command"] == (f'kexec -s -p --command-line="{line}" '
                            f"--initrd=/boot/initramfs-{FED}kdump.img /boot/vmlinuz-{FED}")
    assert doc["loader"] == "kexec-file"  # KEXEC_ARGS="-s"
    assert steps(doc)["command"]["status"] == "pass"  # no root= is kdumpctl's own choice
    assert doc["initrd"]["unpacked"] == pages(DUMP_FILES)
    # The Debian 6.1 image is not signed for Fedora's keys, but nothing is locked down:
    assert rc == 0, [s for s in doc["steps"] if s["status"] == "fail"]


def test_a_zstd_initramfs_without_zstandard_says_so(tmp_path, monkeypatch):
    """An initramfs compressed with zstd (Fedora's, Debian 13's) when zstandard cannot be
    imported: the reading says why it was not unpacked, with no traceback."""
    import zstandard

    from validator.kdump import initramfs as reader

    path = tmp_path / "initrd.img"
    path.write_bytes(initramfs(DUMP_FILES, zstandard.ZstdCompressor().compress))
    assert reader.contents(str(path))["unpacked"] == pages(DUMP_FILES)
    for name in [m for m in sys.modules if m.startswith("zstandard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "zstandard", None)
    got = reader.contents(str(path))
    assert got["unpacked"] == 0 and "cannot be imported" in got["problem"], got


def test_fedora_without_the_kdump_initramfs_says_kdumpctl_builds_it(tmp_path, kernel):
    root = place(tmp_path, "fedora-arm64", kernel, f"/boot/vmlinuz-{FED}", None, None)
    _, doc = preflight(root)
    assert doc["discovery"]["initrd"] is None
    assert any("mkdumprd" in p for p in doc["discovery"]["problems"])


def test_recommendation_line_by_line(tmp_path, kernel):
    root = debian(tmp_path, kernel)
    _, doc = preflight(root)
    head = kernel.read_bytes()[:64]
    text_offset, image_size = struct.unpack_from("<QQ", head, 8)
    packed = len(initramfs(DUMP_FILES))
    up = lambda n: (n + 4095) // 4096 * 4096  # noqa: E731
    want = {
        "segment kernel": up(image_size + text_offset),
        "segment initrd": up(packed),
        "segment dtb": MiB,  # /sys/firmware/fdt absent from the fixture: the allowance
        "segment elfcorehdr": 64 << 10,
        "segment purgatory": 64 << 10,
        # the pages the kernel takes for its control code and its vmcoreinfo copy
        # (kimage_alloc_crash_control_pages, Linux kernel/kexec_core.c, crash_core.c;
        # KEXEC_CONTROL_PAGE_SIZE 4096 on arm64, one 4 KiB page each)
        "segment control page": 4096,
        "segment vmcoreinfo page": 4096,
        "initramfs unpacked": pages(DUMP_FILES),
        "runtime floor": 64 * MiB,
        "per-CPU x 1": MiB,  # nr_cpus=1 on the capture line
    }
    lines = {x["what"]: x["bytes"] for x in doc["reservation"]["lines"]}
    assert lines == want
    total = -(-sum(want.values()) // MiB)
    assert doc["reservation"]["crashkernel"] == f"crashkernel={total}M"
    assert steps(doc)["reservation"]["status"] == "pass"  # 512M reserved


def kdumpctl_estimate(root: Path, initrd_size: int) -> tuple[int, int]:
    """kdump-utils v1.0.61 kdumpctl do_estimate on the same inputs: (estimated_size,
    recommended_size). kernel_size: an arm64 Image has no ELF inside, so get_kernel_size
    falls back to the running kernel's "Kernel code|rodata|data|bss" in /proc/iomem
    (end - start, as its loop sums); no /proc/modules (mod_size 0); runtime 16M;
    baseline: aarch64 "2G-4G:256M,4G-64G:320M,64G-:576M" at the System RAM size in GiB
    (get_system_size, rounded up to 128M)."""
    kernel_size, ram = 0, 0
    for raw in (root / "proc/iomem").read_text().splitlines():
        span, _, name = raw.strip().partition(" : ")
        start, end = (int(x, 16) for x in span.split("-"))
        if name in ("Kernel code", "Kernel rodata", "Kernel data", "Kernel bss"):
            kernel_size += end - start
        if name == "System RAM":
            ram += end - start + 1
    gib = (ram // MiB + 127) // 128 * 128 // 1024
    baseline = (256 if 2 <= gib < 4 else 320 if 4 <= gib < 64 else 576 if gib >= 64 else 0)
    estimated = kernel_size + 0 + initrd_size * 3 + 16 * MiB
    return estimated, max(baseline * MiB, estimated)


def test_compared_with_kdumpctl_estimate(tmp_path, kernel):
    """Where and why kimage differs (validator/kdump/reserve.py says it in prose):
    kernel: the image's image_size + text_offset against the running kernel's iomem
    spans; initramfs: packed + unpacked measured against 3 x packed; runtime 64M against
    16M; kimage adds the loader's dtb/elfcorehdr/purgatory, the kernel's two pages
    and 1 MiB per CPU; kdumpctl
    takes its RAM table when larger."""
    root = debian(tmp_path, kernel)
    _, doc = preflight(root)
    lines = {x["what"]: x["bytes"] for x in doc["reservation"]["lines"]}
    packed = len(initramfs(DUMP_FILES))
    estimated, recommended = kdumpctl_estimate(root, packed)
    kd_kernel = estimated - 3 * packed - 16 * MiB
    assert kd_kernel == (0x4168ffff - 0x40210000) + (0x4201ffff - 0x41c40000)
    assert lines["segment kernel"] > kd_kernel  # the image reserves more than it occupies
    mine = sum(lines.values())
    extra = (lines["segment kernel"] - kd_kernel) + (
        lines["segment initrd"] + lines["initramfs unpacked"] - 3 * packed) + (
        64 - 16) * MiB + lines["segment dtb"] + lines["segment elfcorehdr"] + lines[
        "segment purgatory"] + lines["segment control page"] + lines[
        "segment vmcoreinfo page"] + lines["per-CPU x 1"]
    assert mine - estimated == extra
    assert recommended == 320 * MiB  # 8 GiB of RAM: kdumpctl's table wins here
    assert int(doc["reservation"]["crashkernel"][12:-1]) * MiB < recommended


def test_reservation_below_recommendation_warns_and_one_too_small_fails(tmp_path, kernel):
    root = debian(tmp_path, kernel)
    _, doc = preflight(root, "--crashkernel", "80M")
    s = steps(doc)
    assert (s["reservation"]["status"], s["reservation"]["rule"]) == (
        "warn", "preflight/reservation-below-recommended")
    assert s["fit"]["status"] != "fail" and doc["verdict"] == "warn"
    rc, doc = preflight(root, "--crashkernel", "16M")
    assert rc == 1 and steps(doc)["fit"]["rule"] == "preflight/does-not-fit"


def test_command_line_checks(tmp_path, kernel):
    conf = (SYSROOTS / "debian12-arm64/etc/default/kdump-tools").read_text()
    conf += 'KDUMP_CMDLINE="ro quiet crashkernel=512M"\nKDUMP_CMDLINE_APPEND="panic=1"\n'
    root = debian(tmp_path, kernel, changes={"etc/default/kdump-tools": conf})
    _, doc = preflight(root)
    s = steps(doc)["command"]
    assert s["status"] == "warn"
    assert set(s["rules"]) == {"preflight/cmdline-crashkernel", "preflight/cmdline-all-cpus",
                               "preflight/cmdline-no-reset-devices",
                               "preflight/cmdline-no-root"}
    assert 'kexec -p --command-line="ro quiet crashkernel=512M panic=1"' in (
        doc["discovery"]["command"])


def test_use_kdump_0_warns(tmp_path, kernel):
    conf = (SYSROOTS / "debian12-arm64/etc/default/kdump-tools").read_text().replace(
        "USE_KDUMP=1", "USE_KDUMP=0")
    _, doc = preflight(debian(tmp_path, kernel, changes={"etc/default/kdump-tools": conf}))
    assert "preflight/kdump-disabled" in steps(doc)["command"]["rules"]


def test_a_boot_initramfs_is_no_dump_initramfs(tmp_path, kernel):
    _, doc = preflight(debian(tmp_path, kernel, files=BOOT_FILES))
    s = steps(doc)["initrd"]
    assert (s["status"], s["rule"]) == ("warn", "preflight/not-a-dump-initramfs")


def test_a_missing_kernel_fails_with_the_file_that_named_it(tmp_path, kernel):
    root = place(tmp_path, "debian12-arm64", kernel, None, None, None)
    (root / "var/lib/kdump").mkdir(parents=True)
    (root / "var/lib/kdump/vmlinuz").symlink_to(f"/boot/vmlinuz-{D12}")  # to nothing
    rc, doc = preflight(root)
    s = steps(doc)["discovery"]
    assert rc == 1 and s["rule"] == "preflight/capture-kernel-not-found"
    assert "/var/lib/kdump/vmlinuz" in s["message"]
    assert doc["discovery"]["command"].endswith(" /var/lib/kdump/vmlinuz")
    assert {x["status"] for x in doc["steps"] if x["step"] not in (
        "discovery", "command", "crash-region", "crash-loaded")} == {"skip"}
    # what the host alone decides is still judged: the fixture reserves a crash region
    # ("Crash kernel" in its /proc/iomem) and has no crash kernel loaded
    assert steps(doc)["crash-region"]["status"] == "pass"
    assert steps(doc)["crash-loaded"]["status"] != "skip"


def test_without_a_capture_kernel_a_missing_reservation_still_fails(tmp_path, kernel):
    """A host with a broken kdump configuration and no crashkernel= gets both facts: the
    capture kernel is not found, and no crash region is reserved (its /proc/iomem has no
    "Crash kernel" range, kexec_crash_size is 0 and its command line has no crashkernel=)."""
    root = place(tmp_path, "debian12-arm64", kernel, None, None, None, changes={
        "proc/iomem": (SYSROOTS / "arm64-no-reservation/proc/iomem").read_text(),
        "proc/cmdline": (SYSROOTS / "arm64-no-reservation/proc/cmdline").read_text(),
        "sys/kernel/kexec_crash_size": "0\n"})
    assert "Crash kernel" not in (root / "proc/iomem").read_text()
    assert "crashkernel=" not in (root / "proc/cmdline").read_text()
    (root / "var/lib/kdump").mkdir(parents=True)
    (root / "var/lib/kdump/vmlinuz").symlink_to(f"/boot/vmlinuz-{D12}")  # to nothing
    rc, doc = preflight(root)
    assert rc == 1
    assert steps(doc)["discovery"]["rule"] == "preflight/capture-kernel-not-found"
    region = steps(doc)["crash-region"]
    assert (region["status"], region["rule"]) == ("fail", "preflight/no-crash-region")


def test_without_kdump_tools_the_running_kernel(tmp_path, kernel):
    root = place(tmp_path, "debian12-arm64", kernel, f"/boot/vmlinuz-{D12}",
                 initramfs(BOOT_FILES), f"/boot/initrd.img-{D12}",
                 changes={"etc/default/kdump-tools": None})
    _, doc = preflight(root)
    d = doc["discovery"]
    assert (d["tool"], d["kernel"], d["initrd"]) == (
        "none", f"/boot/vmlinuz-{D12}", f"/boot/initrd.img-{D12}")
    assert d["cmdline"] == f"BOOT_IMAGE=/boot/vmlinuz-{D12} {UUID} ro quiet"
    assert {"preflight/cmdline-all-cpus", "preflight/cmdline-no-reset-devices"} <= set(
        steps(doc)["command"]["rules"])


def test_a_link_out_of_the_sysroot_stays_inside(tmp_path, kernel):
    root = debian(tmp_path, kernel)
    link = root / "var/lib/kdump/vmlinuz"
    link.unlink()
    link.symlink_to("../../../../../../../../boot/vmlinuz-" + D12)  # .. stops at the root
    rc, doc = preflight(root)
    assert doc["image"]["format"] == "arm64-image" and rc == 0


def test_fadump_skips_the_kexec_steps(tmp_path, real_images):
    """A ppc64le PowerNV/pSeries host with fadump on: kdump-tools installed, KDUMP_KERNEL
    unset (the running kernel, /boot/vmlinux-V as Debian ppc64el names it)."""
    kver = "6.1.0-50-powerpc64le"
    conf = "USE_KDUMP=1\nKDUMP_COREDIR=\"/var/crash\"\n"
    root = place(tmp_path, "ppc64le-crash1g", real_images["debian-6.1.0-50-powerpc64le"],
                 f"/boot/vmlinux-{kver}", None, None,
                 changes={"etc/default/kdump-tools": conf,
                          "proc/cmdline": "root=UUID=8d0b6c3e ro quiet fadump=on\n",
                          "sys/kernel/fadump/enabled": "1\n",
                          "sys/kernel/fadump/mem_reserved": "1073741824\n",
                          "sys/kernel/fadump/registered": "0\n"})
    _, doc = preflight(root)
    assert doc["discovery"]["kernel"] == f"/boot/vmlinux-{kver}"
    # kdump-config: -p, --args-linux for an ELF kernel, then the line; the ppc64el line
    # strips crashkernel=, hugepages=, hugepagesz=, abm= only (its non-x86 branch).
    assert doc["discovery"]["command"] == (
        'kexec -p --args-linux --command-line="root=UUID=8d0b6c3e ro quiet fadump=on '
        'reset_devices systemd.unit=kdump-tools-dump.service maxcpus=1 irqpoll '
        f'noirqdistrib nousb" /boot/vmlinux-{kver}')
    s = steps(doc)
    assert (s["fadump"]["status"], s["fadump"]["rule"]) == ("warn", "preflight/fadump-enabled")
    assert "keeps 1024 MiB" in s["fadump"]["message"]
    assert "not registered yet" in s["fadump"]["message"]
    for name in ("crash-region", "fit", "reservation", "load-path", "crash-loaded"):
        assert s[name]["status"] == "skip", name
    assert s["command"]["status"] == "pass"  # its line checks are kexec's, not fadump's


def test_brief_is_one_line_with_the_exit_code(tmp_path, kernel):
    root = debian(tmp_path, kernel)
    p = kimage("preflight", "--sysroot", root, "--brief")
    assert p.returncode == 0 and p.stdout.count("\n") == 1
    assert p.stdout.startswith("kimage preflight: pass | ") and "crashkernel=" in p.stdout
    p = kimage("preflight", "--sysroot", root, "--brief", "--crashkernel", "16M")
    assert p.returncode == 1 and p.stdout.count("\n") == 1
    assert "fit preflight/does-not-fit" in p.stdout


def test_text_names_rule_ids_on_warn_and_fail_lines(tmp_path, kernel):
    root = debian(tmp_path, kernel)
    p = kimage("preflight", "--sysroot", root, "--crashkernel", "16M")
    assert p.returncode == 1
    assert any(line.lstrip().startswith("FAIL  fit") and "preflight/does-not-fit" in line
               for line in p.stdout.splitlines())
    assert "  command  kexec -p --command-line=" in p.stdout
    assert "recommend crashkernel=" in p.stdout


def test_systemd_drop_in_in_readme_runs_on_a_fixture(tmp_path, kernel):
    """The README's ExecStartPre line, with --sysroot added, on the Debian 12 fixture."""
    readme = (ROOT / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("ExecStartPre="))
    argv = line.removeprefix("ExecStartPre=").split()
    assert argv[:2] == ["/usr/bin/kimage", "preflight"]
    root = debian(tmp_path, kernel)
    p = kimage(*argv[1:], "--sysroot", root)
    assert p.returncode == 0 and p.stdout.count("\n") == 1, p.stdout + p.stderr


# --- hostile configuration: bounded, non-blocking, never echoed -------------------------

MARK = "ZZ-HOST-BYTES-ZZ"


@pytest.mark.parametrize("content", [
    f"USE_KDUMP=1\nKDUMP_KERNEL=/var/lib/kdump/vmlinuz\x00\x01{MARK}\n",  # binary
    "# " + MARK * 10_000 + "\n",  # longer than the 64 KiB read
])
def test_a_config_that_is_no_shell_file_is_named_not_shown(tmp_path, kernel, content):
    root = debian(tmp_path, kernel)
    (root / "etc/default/kdump-tools").write_text(content)
    p = kimage("preflight", "--sysroot", root)
    assert p.returncode in (0, 1) and p.stderr == ""
    assert MARK not in p.stdout
    assert "/etc/default/kdump-tools: not a shell configuration" in p.stdout


def test_fifos_and_devices_named_by_the_config_do_not_block(tmp_path, kernel):
    import os

    root = debian(tmp_path, kernel)
    conf = root / "etc/default/kdump-tools"
    conf.write_text("USE_KDUMP=1\nKDUMP_KERNEL=/fifo\nKDUMP_INITRD=/dev/zero\n")
    os.mkfifo(root / "fifo")
    (root / "dev").mkdir()
    (root / "dev/zero").symlink_to("/../../../../dev/zero")  # stays inside: absent there
    rc, doc = preflight(root)  # timeout=120 in kimage(): a blocking open fails the test
    s = steps(doc)["discovery"]
    assert rc == 1 and s["rule"] == "preflight/capture-kernel-not-found"
    assert "/fifo: a FIFO" in s["message"]
    os.unlink(root / "fifo")
    os.mkfifo(root / "etc/default/kdump-tools.new")
    os.replace(root / "etc/default/kdump-tools.new", conf)  # the config itself a FIFO
    rc, doc = preflight(root)
    assert any("kdump-tools" in p and "FIFO" in p for p in doc["discovery"]["problems"])


def test_shell_expansion_is_reported_not_evaluated(tmp_path, kernel):
    conf = (SYSROOTS / "debian12-arm64/etc/default/kdump-tools").read_text()
    conf += 'KDUMP_CMDLINE_APPEND="$(cat /etc/shadow) nr_cpus=1"\n'
    _, doc = preflight(debian(tmp_path, kernel, changes={"etc/default/kdump-tools": conf}))
    assert any("KDUMP_CMDLINE_APPEND uses shell expansion" in p
               for p in doc["discovery"]["problems"])
    assert "shadow" not in doc["discovery"]["command"]


def test_discovery_json_matches_its_schema(tmp_path, kernel):
    import jsonschema

    schema = json.loads(kimage("schema", "preflight").stdout)
    _, doc = preflight(debian(tmp_path, kernel))
    jsonschema.validate(doc, schema)
    assert doc["discovery"]["tool"] == "kdump-tools" and doc["reservation"]["lines"]
    bad = dict(doc, reservation={"size": 1, "crashkernel": "crashkernel=1G", "lines": []})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_a_high_reservation_is_recommended_as_high(tmp_path, kernel):
    cmdline = (SYSROOTS / "debian12-arm64/proc/cmdline").read_text().replace(
        "crashkernel=512M", "crashkernel=512M,high")
    _, doc = preflight(debian(tmp_path, kernel, changes={"proc/cmdline": cmdline}))
    s = steps(doc)["reservation"]
    assert s["message"].endswith(f"recommend {doc['reservation']['crashkernel']},high "
                                 "(and ,low as now)")
