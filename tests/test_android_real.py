"""Android boot (v2, v3, v4) and vendor_boot (v3, v4) images made by AOSP's mkbootimg from
the corpus's real arm64 kernel (corpus/android/make.sh, run here into a temporary
directory): every header fact kimage reports agrees with what unpack_bootimg (the same
package, independent of kimage) prints, the kernel kimage unwraps is the bytes
unpack_bootimg extracts, and the Image inside (raw, gzip, the lz4 legacy frame) is the
corpus kernel (its version from corpus/kernels/arm64-4k-le-efi/expected.json). Then one
field of a real image is made to lie for each Android rule, and ``kimage lint`` finds
``boot*.img`` and ``vendor_boot*.img`` in a tree.

Skipped with the reason when mkbootimg (Debian 12's, or Debian 13's for v4 from
``loadertruth/install.sh mkbootimg``), lz4 or dtc is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT
from validator.checker import Options, check_image
from validator.pipeline import analyse
from validator.report_schema import SCHEMA

V4_DIR = ROOT / "build/android/mkbootimg-trixie/usr/bin"
HAVE_V4 = (V4_DIR / "mkbootimg").is_file()
MISSING = [t for t in ("lz4", "dtc", "gzip") if shutil.which(t) is None]
if not HAVE_V4 and shutil.which("mkbootimg") is None:
    MISSING.append("mkbootimg (apt-get install mkbootimg; loadertruth/install.sh mkbootimg)")
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"missing: {', '.join(MISSING)}")
NEED_V4 = pytest.mark.skipif(not HAVE_V4, reason="Debian 13's mkbootimg (v4) not unpacked: "
                             "loadertruth/install.sh mkbootimg")

KERNEL = next(i["facts"] for i in json.loads(
    (CORPUS / "kernels/arm64-4k-le-efi/expected.json").read_text())["images"]
    if i["file"] == "Image.excerpt.json")
#: boot image -> (header version, the kernel file mkbootimg was given, its codec)
DEBIAN = json.loads((CORPUS / "real/debian-6.1.0-50-arm64/expected.json").read_text())["facts"]
BOOT = {"boot-v1-lz4dtb.img": (1, "Image.lz4-dtb", "lz4"),
        "boot-v2.img": (2, "Image.gz", "gzip"), "boot-v3.img": (3, "Image.lz4", "lz4"),
        "boot-v4.img": (4, "Image.lz4", "lz4"), "boot-v4-gz.img": (4, "Image.gz", "gzip"),
        "boot-v4-raw.img": (4, "Image", None),
        "boot-v4-debian.img": (4, "Image-debian", None)}
VENDOR = {"vendor_boot-v3.img": 3, "vendor_boot-v4.img": 4}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("android")
    p = subprocess.run(["sh", str(CORPUS / "android/make.sh"), str(out)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return out


def image(made: Path, name: str) -> Path:
    path = made / name
    if not path.is_file():
        pytest.skip(f"{name} not made (Debian 13's mkbootimg: loadertruth/install.sh mkbootimg)")
    return path


def unpacked(made: Path, name: str) -> dict[str, str]:
    """unpack_bootimg's report: label -> value (the first of each label)."""
    text = (made / f"{name}.unpack.txt").read_text(encoding="latin-1")
    out: dict[str, str] = {}
    for label, value in re.findall(r"^([a-z_. ]+): ?(.*)$", text, re.M):
        out.setdefault(label, value)
    return out


def table(made: Path, name: str) -> list[dict]:
    """unpack_bootimg's vendor ramdisk table entries."""
    text = (made / f"{name}.unpack.txt").read_text(encoding="latin-1")
    return [{"size": int(s), "offset": int(o), "type": int(t, 16), "name": n}
            for s, o, t, n in re.findall(r"size: (\d+)\s+offset: (\d+)\s+type: (0x[0-9a-f]+)"
                                         r"\s+name: ?(.*)", text)]


@pytest.mark.parametrize("name", sorted(BOOT))
def test_boot_images_agree_with_unpack_bootimg(made, name):
    version, kernel, codec = BOOT[name]
    path = image(made, name)
    u = unpacked(made, name)
    result = analyse(path)
    d = result.layers[0].details
    assert result.layers[0].kind == "android-boot"
    ours = {"boot image header version": str(d["header_version"]),
            "kernel_size": str(d["kernel_size"]), "ramdisk size": str(d["ramdisk_size"]),
            "os version": d["os_version"], "os patch level": d["os_patch_level"]}
    if version >= 3:
        ours["command line args"] = d["cmdline"]
        assert d["page_size"] == 4096
    else:
        ours.update({"page size": str(d["page_size"]), "product name": d["name"],
                     "kernel load address": f"{d['kernel_addr']:#010x}",
                     "ramdisk load address": f"{d['ramdisk_addr']:#010x}",
                     "kernel tags load address": f"{d['tags_addr']:#010x}",
                     "boot header size": str(d["header_size"]),
                     "recovery dtbo size": str(d["recovery_dtbo_size"])})
        if version == 2:
            ours["dtb size"] = str(d["dtb_size"])
        assert d["cmdline"] == u["command line args"] + u["additional command line args"]
    if version >= 4:
        ours["boot.img signature size"] = str(d["signature_size"])
    assert ours == {k: u[k] for k in ours}
    data = path.read_bytes()
    start = d["kernel_offset"]
    extracted = (made / f"unpacked-{name}/kernel").read_bytes()
    assert data[start:start + d["kernel_size"]] == extracted
    assert extracted == (made / "in" / kernel).read_bytes()
    assert result.format == "arm64-image"
    assert result.facts["compression"] == codec
    assert [layer.kind for layer in result.layers[1:]] == ([codec] if codec else [])
    assert result.facts["kernel_version"] == (DEBIAN["kernel_version"] if "debian" in name
                                              else KERNEL["kernel_version"])
    assert result.facts["convention"] == ("android-gki-boot-v4" if version == 4 else None)
    checked = check_image(path, Options())
    assert checked.verdict == "pass", [(f.rule, f.message) for f in checked.findings]
    if kernel.endswith("-dtb"):  # the DTB after the lz4 stream, as the bootloader finds it
        dtb = (made / "in/board.dtb").read_bytes()
        assert checked.layers[1].details["trailing_bytes"] == len(dtb)
    assert not [f for f in checked.findings if f.severity != "info"]


@pytest.mark.parametrize("name", sorted(VENDOR))
def test_vendor_boot_images_agree_with_unpack_bootimg(made, name):
    version = VENDOR[name]
    path = image(made, name)
    u = unpacked(made, name)
    result = analyse(path)
    d = result.layers[0].details
    assert result.layers[0].kind == "android-vendor-boot"
    ours = {"vendor boot image header version": str(d["header_version"]),
            "page size": f"{d['page_size']:#010x}",
            "kernel load address": f"{d['kernel_addr']:#010x}",
            "ramdisk load address": f"{d['ramdisk_addr']:#010x}",
            "vendor command line args": d["cmdline"],
            "kernel tags load address": f"{d['tags_addr']:#010x}",
            "product name": d["name"], "vendor boot image header size": str(d["header_size"]),
            "dtb size": str(d["dtb_size"]), "dtb address": f"{d['dtb_addr']:#018x}"}
    size_label = "vendor ramdisk total size" if version >= 4 else "vendor ramdisk size"
    ours[size_label] = str(d["vendor_ramdisk_size"])
    if version >= 4:
        ours["vendor bootconfig size"] = str(d["bootconfig_size"])
        types = {"none": 0, "platform": 1, "recovery": 2, "dlkm": 3}
        assert [dict(e, type=types[e["type"]]) for e in d["vendor_ramdisks"]] == table(
            made, name)
        assert len(d["vendor_ramdisks"]) == 2
    assert ours == {k: u[k] for k in ours}
    checked = check_image(path, Options())
    assert [f.rule for f in checked.findings] == ["android/vendor-boot"]
    assert checked.verdict == "pass"
    assert {v["verdict"] for v in checked.loaders.values()} == {"n/a"}


def test_init_boot_image_holds_no_kernel(made):
    """init_boot.img (Android 13 GKI: header v4, kernel_size 0, the generic ramdisk)."""
    path = image(made, "init_boot.img")
    u = unpacked(made, "init_boot.img")
    result = check_image(path, Options())
    d = result.layers[0].details
    assert result.layers[0].kind == "android-init-boot"
    assert (str(d["kernel_size"]), str(d["ramdisk_size"]), str(d["header_version"])) == (
        u["kernel_size"], u["ramdisk size"], u["boot image header version"]) == (
        "0", str((made / "in/ramdisk").stat().st_size), "4")
    assert [f.rule for f in result.findings] == ["android/init-boot"]
    assert result.verdict == "pass"
    assert {v["verdict"] for v in result.loaders.values()} == {"n/a"}


def lying(path: Path, out: Path, at: int, value: int) -> Path:
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, at, value)
    out.write_bytes(bytes(data))
    return out


#: (image, offset of the u32 patched, value, the finding expected)
LIES = [
    ("boot-v4.img", 12, 0x7FFFFFF, "android/section-past-end"),  # ramdisk_size
    ("boot-v4.img", 1580, 0x100000, "android/section-past-end"),  # signature_size
    ("boot-v4.img", 36, 2048, "android/reserved-nonzero"),  # a v0-v2 page_size there
    ("boot-v4.img", 8, 0x7FFFFFF, "layer/lying-size"),  # kernel_size
    ("boot-v3.img", 40, 7, "android/bad-header"),  # header_version
    ("boot-v2.img", 1648, 0x100000, "android/section-past-end"),  # dtb_size
    ("boot-v2.img", 36, 3000, "android/bad-header"),  # page_size
    ("vendor_boot-v3.img", 2100, 0x100000, "android/section-past-end"),  # dtb_size
    ("vendor_boot-v3.img", 12, 3000, "android/bad-header"),  # page_size
    ("vendor_boot-v4.img", 2124, 0x100000, "android/section-past-end"),  # bootconfig_size
    ("vendor_boot-v4.img", 2120, 100, "android/vendor-ramdisk-table"),  # entry size
    # the second entry's ramdisk_size (the table after 3 pages: header, ramdisk, dtb)
    ("vendor_boot-v4.img", 3 * 4096 + 108, 4096, "android/vendor-ramdisk-table"),
]


@pytest.mark.parametrize("name, at, value, rule", LIES)
def test_a_lying_field_of_a_real_image(made, tmp_path, name, at, value, rule):
    path = lying(image(made, name), tmp_path / name, at, value)
    checked = check_image(path, Options())
    assert rule in checked.reported_rules()
    if rule != "android/reserved-nonzero":
        assert checked.verdict == "fail"


def test_lint_walks_boot_and_vendor_boot_images(made, tmp_path):
    tree = tmp_path / "out/target/product/kimage"
    tree.mkdir(parents=True)
    copies = {"boot.img": "boot-v3.img", "boot_a.img": "boot-v2.img",
              "vendor_boot.img": "vendor_boot-v3.img"}
    if HAVE_V4:
        copies.update({"boot_b.img": "boot-v4.img", "vendor_boot_b.img": "vendor_boot-v4.img"})
    for dst, src in copies.items():
        shutil.copyfile(image(made, src), tree / dst)
    (tree / "boot.img.sha256").write_text("not an image\n")
    (tree / "system.img").write_bytes(b"\0" * 4096)
    p = subprocess.run([sys.executable, "-m", "validator", "lint", str(tmp_path), "--format",
                        "json"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    images = {Path(i["path"]).name: i for i in doc["images"]}
    assert sorted(images) == sorted(copies)
    assert {n: i["layers"][0]["kind"] for n, i in images.items()} == {
        n: "android-vendor-boot" if n.startswith("vendor") else "android-boot" for n in copies}
    assert {i["verdict"] for i in images.values()} == {"pass"}


@pytest.mark.parametrize("name", ["boot-v4.img", "boot-v2.img", "vendor_boot-v4.img"])
def test_mutations_of_a_real_image_are_found(made, tmp_path, name):
    """``kimage fuzz --from`` on the real images: each field-level mutation (the header's,
    and for a boot image the Image's inside, re-compressed) is reported as expected."""
    from validator import seedcorpus
    from validator.formats.sampling import RandomChooser

    data = image(made, name).read_bytes()
    mutations = seedcorpus.image_mutations(data)
    assert any(m.startswith(("android:", "vendor:")) for m in mutations)
    if name.startswith("boot"):
        assert any(m.startswith("android>") for m in mutations)  # the kernel inside
    for i, (mname, (expect, fn)) in enumerate(sorted(mutations.items())):
        path = tmp_path / f"{i}.img"
        path.write_bytes(fn(RandomChooser(i)))
        assert set(expect) <= check_image(path, Options()).reported_rules(), mname


# -- what the loaders do with a boot image ------------------------------------------------------

#: The loaders that read a file's first bytes as the kernel's own header: each refuses a
#: boot image for ``layer/android`` (QEMU's -kernel loads it as a raw blob:
#: ``layer/not-unwrapped``).
REFUSE_ANDROID = ("kexec-tools", "kexec-file", "u-boot", "grub", "efi")


@pytest.mark.parametrize("name", ["boot-v4-debian.img", "boot-v2.img"])
def test_kexec_tools_refuses_a_boot_image_as_the_model_says(made, monkeypatch, name):
    """Debian's kexec-tools (-l, and -s: kexec_file_load's path in kexec-tools) on a real
    boot.img: no probe of the arm64 file_type[] takes it."""
    from loadertruth import kexec

    ok, why = kexec.available("arm64")
    if not ok:
        pytest.skip(why)
    for mode in ("kexec-tools", "kexec-tools-file"):
        seen = kexec.run(mode, made / name, name, arch="arm64")
        assert seen.accept is False, (mode, seen.message, seen.log_tail)
        assert "Cannot determine the file type" in seen.message, seen.message
    verdicts = check_image(made / name, Options()).loaders
    for loader in REFUSE_ANDROID:
        assert verdicts[loader]["verdict"] == "reject", (loader, verdicts[loader])
        assert verdicts[loader]["reasons"][0] == "layer/android", (loader, verdicts[loader])
    assert verdicts["qemu"]["reasons"] == ["layer/not-unwrapped"]


def test_debians_u_boot_boots_no_boot_image(made, monkeypatch):
    """Debian 13's u-boot-qemu 2025.01 (qemu_arm64, by loadertruth.uboot): booti finds no
    ARM\\x64 magic in a boot.img, and bootm has no Android support (CONFIG_ANDROID_BOOT_IMAGE
    is off): the ``u-boot`` verdict is reject, for ``layer/android``."""
    from loadertruth import uboot

    monkeypatch.setenv("LOADERTRUTH_SUITE", "trixie")
    ok, why = uboot.available("arm64")
    if not ok:
        pytest.skip(why)
    path = made / "boot-v4-debian.img"
    monkeypatch.setattr(uboot, "REJECT", uboot.REJECT + ["Wrong Image Type for bootm"])
    for command, said in ((f"booti {uboot.LOAD_ADDR:#x} - ${{fdtcontroladdr}}",
                           "Bad Linux ARM64 Image magic!"),
                          (f"bootm {uboot.LOAD_ADDR:#x} - ${{fdtcontroladdr}}",
                           "Wrong Image Type for bootm command")):
        monkeypatch.setattr(uboot, "COMMAND", command)
        seen = uboot.run(path, path.name)
        assert seen.accept is False and said in seen.message, (command, seen.message,
                                                               seen.log_tail)
    verdict = check_image(path, Options(loaders={"u-boot"})).loaders["u-boot"]
    assert verdict["verdict"] == "reject" and verdict["reasons"] == ["layer/android"]
