"""loadertruth: the verdict parsers (always) and a fast subset of real kexec-tools runs
under qemu-user (skipped unless ``loadertruth/install.sh`` has run).

The expectations are the loader matrix of reference/arm64.md section 5 and
reference/ppc64.md section 4 for kexec-tools 2.0.25.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadertruth import efi, kexec, uboot, variants
from loadertruth.common import sniff_arch

# --------------------------------------------------------------------- parsers


def test_kexec_classify_accept_at_the_syscall():
    lines = [
        "image_arm64_load: kernel_segment: 0000000040000000",
        "image_arm64_load: text_offset:    0000000000080000",
        "image_arm64_load: image_size:     0000000001000000",
        "image_arm64_load: PE format:      yes",
        "kexec_load: entry = 0x410816a0 flags = 0xb70000",
        "segment[0].mem   = 0x40080000",
        "segment[0].memsz = 0x1000000",
        "kexec_load failed: Function not implemented",
    ]
    accept, message, observed = kexec.classify("kexec-tools", lines)
    assert accept is True
    assert message.startswith("kexec_load: entry =")
    assert observed["text_offset"] == 0x80000
    assert observed["image_size"] == 16 << 20
    assert observed["segment0_mem"] == 0x40080000
    assert observed["load_functions"] == ["image_arm64_load"]


def test_kexec_classify_reject_takes_the_first_deciding_line():
    lines = [
        "elf_arm64_probe: Not an ELF executable.",
        "image_arm64_probe: Bad arm64 image header.",
        "Cannot determine the file type of IMAGE",
    ]
    accept, message, observed = kexec.classify("kexec-tools", lines)
    assert accept is False
    assert message == "Cannot determine the file type of IMAGE"
    assert "image_arm64_probe: Bad arm64 image header." in observed["probes"]


def test_kexec_classify_file_mode_marker():
    lines = ["elf_arm64_probe: Not an ELF executable.", "syscall kexec_file_load not available."]
    assert kexec.classify("kexec-tools-file", lines)[0] is True
    # the kexec_load marker does not count in file mode, and vice versa
    assert kexec.classify("kexec-tools", lines)[0] is False


def test_kexec_classify_unknown_output_is_a_flagged_rejection():
    accept, message, observed = kexec.classify("kexec-tools", ["something new"])
    assert accept is False and message == "something new" and observed["unrecognised"]


def test_uboot_classify():
    cmd = uboot.COMMAND
    assert uboot.classify(f"{cmd}\nBad Linux ARM64 Image magic!\n=> ")[:2] == (
        False, "Bad Linux ARM64 Image magic!")
    acc, msg, obs = uboot.classify(
        f"{cmd}\nImage lacks image_size field, assuming 16MiB\n"
        "Moving Image from 0x40400000 to 0x40480000, end=41480000\n"
        "## Flattened Device Tree blob at bedb6db0\nStarting kernel ...\n")
    assert (acc, msg) == (True, "Starting kernel ...")
    assert obs == {"assumed_16mib": True, "moved_from": 0x40400000, "moved_to": 0x40480000,
                   "end": 0x41480000}
    assert uboot.classify(f"{cmd}\nsome new error\n=> ")[:2] == (False, "some new error")
    assert uboot.classify(f"{cmd}\n## Flattened Device Tree blob at 1\n")[0] is None


def test_efi_classify():
    dev = 'Boot0001 "UEFI Misc Device" from VenHw(837DCA9E-E874-4D82-B29A-23FE0E23D1E2,0)'
    acc, msg, obs = efi.classify([f"BdsDxe: starting {dev}", "EFI stub: Booting Linux Kernel..."])
    assert (acc, msg, obs) == (True, "EFI stub: Booting Linux Kernel...", {"stub_ran": True})
    acc, msg, obs = efi.classify([f"BdsDxe: failed to load {dev}: Not Found"])
    assert acc is False and obs == {"status": "Not Found"}


def test_sniff_arch(tmp_path):
    elf = tmp_path / "vmlinux"
    elf.write_bytes(b"\x7fELF\x02\x02\x01" + bytes(11) + (21).to_bytes(2, "big") + bytes(40))
    img = tmp_path / "Image"
    img.write_bytes(bytes(64))
    assert sniff_arch(elf) == "ppc64" and sniff_arch(img) == "arm64"


def test_arm64_variants_change_one_field(real_images):
    base = real_images["debian-6.1.0-50-arm64"]
    head = base.read_bytes()[:64]
    names = set()
    for v in variants.arm64_variants(base):
        assert v.name not in names
        names.add(v.name)
        if v.patch is None or v.cls in ("magic", "header-byteswapped"):
            continue
        buf = bytearray(head)
        v.patch(buf)
        diff = [i for i in range(64) if buf[i] != head[i]]
        # one field: all changed bytes inside one 4- or 8-byte field
        spans = {"code0": (0, 4), "code1": (4, 8), "text_offset": (8, 16),
                 "image_size": (16, 24), "res2": (32, 40), "res3": (40, 48),
                 "res4": (48, 56), "pe_offset": (60, 64)}
        lo, hi = spans.get(v.field, (24, 32)) if v.field and "," not in v.field else (8, 32)
        assert diff and all(lo <= i < hi for i in diff), v.name
    assert len(names) >= 75


# ------------------------------------------------------------- real kexec-tools

ARM64_OK, ARM64_WHY = kexec.available("arm64")
PPC64_OK, PPC64_WHY = kexec.available("ppc64")


def _variant(base: Path, name: str, out: Path) -> Path:
    v = next(v for v in variants.arm64_variants(base) if v.name == name)
    dst = out / name
    variants._copy_sparse(base, dst, v.truncate, v.patch, v.extend)
    return dst


@pytest.mark.skipif(not ARM64_OK, reason=f"kexec-tools (arm64) not runnable: {ARM64_WHY}")
def test_kexec_tools_arm64_subset(real_images, tmp_path, kexec_runs):
    """Five variants of the real Debian 6.1 arm64 header through the real kexec-tools."""
    base = real_images["debian-6.1.0-50-arm64"]

    def run(name: str, loader: str = "kexec-tools"):
        img = base if name == "as-is--base" else _variant(base, name, tmp_path)
        return kexec_runs.run(loader, img, name, arch="arm64")

    v = run("as-is--base")
    assert v.accept is True, v.log_tail
    assert v.observed["text_offset"] == 0 and v.observed["image_size"] == 0x2010000

    v = run("magic--byte0-xor01")  # section 5: ARMd magic required
    assert v.accept is False and v.message.startswith("Cannot determine the file type")
    assert "image_arm64_probe: Bad arm64 image header." in v.observed["probes"]

    v = run("flags-be--be1")  # endianness bit ignored
    assert v.accept is True

    v = run("image-size--zero")  # accept: text_offset 0x80000, 16 MiB, warning
    assert v.accept is True
    assert v.observed["text_offset"] == 0x80000 and v.observed["image_size"] == 16 << 20
    assert any("16 MiB" in w for w in v.observed["warnings"])

    v = run("text-offset--0x1234")  # base must be page aligned
    assert v.accept is False and "is not page aligned" in v.message
    # ... which the kexec_file mode never looks at (userspace probe = magic only)
    assert run("text-offset--0x1234", "kexec-tools-file").accept is True

    v = run("image-size--1t", "kexec-tools")  # huge image_size: no hole
    assert v.accept is False and v.message.startswith("Could not find a free area")

    v = run("as-is--base", "kexec-tools-crash")  # into the fixture crashkernel region
    assert v.accept is True and v.observed["segment0_mem"] == 0x60000000


@pytest.mark.skipif(not PPC64_OK, reason=f"kexec-tools (ppc64el) not runnable: {PPC64_WHY}")
def test_kexec_tools_ppc64_run_at_load(real_images, kexec_runs):
    """ppc64.md s.4: for a panic kernel kexec-tools turns "run0" at 0x5c into 1."""
    vm = real_images["debian-6.1.0-50-powerpc64le"]
    normal = kexec_runs.run("kexec-tools", vm, "vmlinux", arch="ppc64")
    crash = kexec_runs.run("kexec-tools-crash", vm, "vmlinux", arch="ppc64")
    assert normal.accept is True and normal.observed["run_at_load"] == 0x72756E30
    assert crash.accept is True and crash.observed["run_at_load"] == 1


@pytest.mark.skipif(not ARM64_OK, reason=f"kexec-tools (arm64) not runnable: {ARM64_WHY}")
def test_results_are_deterministic(real_images, tmp_path):
    """Same record twice, and wherever the image lives (heap addresses are masked)."""
    base = real_images["debian-6.1.0-50-arm64"]
    elsewhere = tmp_path / ("a-much-longer-directory-name" * 3) / "Image"
    elsewhere.parent.mkdir()
    elsewhere.symlink_to(base)
    a = kexec.run("kexec-tools", base, "x", arch="arm64").to_json()
    b = kexec.run("kexec-tools", elsewhere, "x", arch="arm64").to_json()
    a.pop("seconds"), b.pop("seconds")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_compare_joins_on_image_and_loader_and_explains_known_differences():
    from loadertruth.compare import compare

    records = [
        {"image": "a", "loader": "kexec-tools", "class": "magic", "variant": "x",
         "accept": False, "message": "Cannot determine the file type"},
        {"image": "a", "loader": "u-boot", "class": "magic", "variant": "x",
         "accept": True, "message": "Starting kernel ..."},
        {"image": "b", "loader": "kexec-tools", "class": "zboot", "variant": "y",
         "accept": False, "message": "Cannot determine the file type",
         "loader_version": "kexec-tools 1:2.0.25-3+deb12u3"},
        {"image": "a", "loader": "kexec-tools-file", "class": "magic", "variant": "x",
         "accept": True, "message": ""},
    ]
    verdicts = {
        "a": {"kexec-tools": {"verdict": "reject", "reasons": ["arm64/bad-magic"]},
              "u-boot": {"verdict": "reject", "reasons": ["arm64/bad-magic"]}},
        "b": {"kexec-tools": {"verdict": "accept", "reasons": [], "by_version": [
            {"from": "2.0.25", "to": "2.0.27", "verdict": "reject",
             "reasons": ["layer/zboot"], "notes": []}]}, "_layers": ["zboot"]},
        "c": {"kexec-tools": {"verdict": "accept", "reasons": [], "by_version": []},
              "_layers": ["zboot", "zstd"], "_compression": "zstd",
              "_judge": lambda spec: asked.append(spec) or {
                  "verdict": "reject", "reasons": ["loader/codec-not-linked"],
                  "build": "debian"}},
    }
    asked: list[str] = []
    records += [
        {"image": "b", "loader": "kexec-tools", "class": "zboot", "variant": "y",
         "accept": True, "message": "kexec_load: entry = 0x1",
         "loader_version": "kexec-tools 1:2.0.29-2+b1 (arm64, Debian trixie)"},
        {"image": "c", "loader": "kexec-tools", "class": "zboot", "variant": "z",
         "accept": False, "message": "Cannot determine the file type",
         "loader_version": "kexec-tools 1:2.0.32-3+b1 (arm64, Debian unstable)"},
    ]
    table, disagreements, explained = compare(records, verdicts)
    assert table[("kexec-tools", "magic")] == [1, 0, 1]
    assert table[("u-boot", "magic")] == [0, 0, 1]
    assert [d["loader"] for d in disagreements] == ["u-boot"]
    # joined on loader@version: 2.0.25 falls in the reject range, 2.0.29 takes the newest
    assert table[("kexec-tools@2.0.25", "zboot")] == [1, 0, 1]
    assert table[("kexec-tools@2.0.29", "zboot")] == [1, 0, 1]
    # a real Debian kexec-tools is judged as kimage's Debian build at its release
    assert asked == ["kexec-tools@2.0.32+debian"]
    assert table[("kexec-tools@2.0.32", "zboot")] == [1, 0, 1]
    assert not explained
    assert ("kexec-tools-file", "magic") not in table  # no kimage counterpart


@pytest.mark.skipif(not (ARM64_OK and PPC64_OK),
                    reason=f"kexec-tools not runnable: {ARM64_WHY or PPC64_WHY}")
def test_kimage_agrees_with_real_kexec_tools_on_variants_of_the_real_kernels(
        real_images, tmp_path, kexec_runs):
    """The loader-truth comparison, in small: variants of the Debian 6.1 arm64 and
    ppc64el kernels (the first of each variant class through ``kexec -l`` and
    ``kexec -p``, every image_size and text_offset variant through ``kexec -l``);
    kimage's kexec-tools verdict must match the real one, or the difference be one
    that ``loadertruth.compare.EXPLAINED`` documents. ``make loader-truth`` runs all."""
    from concurrent.futures import ThreadPoolExecutor

    from loadertruth.compare import compare, kimage_verdicts

    tasks = []
    for name, path in sorted(real_images.items()):
        if not ("arm64" in name or "powerpc" in name):
            continue  # x86 and riscv64: tests/test_loadertruth_x86.py, _riscv.py
        arch = "ppc64" if "powerpc" in name else "arm64"
        vs = variants.ppc64_variants(path) if arch == "ppc64" else variants.arm64_variants(path)
        (tmp_path / name).mkdir()
        seen = set()
        for v in vs:
            first = v.cls not in seen
            seen.add(v.cls)
            loaders = (("kexec-tools", "kexec-tools-crash") if first else
                       ("kexec-tools",) if v.cls in ("image-size", "text-offset") else ())
            if not loaders:
                continue
            rel = f"{name}/{v.name}"
            variants._copy_sparse(path, tmp_path / rel, v.truncate, v.patch, v.extend)
            tasks.extend((loader, rel, arch, v) for loader in loaders)
    assert len(tasks) == 2 * (16 + 14) + (13 - 1) + (9 - 1)

    def work(t):
        loader, rel, arch, v = t
        rec = kexec_runs.run(loader, tmp_path / rel, rel, arch=arch).to_json()
        return dict(rec, **{"class": v.cls, "variant": v.detail})

    with ThreadPoolExecutor(max_workers=2) as pool:
        records = list(pool.map(work, tasks))
    undecided = [r["image"] for r in records if r["accept"] is None]
    assert not undecided, undecided
    verdicts = kimage_verdicts(tmp_path, {r["image"] for r in records})
    table, disagreements, explained = compare(records, verdicts)
    assert not disagreements, disagreements
    assert sum(cell[2] for cell in table.values()) == len(records)
    # both verdicts occur: the comparison is not all-accept or all-reject
    assert {r["accept"] for r in records} == {True, False}


def test_every_base_of_the_variants_is_a_kernel_of_its_arch(tmp_path):
    """``make loader-truth`` makes its variants from every corpus/real excerpt that is an
    arm64 or ppc64 kernel (the x86 and riscv64 ones have harnesses of their own): a base
    taken for the wrong architecture stopped the whole target (the x86 excerpt read as an
    arm64 Image: no ARM\\x64 magic)."""
    seen = []
    for base in variants.bases(None, False, tmp_path):
        if base.arch == "arm64":
            assert variants.arm64_variants(base.path), base.name
        elif base.arch == "ppc64":
            assert variants.ppc64_variants(base.path), base.name
        seen.append((base.arch, base.name))
    real = [name for arch, name in seen if arch in ("arm64", "ppc64")]
    assert any("arm64" in n for n in real) and any("powerpc64le" in n for n in real), seen
    assert not any("amd64" in n or "riscv64" in n for n in real), seen
