"""kimage preflight: the host reader, and a verdict with its reason for every fixture host.

Fixture hosts live in tests/sysroots/<name>/ laid out like / (see README.md there);
variants of them are made per test in tmp_path. The images are the real Debian 6.1
kernels (corpus/real, materialised) and synthetic corpus files.

``validator.preflight`` and ``validator.patch`` declare rules; they are exercised through
the ``kimage`` command in a subprocess so that this module does not add rules to the
in-process registry that tests/test_rules.py enumerates.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from corpus.materialise import materialise
from tests.conftest import CORPUS, ROOT
from validator.kdump import host as hostmod
from validator.kdump.crashkernel import check_option

SYSROOTS = ROOT / "tests" / "sysroots"
SYN = CORPUS / "synthetic"
KERNELS = CORPUS / "kernels"
PPC64_BE_HOST = {"proc/sys/kernel/arch": "ppc64\n"}
ARM64_REAL = "debian-6.1.0-50-arm64"
PPC64_REAL = "debian-6.1.0-50-powerpc64le"
MiB = 1 << 20


def kimage(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def preflight(image, sysroot, *options) -> tuple[int, dict]:
    p = kimage("preflight", image, "--sysroot", sysroot, "--format", "json", *options)
    assert p.returncode in (0, 1), p.stderr
    assert p.stderr == ""
    return p.returncode, json.loads(p.stdout)


def steps(doc: dict) -> dict[str, dict]:
    return {s["step"]: s for s in doc["steps"]}


def variant(tmp_path: Path, base: str, changes: dict[str, str | bytes | None]) -> Path:
    """A copy of tests/sysroots/<base> with files replaced (None: removed)."""
    root = tmp_path / f"host-{base}"
    shutil.copytree(SYSROOTS / base, root)
    for rel, content in changes.items():
        path = root / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture(scope="session")
def images(real_images, tmp_path_factory) -> dict[str, Path]:
    """The real kernels, synthetic files, and images made from them for one case each."""
    out = tmp_path_factory.mktemp("images")
    imgs = dict(real_images)
    imgs.update({
        "arm64-4k": SYN / "arm64/v5.8-4k-le-anywhere-efi.img",
        "arm64-64k": SYN / "arm64/v5.8-64k-le-anywhere-efi.img",
        "arm64-4k-be": SYN / "arm64/v5.8-4k-be-anywhere-efi.img",
        "arm64-3.12": SYN / "arm64/v3.12-le-noefi.img",
        "ppc64-le-elf": SYN / "ppc64/vmlinux-fixup_endian_long-le-run0.elf",
        "ppc64-be-elf": SYN / "ppc64/vmlinux-fixup_endian_long-be-run0.elf",
        "ppc64-head": SYN / "ppc64/fixup_endian_long-le-run0.head",
    })
    gz = out / "Image.gz"
    gz.write_bytes(gzip.compress(imgs["arm64-4k"].read_bytes(), mtime=0))
    imgs["arm64-gz"] = gz
    # A file longer than image_size + text_offset (0x80000 + 0x1aa0000).
    long = out / "Image-long"
    with open(long, "wb") as f:
        f.write(imgs["arm64-4k"].read_bytes())
        f.truncate(0x80000 + 27918336 + MiB)
    imgs["arm64-long"] = long
    for name, word in (("ppc64-norel", 0), ("ppc64-garbage", 0xDEADBEEF)):
        data = bytearray(imgs["ppc64-le-elf"].read_bytes())
        struct.pack_into("<I", data, 0x1000 + 0x5C, word)
        (out / name).write_bytes(bytes(data))
        imgs[name] = out / name
    # Real 6.1 kernels cross-built for corpus/kernels/ (BE ppc64, zboot, .deb).
    for name in ("ppc64-be-reloc", "ppc64-be-noreloc", "ppc64-be-reloc-test"):
        imgs[name] = materialise(KERNELS / name / "vmlinux.excerpt.json", out / name)
    imgs["zboot-gzip"] = KERNELS / "arm64-4k-le-zboot-gzip/vmlinuz.efi"
    imgs["image-gz"] = KERNELS / "arm64-4k-le-efi/Image.gz"
    imgs["deb"] = KERNELS / "arm64-4k-le-efi/linux-image-6.1.176-tiny_6.1.176-1_arm64.deb"
    initrd = out / "initrd.img"  # a 40 MiB newc cpio: one (sparse) file and the trailer
    with open(initrd, "wb") as f:
        f.write(newc_header("init", 40 * MiB - 512))
        f.seek(40 * MiB - 512, os.SEEK_CUR)
        f.write(newc_header("TRAILER!!!", 0))
        f.truncate(40 * MiB)
    imgs["initrd-40m"] = initrd
    return imgs


def newc_header(name: str, size: int, magic: bytes = b"070701") -> bytes:
    """A newc cpio header and its padded name, as Documentation/driver-api/
    early-userspace/buffer-format.rst lays it out: magic, 13 fields of 8 hex digits
    (c_filesize is the 7th after the magic, c_namesize the 12th; c_namesize counts the
    NUL), the name, padding to a multiple of 4 from the start of the header."""
    encoded = name.encode() + b"\0"
    mode = 0o100644 if name != "TRAILER!!!" else 0
    fields = [0, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(encoded), 0]
    head = magic + b"".join(b"%08x" % v for v in fields) + encoded
    return head + b"\0" * (-len(head) % 4)


# --- one verdict and reason per fixture host (the "done when") --------------------

def test_arm64_4k_host_with_512m_passes_with_kexec_tools(images):
    rc, doc = preflight(images[ARM64_REAL], SYSROOTS / "arm64-4k-crash512m")
    assert rc == 0 and doc["verdict"] == "pass" and doc["loader"] == "kexec-tools"
    s = steps(doc)
    assert s["crash-region"]["status"] == "pass"
    assert doc["host"]["crash_region"] == {"base": 0xD8000000, "size": 512 * MiB,
                                           "end": 0xF7FFFFFF, "source": "iomem", "others": []}
    assert s["page-size"]["status"] == "pass"
    assert s["fit"]["status"] == "pass" and "kernel at 0xd8000000" in s["fit"]["message"]
    # Debian 12 builds without CONFIG_KEXEC_FILE: kexec -s is not available there.
    assert doc["loaders"]["kexec-file"] == {
        "verdict": "fail",
        "reasons": [{"step": "load-path", "status": "fail",
                     "rules": ["preflight/loader-unavailable"]}]}
    evidence = {e["file"]: e["value"] for e in s["crash-region"]["evidence"]}
    assert evidence["/proc/iomem"] == "d8000000-f7ffffff : Crash kernel"


def test_arm64_64k_only_cpu_refuses_a_4k_kernel(images):
    rc, doc = preflight(images[ARM64_REAL], SYSROOTS / "arm64-64k-only")
    assert rc == 1 and doc["verdict"] == "fail"
    s = steps(doc)["page-size"]
    assert s["status"] == "fail" and s["rule"] == "preflight/page-size-unsupported"
    assert "TGran4 = 0xf" in s["message"]
    assert all(d["verdict"] == "fail" for d in doc["loaders"].values())
    assert doc["host"]["granules"] == [65536]


def test_arm64_64k_only_cpu_takes_a_64k_kernel(images):
    rc, doc = preflight(images["arm64-64k"], SYSROOTS / "arm64-64k-only")
    assert rc == 0 and doc["verdict"] == "pass"
    assert steps(doc)["page-size"]["status"] == "pass"


def test_ppc64le_host_with_1g_region_passes(images):
    rc, doc = preflight(images[PPC64_REAL], SYSROOTS / "ppc64le-crash1g")
    assert rc == 0 and doc["verdict"] == "pass" and doc["loader"] == "kexec-tools"
    s = steps(doc)
    assert s["relocatable"]["status"] == "pass"
    assert s["crash-region"]["message"].startswith("1 GiB at 0x20000000-0x5fffffff")
    placed = {e["file"]: e["value"] for e in s["fit"]["evidence"]}
    assert placed["placed:kernel"] == "0x20000000, 40.5 MiB"  # p_memsz 0x287c918
    assert placed["image:elf.loads[0].p_memsz"] == "0x287c918"


def test_locked_down_host_fails_for_both_loaders_with_every_reason(images):
    rc, doc = preflight(images[ARM64_REAL], SYSROOTS / "arm64-locked-down")
    assert rc == 1 and doc["verdict"] == "fail"
    reasons = {name: [r for x in d["reasons"] for r in x["rules"]]
               for name, d in doc["loaders"].items()}
    assert reasons == {
        "kexec-tools": ["preflight/kexec-load-disabled", "preflight/lockdown-kexec-load"],
        "kexec-file": ["preflight/kexec-load-disabled", "preflight/signature-unverified"],
    }
    evidence = {e["file"]: e["value"] for e in steps(doc)["load-path"]["evidence"]}
    assert evidence["/sys/kernel/security/lockdown"] == "none [integrity] confidentiality"
    assert evidence["/proc/sys/kernel/kexec_load_disabled"] == "1"


def test_lockdown_needs_kexec_file_and_a_signed_image(images):
    host = SYSROOTS / "arm64-lockdown-integrity"
    rc, doc = preflight(images[ARM64_REAL], host)
    assert rc == 0 and doc["verdict"] == "warn" and doc["loader"] == "kexec-file"
    s = steps(doc)["load-path"]
    assert s["rule"] == "preflight/signature-unverified"
    assert doc["image"]["signature"]["present"] is True
    assert doc["image"]["signature"]["offset"] == 0x1F6DA00
    assert doc["image"]["signature"]["size"] == 1472
    assert doc["loaders"]["kexec-tools"]["reasons"][0]["rules"] == [
        "preflight/lockdown-kexec-load"]
    rc, doc = preflight(images["arm64-4k"], host, "--loader", "kexec-file")
    assert rc == 1 and steps(doc)["load-path"]["rule"] == "preflight/lockdown-unsigned"
    assert set(doc["loaders"]) == {"kexec-file"}


def test_host_without_reservation_fails(images):
    rc, doc = preflight(images[ARM64_REAL], SYSROOTS / "arm64-no-reservation")
    assert rc == 1 and doc["verdict"] == "fail"
    s = steps(doc)
    assert s["crash-region"]["rule"] == "preflight/no-crash-region"
    assert s["fit"]["status"] == "skip"
    assert doc["host"]["crash_region"] is None


# --- every other rule, triggered on a variant of a fixture -------------------------------

def _no_root_iomem(base: str) -> dict:
    text = (SYSROOTS / base / "proc/iomem").read_text()
    import re
    return {"proc/iomem": re.sub(r"[0-9a-f]+-[0-9a-f]+ :", "00000000-00000000 :", text)}


#: id -> (sysroot, changes, image, options, verdict, step, rule)
CASES = {
    "arch-mismatch": ("arm64-4k-crash512m", {}, PPC64_REAL, (), "fail", "arch",
                      "preflight/arch-mismatch"),
    "host-unknown": ("arm64-4k-crash512m", {"proc/sys/kernel/arch": None,
                                            "proc/sys/kernel/osrelease": None},
                     "arm64-4k", (), "warn", "arch", "preflight/host-unknown"),
    "ppc64-endian": ("ppc64le-crash1g", {}, "ppc64-be-elf", (), "fail", "arch",
                     "preflight/endian-unsupported"),
    "arm64-be-no-mixed-endian": ("arm64-4k-crash512m", {
        "sys/devices/system/cpu/cpu0/regs/identification/id_aa64mmfr0": "0x0000000000001025\n"},
        "arm64-4k-be", (), "fail", "arch", "preflight/endian-unsupported"),
    "arm64-be-unknown": ("arm64-4k-crash512m", {
        "sys/devices/system/cpu/cpu0/regs/identification/id_aa64mmfr0": None},
        "arm64-4k-be", (), "warn", "arch", "preflight/endian-unknown"),
    "arm64-be-mixed": ("arm64-4k-crash512m", {}, "arm64-4k-be", (), "pass", "arch", None),
    "page-size-unknown": ("arm64-4k-crash512m", {
        "sys/devices/system/cpu/cpu0/regs/identification/id_aa64mmfr0": None},
        "arm64-64k", (), "warn", "page-size", "preflight/page-size-unknown"),
    "page-size-running": ("arm64-4k-crash512m", {
        "sys/devices/system/cpu/cpu0/regs/identification/id_aa64mmfr0": None},
        ARM64_REAL, (), "pass", "page-size", None),
    "not-relocatable": ("ppc64le-crash1g", {}, "ppc64-norel", (), "fail", "relocatable",
                        "preflight/not-relocatable"),
    "run-at-load-unknown": ("ppc64le-crash1g", {"boot/config-6.1.0-50-powerpc64le": None},
                            "ppc64-garbage", ("--loader", "kexec-file"), "warn",
                            "relocatable", "preflight/run-at-load-unknown"),
    "does-not-fit": ("arm64-4k-crash512m", {}, ARM64_REAL, ("--crashkernel", "32M@0xd8000000"),
                     "fail", "fit", "preflight/does-not-fit"),
    "initrd-does-not-fit": ("arm64-4k-crash512m", {}, ARM64_REAL,
                            ("--crashkernel", "64M@0xd8000000", "--initrd", "initrd-40m"),
                            "fail", "fit", "preflight/does-not-fit"),
    "little-memory-left": ("arm64-4k-crash512m", {}, ARM64_REAL,
                           ("--crashkernel", "48M@0xd8000000"), "warn", "fit",
                           "preflight/little-memory-left"),
    "placement-unaligned": ("ppc64le-crash1g", {"proc/self/smaps": "KernelPageSize:        4 kB\n"},
                            PPC64_REAL, ("--crashkernel", "1G@0x20001000",
                                         "--loader", "kexec-tools"),
                            "fail", "fit", "preflight/placement-unaligned"),
    "crash-region-unconfirmed": ("arm64-4k-crash512m", {
        **_no_root_iomem("arm64-4k-crash512m"), "sys/kernel/kexec_crash_size": None},
        ARM64_REAL, (), "warn", "crash-region", "preflight/crash-region-unconfirmed"),
    "kexec-load-limit": ("arm64-4k-crash512m", {"proc/sys/kernel/kexec_load_limit_panic": "0\n"},
                         ARM64_REAL, (), "fail", "load-path", "preflight/kexec-load-limit"),
    "loader-unavailable": ("arm64-4k-crash512m", {}, ARM64_REAL, ("--loader", "kexec-file"),
                           "fail", "load-path", "preflight/loader-unavailable"),
    "secure-boot-unknown": ("arm64-4k-crash512m", {
        "sys/kernel/security/lockdown": None, "boot/config-6.1.0-50-arm64": None,
        "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0330c0ff":
            bytes([6, 0, 0, 0, 1])},
        ARM64_REAL, ("--loader", "kexec-tools"), "warn", "load-path",
        "preflight/secure-boot-unknown"),
    "secure-boot-ima": ("arm64-4k-crash512m", {
        "sys/kernel/security/lockdown": "[none] integrity confidentiality\n",
        "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0330c0ff":
            bytes([6, 0, 0, 0, 1])},
        ARM64_REAL, ("--loader", "kexec-tools"), "fail", "load-path",
        "preflight/lockdown-kexec-load"),
    "crash-kernel-loaded": ("arm64-4k-crash512m", {"sys/kernel/kexec_crash_loaded": "1\n"},
                            ARM64_REAL, (), "warn", "crash-loaded",
                            "preflight/crash-kernel-loaded"),
    # kexec -s decompresses an Image.gz itself and gives the kernel the Image: kexec-tools
    # v2.0.25 kexec/kexec.c do_kexec_file_load (is_zlib_file, the arm64 zImage probe),
    # from v2.0.27 slurp_decompress_file and a memfd (714fa11).
    "kexec-file-compressed": ("arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None},
                              "arm64-gz", ("--loader", "kexec-file"), "pass", "image", None),
    "kexec-tools-compressed": ("arm64-4k-crash512m", {}, "arm64-gz", ("--loader", "kexec-tools"),
                               "pass", "image", None),
    "kexec-file-longer-than-image": ("arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None},
                                     "arm64-long", ("--loader", "kexec-file"), "fail", "image",
                                     "preflight/image-not-loadable"),
    "kexec-file-pre-3.17": ("arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None},
                            "arm64-3.12", ("--loader", "kexec-file"), "fail", "image",
                            "preflight/image-not-loadable"),
    "ppc64-bare-head": ("ppc64le-crash1g", {}, "ppc64-head", (), "fail", "image",
                        "preflight/image-not-loadable"),
    # Real cross-built 6.1 kernels (corpus/kernels) on a big-endian ppc64 host.
    "real-ppc64-be-reloc": ("ppc64le-crash1g", PPC64_BE_HOST, "ppc64-be-reloc", (), "pass",
                            "relocatable", None),
    "real-ppc64-be-noreloc": ("ppc64le-crash1g", PPC64_BE_HOST, "ppc64-be-noreloc", (),
                              "fail", "relocatable", "preflight/not-relocatable"),
    "real-ppc64-be-reloc-test": ("ppc64le-crash1g", PPC64_BE_HOST, "ppc64-be-reloc-test", (),
                                 "pass", "relocatable", None),
    "real-ppc64-be-on-le-host": ("ppc64le-crash1g", {}, "ppc64-be-reloc", (), "fail", "arch",
                                 "preflight/endian-unsupported"),
    "zboot-kexec-tools": ("arm64-4k-crash512m", {}, "zboot-gzip", ("--loader", "kexec-tools"),
                          "pass", "image", None),
    # kexec -s of a zboot: kexec-tools 2.0.25 has no zboot probe (file_type[] of
    # kexec/arch/arm64/kexec-arm64.c at v2.0.25); from 2.0.27 pez_arm64_load decompresses
    # it and kexec_file_load gets the Image (kexec-vmlinuz-arm64.c at v2.0.29).
    "zboot-kexec-file": ("arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None},
                         "zboot-gzip", ("--loader", "kexec-file", "--kexec-tools", "2.0.25"),
                         "fail", "image", "preflight/image-not-loadable"),
    "zboot-kexec-file-2.0.27": ("arm64-4k-crash512m", {"boot/config-6.1.0-50-arm64": None},
                                "zboot-gzip", ("--loader", "kexec-file", "--kexec-tools",
                                               "2.0.27"), "pass", "image", None),
    "image-gz-kexec-tools": ("arm64-4k-crash512m", {}, "image-gz", (), "pass", "image", None),
    "deb": ("arm64-4k-crash512m", {}, "deb", (), "fail", "image",
            "preflight/image-not-loadable"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_case(case, images, tmp_path):
    base, changes, image, options, verdict, step, rule_id = CASES[case]
    root = variant(tmp_path, base, changes) if changes else SYSROOTS / base
    options = [str(images[o]) if o in images else o for o in options]
    rc, doc = preflight(images[image], root, *options)
    s = steps(doc)[step]
    assert doc["verdict"] == verdict, (doc["verdict"], [x for x in doc["steps"]
                                                        if x["status"] != "pass"])
    assert rc == (1 if verdict == "fail" else 0)
    if rule_id is None:
        assert s["status"] == "pass", s
    else:
        assert rule_id in s["rules"], s


def test_no_root_iomem_falls_back_to_kexec_crash_size(images, tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", _no_root_iomem("arm64-4k-crash512m"))
    rc, doc = preflight(images[ARM64_REAL], root)
    assert rc == 0 and doc["verdict"] == "pass"
    region = doc["host"]["crash_region"]
    assert region["size"] == 512 * MiB and region["base"] is None
    assert region["source"] == "kexec_crash_size"
    s = steps(doc)
    assert "/proc/iomem hides addresses without root" in s["crash-region"]["message"]
    evidence = [e for e in s["crash-region"]["evidence"]
                if e["file"] == "/sys/kernel/kexec_crash_size"]
    assert evidence[0]["value"] == "536870912" and "CAP_SYS_ADMIN" in evidence[0]["note"]
    assert "base unknown" in s["fit"]["message"] and s["fit"]["status"] == "pass"


def test_crashkernel_option_with_at_base_and_the_low_range(images, tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "proc/iomem": "40000000-23fffffff : System RAM\n  58000000-5fffffff : Crash kernel\n"
                      "  200000000-21fffffff : Crash kernel\n"})
    rc, doc = preflight(images[ARM64_REAL], root)
    region = doc["host"]["crash_region"]
    assert (region["base"], region["size"]) == (0x200000000, 512 * MiB)
    assert region["others"] == [{"start": 0x58000000, "end": 0x5FFFFFFF}]
    rc, doc = preflight(images[ARM64_REAL], root, "--crashkernel", "256M@0x80000000")
    assert doc["host"]["crash_region"]["source"] == "option"
    assert doc["host"]["crash_region"]["base"] == 0x80000000


def test_json_matches_its_schema(images):
    schema = json.loads(subprocess.run(
        [sys.executable, "-c", "import json; from validator.preflight import SCHEMA; "
                               "print(json.dumps(SCHEMA))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    for host, image in (("arm64-4k-crash512m", ARM64_REAL), ("ppc64le-crash1g", PPC64_REAL),
                        ("arm64-no-reservation", "arm64-4k")):
        _, doc = preflight(images[image], SYSROOTS / host)
        jsonschema.validate(doc, schema)
        assert doc["schema"] == "kimage-preflight/1"
        for s in doc["steps"]:
            assert s["status"] in ("pass", "warn", "fail", "skip")


def test_text_output_names_steps_evidence_and_verdict(images):
    p = kimage("preflight", images[ARM64_REAL], "--sysroot", SYSROOTS / "arm64-4k-crash512m",
               "--initrd", images["initrd-40m"])
    assert p.returncode == 0, p.stderr
    for word in ("crash-region", "/proc/iomem: d8000000-f7ffffff : Crash kernel",
                 "placed:initrd", "id_aa64mmfr0", "verdict  pass",
                 "kexec -p (kexec_load) would load it"):
        assert word in p.stdout, word


def test_reads_the_live_host_without_writing(images):
    p = kimage("preflight", images[ARM64_REAL], "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    doc = json.loads(p.stdout)
    assert doc["host"]["root"] == "/"
    assert doc["host"]["machine"] == os.uname().machine


def test_fixtures_are_not_modified(images):
    def digest():
        h = hashlib.sha256()
        for path in sorted(SYSROOTS.rglob("*")):
            if path.is_file():
                h.update(str(path).encode() + path.read_bytes())
                h.update(str(path.stat().st_mtime_ns).encode())
        return h.hexdigest()
    before = digest()
    preflight(images[ARM64_REAL], SYSROOTS / "arm64-4k-crash512m")
    assert digest() == before


@pytest.mark.parametrize("args, needle", [
    (("--sysroot", "/nonexistent-sysroot"), "not a directory"),
    (("--crashkernel", "lots"), "--crashkernel lots"),
    (("--initrd", "/nonexistent-initrd"), "no such file"),
])
def test_usage_errors_exit_2(images, args, needle):
    p = kimage("preflight", images[ARM64_REAL], *args)
    assert p.returncode == 2 and needle in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_unreadable_image_exits_2(tmp_path):
    p = kimage("preflight", tmp_path / "missing", "--sysroot", SYSROOTS / "arm64-4k-crash512m")
    assert p.returncode == 2 and "no such file" in p.stderr


#: Where each preflight/ and patch/ rule is triggered (the rules kimage declares in
#: validator.preflight and validator.patch; see tests/test_rules.py ELSEWHERE).
RULE_TESTS = {
    **{c[6]: f"test_preflight.py::test_case[{name}]" for name, c in sorted(CASES.items())
       if c[6]},
    "preflight/page-size-unsupported":
        "test_preflight.py::test_arm64_64k_only_cpu_refuses_a_4k_kernel",
    "preflight/kexec-load-disabled":
        "test_preflight.py::test_locked_down_host_fails_for_both_loaders_with_every_reason",
    "preflight/signature-unverified":
        "test_preflight.py::test_lockdown_needs_kexec_file_and_a_signed_image",
    "preflight/lockdown-unsigned":
        "test_preflight.py::test_lockdown_needs_kexec_file_and_a_signed_image",
    "preflight/no-crash-region": "test_preflight.py::test_host_without_reservation_fails",
    "preflight/host-file-malformed":
        "test_hostile_preflight.py::test_garbage_host_files_warn_and_print_no_byte_of_them",
    "preflight/initrd-not-cpio":
        "test_hostile_preflight.py::test_initrd_is_checked_as_the_kernel_unpacks_it",
    "preflight/capture-kernel-not-found":
        "test_kdump_discovery.py::test_a_missing_kernel_fails_with_the_file_that_named_it",
    "preflight/kdump-disabled": "test_kdump_discovery.py::test_use_kdump_0_warns",
    **{rule: "test_kdump_discovery.py::test_command_line_checks" for rule in (
        "preflight/cmdline-crashkernel", "preflight/cmdline-all-cpus",
        "preflight/cmdline-no-reset-devices", "preflight/cmdline-no-root")},
    "preflight/reservation-below-recommended":
        "test_kdump_discovery.py::"
        "test_reservation_below_recommendation_warns_and_one_too_small_fails",
    "preflight/not-a-dump-initramfs":
        "test_kdump_discovery.py::test_a_boot_initramfs_is_no_dump_initramfs",
    "preflight/fadump-enabled": "test_kdump_discovery.py::test_fadump_skips_the_kexec_steps",
    "preflight/kexec-no-fallback":
        "test_preflight_kexec_path.py::test_a_uimage_stops_at_kexec_file_load_from_2_0_27",
    "patch/no-run-at-load": "test_patch.py::test_refuses_without_run_at_load",
    "patch/verify-failed": "test_patch.py::test_a_copy_that_does_not_read_back_is_discarded",
}


def test_every_preflight_and_patch_rule_is_triggered_somewhere():
    declared = json.loads(subprocess.run(
        [sys.executable, "-c", "import json, validator.preflight, validator.patch; "
         "from validator.rules.registry import RULES; "
         "print(json.dumps(sorted(r for r in RULES if r.split('/')[0] in "
         "('preflight', 'patch'))))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert set(declared) == set(RULE_TESTS)


# --- the host reader, in-process (it declares no rules) ----------------------------------

@pytest.mark.parametrize("value, pages, mixed", [
    (0x0000000000101125, {4096, 16384, 65536}, True),  # TGran16 1; BigEnd 1
    (0x00000000F0001125, {65536}, True),  # TGran4 0xf, TGran16 0: 64K only
    (0x0000000000F01025, {4096, 65536}, False),  # TGran16 0xf (reserved): no 16K
    (0x000000000F201022, {4096, 16384}, False),  # TGran64 0xf; TGran16 2 (FEAT_LPA2)
    (0x0000000010001000, {4096, 65536}, False),  # TGran4 1 (FEAT_LPA2); SNSMem, not BigEnd
])
def test_id_aa64mmfr0_granules(value, pages, mixed):
    got, got_mixed = hostmod.decode_id_aa64mmfr0(value)
    assert (set(got), got_mixed) == (pages, mixed)


@pytest.mark.parametrize("text, size, base, kind", [
    ("512M", 512 * MiB, None, "size"),
    ("256M@0x80000000", 256 * MiB, 0x80000000, "size"),
    ("0x10000000@2G", 0x10000000, 2 << 30, "size"),
    ("1G-4G:256M,4G-64G:512M,64G-:1G", 512 * MiB, None, "ranges"),
    ("1G-4G:256M,4G-:384M@16M", 384 * MiB, 16 * MiB, "ranges"),
    ("512M,high", 512 * MiB, None, "high"),
    ("128M,low", 128 * MiB, None, "low"),
    ("1G,cma", 1 << 30, None, "cma"),
])
def test_parse_crashkernel(text, size, base, kind):
    spec = hostmod.parse_crashkernel(text, mem_total=8 << 30)
    assert (spec.size, spec.base, spec.kind) == (size, base, kind)


# crashkernel=SIZE,cma (Linux 6.17, kernel/crash_reserve.c SUFFIX_CMA): memory the crash
# kernel may use as well, never the region it is loaded into; older kernels read it as a
# plain value they cannot parse.
IOMEM_HIDDEN = "00000000-00000000 : Crash kernel\n"
CMDLINE = "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro {}\n"


@pytest.mark.parametrize("release", ["6.17.4-arm64", "6.1.0-50-arm64"])
def test_a_cma_value_beside_the_region_is_no_malformed_command_line(tmp_path, release):
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "proc/cmdline": CMDLINE.format("crashkernel=512M crashkernel=1G,cma"),
        "proc/sys/kernel/osrelease": release + "\n"})
    h = hostmod.read_host(root)
    assert h.malformed == []
    assert (h.crash.size, h.crash.base) == (512 * MiB, 0xD8000000)  # /proc/iomem's
    assert [c.kind for c in h.crashkernel] == ["size", "cma"]
    notes = [e.note for e in h.evidence["crash"] if e.value == "crashkernel=1G,cma"]
    assert notes and ("loads nothing there" in notes[0]) == release.startswith("6.17")


@pytest.mark.parametrize("release, base", [("6.17.4-arm64", 0x80000000),
                                           ("6.1.0-50-arm64", None)])
def test_the_last_cma_value_is_the_region_only_for_kernels_before_it(tmp_path, release,
                                                                     base):
    """With /proc/iomem hidden (no root), the base comes from the command line: 6.17
    skips a ,cma value when it looks for the plain crashkernel=; 6.1 takes the last one,
    the ,cma one, fails to parse it and has no base from it."""
    root = variant(tmp_path, "arm64-4k-crash512m", {
        "proc/cmdline": CMDLINE.format("crashkernel=512M@0x80000000 crashkernel=1G,cma"),
        "proc/sys/kernel/osrelease": release + "\n",
        "proc/iomem": IOMEM_HIDDEN})
    h = hostmod.read_host(root)
    assert (h.crash.size, h.crash.base, h.crash.source) == (
        512 * MiB, base, "kexec_crash_size")


def test_a_cma_value_on_the_option_is_a_note_and_alone_is_refused():
    got = check_option(["512M", "1G,cma"], "x86_64", 8 << 30, 4096)
    assert (got.size, got.base) == (512 * MiB, None)
    assert any("crashkernel=1G,cma" in n and "loads nothing there" in n for n in got.notes)
    with pytest.raises(ValueError, match="not the region it is loaded into"):
        check_option(["1G,cma"], "x86_64", 8 << 30, 4096)


def test_memparse_rejects_junk():
    with pytest.raises(ValueError):
        hostmod.memparse("lots")
    assert hostmod.memparse("010") == 8  # a C octal, as the kernel's memparse reads it


def test_read_host_fixture():
    h = hostmod.read_host(SYSROOTS / "ppc64le-crash1g")
    assert (h.arch, h.endianness, h.page_size) == ("ppc64", "little", 65536)
    assert h.crash.base == 0x20000000 and h.crash.size == 1 << 30
    assert h.cpu == "POWER9, altivec supported"
    assert h.config_value("CONFIG_KEXEC_FILE") == "n" and h.config_value("CONFIG_KEXEC") == "y"
    t = h.target()
    assert t.arch == "ppc64" and t.page_sizes == frozenset({4096, 65536})
    assert (t.crash_base, t.crash_size) == (0x20000000, 1 << 30)
    h = hostmod.read_host(SYSROOTS / "arm64-locked-down")
    assert (h.lockdown, h.kexec_load_disabled, h.secure_boot) == ("integrity", True, True)
    assert h.target().supports_page_size(16384) is True


def test_arch_from_release_suffix(tmp_path):
    root = variant(tmp_path, "arm64-4k-crash512m", {"proc/sys/kernel/arch": None})
    h = hostmod.read_host(root)
    assert (h.arch, h.machine) == ("arm64", "aarch64")
    assert "release suffix" in h.evidence["arch"][0].note
