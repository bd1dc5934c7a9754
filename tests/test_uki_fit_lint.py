"""kimage lint on a tree of UKIs and FIT images (made by corpus/uki/make.sh and
corpus/fit/make.sh with ukify and mkimage): every file is found by its name (`*.efi`,
`*.itb`, `fitImage*`), unwrapped and judged, and none is a false alarm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = {"EFI/Linux/zboot-gzip.efi": ROOT / "build/uki/out/zboot-gzip.efi",
         "EFI/Linux/image.efi": ROOT / "build/uki/out/image-gz.efi",
         "boot/kernel.itb": ROOT / "build/fit/out/tiny-gzip.itb",
         "boot/fitImage": ROOT / "build/fit/out/tiny-plain.itb",
         "boot/fitImage-external": ROOT / "build/fit/out/tiny-external.itb"}


@pytest.mark.skipif(not all(p.is_file() for p in FILES.values()),
                    reason="run corpus/uki/make.sh and corpus/fit/make.sh")
def test_lint_walks_ukis_and_fits(tmp_path):
    for rel, src in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp_path / rel)
    (tmp_path / "boot/kernel.itb.sha256").write_text("not an image\n")
    p = subprocess.run([sys.executable, "-m", "validator", "lint", str(tmp_path), "--format",
                        "json"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    images = {os.path.relpath(i["path"], tmp_path): i for i in json.loads(p.stdout)["images"]}
    assert sorted(images) == sorted(FILES)
    for rel, image in images.items():
        kinds = [layer["kind"] for layer in image["layers"]]
        assert kinds[0] == ("uki" if rel.endswith(".efi") else "fit"), (rel, kinds)
        assert image["format"] == "arm64-image", rel
        assert image["verdict"] == "pass", (rel, image["findings"])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_lint_skips_efi_applications_that_hold_no_kernel(tmp_path, jobs):
    """/boot/efi holds boot loaders named *.efi (GRUB, shim, systemd-boot). A file that
    *.efi alone names is checked only when it holds a kernel: a header's magic, a zboot
    header or a UKI's .linux; an EFI application without one is named on stderr and not
    checked. Named on the command line, it is checked."""
    from validator import seedcorpus
    from validator.formats.uki.samples import uki_bytes

    uki = seedcorpus.generate("uki", seedcorpus.RandomChooser("lint/1"), valid=True).data
    stub = seedcorpus.generate("efi-stub", seedcorpus.RandomChooser("lint/2"), valid=True)
    app = uki_bytes([(".text", b"\x1f\x20\x03\xd5" * 64), (".data", bytes(512))])
    files = {"boot/efi/EFI/debian/grubaa64.efi": app, "boot/efi/EFI/BOOT/mmaa64.efi": app,
             "boot/efi/EFI/Linux/debian.efi": uki, "boot/kernel.efi": stub.data}
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    p = subprocess.run([sys.executable, "-m", "validator", "lint", "-j", jobs, str(tmp_path),
                        "--format", "jsonl"], capture_output=True, text=True, timeout=300,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    checked = {os.path.relpath(json.loads(line)["path"], tmp_path)
               for line in p.stdout.splitlines() if line.startswith("{")}
    assert checked == {"boot/efi/EFI/Linux/debian.efi", "boot/kernel.efi"}, p.stdout
    skipped = [line for line in p.stderr.splitlines() if "holds no kernel" in line]
    assert len(skipped) == 2 and all("aa64.efi" in line for line in skipped), p.stderr
    assert p.returncode == 0, p.stderr
    alone = subprocess.run([sys.executable, "-m", "validator", "lint",
                            str(tmp_path / "boot/efi/EFI/debian/grubaa64.efi")],
                           capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert alone.returncode == 1 and "grubaa64.efi" in alone.stdout, alone.stdout


def test_lint_skips_grubs_boot_img_but_checks_android_ones(tmp_path):
    """GRUB's BIOS boot sector is /boot/grub/i386-pc/boot.img: ``boot*.img`` alone names
    it, and without the Android magic ("ANDROID!", bootimg.h BOOT_MAGIC) it is named on
    stderr and not checked; an Android boot image of that name is checked."""
    from validator import seedcorpus

    sector = bytearray(512)
    sector[0:3], sector[510:512] = b"\xeb\x63\x90", b"\x55\xaa"  # jmp; the MBR signature
    android = seedcorpus.generate("android-boot", seedcorpus.RandomChooser("lint/3"),
                                  valid=True).data
    (tmp_path / "boot/grub/i386-pc").mkdir(parents=True)
    (tmp_path / "boot/grub/i386-pc/boot.img").write_bytes(bytes(sector))
    (tmp_path / "out").mkdir()
    (tmp_path / "out/boot.img").write_bytes(android)
    p = subprocess.run([sys.executable, "-m", "validator", "lint", str(tmp_path), "--format",
                        "jsonl"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    checked = [os.path.relpath(json.loads(line)["path"], tmp_path)
               for line in p.stdout.splitlines() if line.startswith("{")]
    assert checked == ["out/boot.img"], p.stdout
    assert "i386-pc/boot.img: no Android boot image" in p.stderr, p.stderr
