"""FIT images made by U-Boot's mkimage from real kernels (corpus/fit/make.sh: the
cross-built arm64 Image and Image.gz of corpus/kernels, `-f auto` plain and gzip, an .its
with crc32/sha1/sha256 hash nodes, the same with external data (-E), and the Debian
linux-image Image), against what U-Boot's own tools say of them.

Expected values: ``dumpimage -l`` (image type, compression, data size, architecture, OS,
load and entry addresses, hash algorithms and values, the default configuration and its
kernel) and ``fdtget`` (data-offset, data-size, the FDT's totalsize through ``fdtdump``);
hash values are also recomputed here with zlib and hashlib over the bytes dumpimage
extracts (``dumpimage -T flat_dt -p 0 -o``). Skipped with the reason where the tools or
make.sh's output are missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from validator.checker import Options, check_image
from validator.pipeline import analyse

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "fit" / "out"
TINY = ("tiny-plain.itb", "tiny-gzip.itb", "tiny-hashes.itb", "tiny-external.itb")

pytestmark = [
    pytest.mark.skipif(not all((OUT / n).is_file() for n in TINY),
                       reason="no FIT images in build/fit/out: run corpus/fit/make.sh"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in ("dumpimage", "fdtget")),
                       reason="u-boot-tools (dumpimage) or device-tree-compiler (fdtget) "
                              "missing"),
]
#: dumpimage's long names (U-Boot boot/image.c) -> the FIT's short ones.
LONG = {"Kernel Image": "kernel", "uncompressed": "none", "gzip compressed": "gzip",
        "AArch64": "arm64", "Linux": "linux"}


def dumpimage(path: Path) -> dict:
    p = subprocess.run(["dumpimage", "-l", str(path)], capture_output=True, text=True,
                       timeout=60, check=True, env={**os.environ, "TZ": "UTC"})
    image = p.stdout.split(" Image 0 (", 1)[1]
    field = dict(re.findall(r"^\s+([A-Za-z ]+):\s+(.*)$", image.split(" Default", 1)[0], re.M))
    return {
        "name": image.split(")", 1)[0],
        "type": LONG[field["Type"]], "compression": LONG[field["Compression"]],
        "size": int(field["Data Size"].split()[0]), "arch": LONG[field["Architecture"]],
        "os": LONG[field["OS"]], "load": int(field["Load Address"], 16),
        "entry": int(field["Entry Point"], 16),
        "hashes": list(zip(re.findall(r"Hash algo:\s+(\S+)", image),
                           re.findall(r"Hash value:\s+(\S+)", image), strict=True)),
        "default": re.search(r"Default Configuration: '([^']+)'", p.stdout).group(1),
        "kernel": re.search(r"Kernel:\s+(\S+)", p.stdout).group(1),
    }


def fit_layer(result) -> dict:
    assert result.layers[0].kind == "fit", [layer.kind for layer in result.layers]
    return result.layers[0].details


@pytest.mark.parametrize("name", TINY)
def test_kernel_node_is_what_dumpimage_lists(name):
    listed = dumpimage(OUT / name)
    result = check_image(OUT / name, Options())
    d = fit_layer(result)
    k = d["kernel"]
    assert d["default_configuration"] == listed["default"]
    assert d["kernel_image"] == listed["kernel"] == listed["name"]
    for key in ("type", "compression", "arch", "os", "load", "entry"):
        assert k[key] == listed[key], key
    assert k["data_size"] == listed["size"]
    assert [(h["algo"], h["value"]) for h in k["hashes"]] == listed["hashes"]
    assert all(h["ok"] is True for h in k["hashes"])


@pytest.mark.parametrize("name", TINY)
def test_the_kernel_inside_decodes_without_false_alarms(name, tmp_path):
    """The data handed on is the image dumpimage extracts; the Image inside is judged
    (format, page size, the codec mkimage was told) with no error and no arm64 finding."""
    extracted = tmp_path / "kernel"
    subprocess.run(["dumpimage", "-T", "flat_dt", "-p", "0", "-o", str(extracted),
                    str(OUT / name)], capture_output=True, timeout=60, check=True)
    raw = extracted.read_bytes()
    result = check_image(OUT / name, Options())
    k = fit_layer(result)["kernel"]
    with open(OUT / name, "rb") as f:
        f.seek(k["data_offset"])
        assert f.read(k["data_size"]) == raw
    for algo, value in dumpimage(OUT / name)["hashes"]:  # independent recomputation
        digest = (zlib.crc32(raw).to_bytes(4, "big") if algo == "crc32"
                  else hashlib.new(algo, raw).digest())
        assert digest.hex() == value
    rules = {f.rule for f in result.findings}
    assert "layer/fit" in rules
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert not {r for r in rules if r.startswith("arm64/")}, rules
    assert result.format == "arm64-image" and result.facts["page_size"] == 4096
    assert result.facts["compression"] == (None if name == "tiny-plain.itb" else "gzip")


def test_external_data_is_found_after_the_blob():
    """mkimage -E: data-offset counts from the end of the blob (totalsize, rounded up to
    4), as fdtget and fdtdump give them."""
    path = OUT / "tiny-external.itb"
    get = subprocess.run(["fdtget", "-t", "u", str(path), "/images/kernel-1", "data-offset",
                          "/images/kernel-1", "data-size"], capture_output=True, text=True,
                         timeout=30, check=True).stdout.split()
    data_offset, data_size = int(get[0]), int(get[1])
    totalsize = int.from_bytes(path.read_bytes()[4:8], "big")
    k = fit_layer(analyse(path))["kernel"]
    assert k["external"] is True and k["data_size"] == data_size
    assert k["data_offset"] == ((totalsize + 3) & ~3) + data_offset


def test_a_changed_byte_fails_every_hash(tmp_path):
    data = bytearray((OUT / "tiny-hashes.itb").read_bytes())
    k = fit_layer(analyse(OUT / "tiny-hashes.itb"))["kernel"]
    data[k["data_offset"] + k["data_size"] // 2] ^= 0x40
    bad = tmp_path / "bad.itb"
    bad.write_bytes(bytes(data))
    result = check_image(bad, Options())
    hashes = fit_layer(result)["kernel"]["hashes"]
    assert [h["ok"] for h in hashes] == [False, False, False]
    assert [f.rule for f in result.findings].count("fit/bad-hash") == 3


def test_verdicts_for_a_fit():
    """booti (the u-boot model), kexec-tools, kexec_file_load, GRUB, firmware and QEMU's
    -kernel take no FIT (tests/test_fit_loaders.py runs U-Boot and kexec-tools)."""
    verdicts = check_image(OUT / "tiny-plain.itb", Options()).loaders
    for name in ("u-boot", "kexec-tools", "kexec-file", "grub", "efi"):
        assert verdicts[name]["verdict"] == "reject", name
        assert verdicts[name]["reasons"] == ["layer/fit"], name
    assert verdicts["qemu"]["verdict"] == "reject"


@pytest.mark.skipif(not (OUT / "debian-plain.itb").is_file(), reason="no Debian .deb in "
                    "build/deb when make.sh ran")
def test_the_debian_kernel_in_a_fit():
    listed = dumpimage(OUT / "debian-plain.itb")
    result = check_image(OUT / "debian-plain.itb", Options())
    k = fit_layer(result)["kernel"]
    assert k["data_size"] == listed["size"] and k["hashes"][0]["ok"] is True
    assert result.format == "arm64-image"
    assert result.facts["kernel_version"].startswith("6.1.0-")
    assert not [f for f in result.findings if f.severity == "error"]


@pytest.mark.skipif(not (OUT / "tiny-signed.itb").is_file(), reason="no openssl when "
                    "make.sh ran")
def test_signature_nodes_are_reported_as_dumpimage_lists_them():
    p = subprocess.run(["dumpimage", "-l", str(OUT / "tiny-signed.itb")], capture_output=True,
                       text=True, timeout=60, check=True)
    algo, hint = re.search(r"Sign algo:\s+(\S+):(\S+)", p.stdout).groups()
    d = fit_layer(check_image(OUT / "tiny-signed.itb", Options()))
    assert d["configuration_signatures"] == [
        {"node": "signature-1", "algo": algo, "key_name_hint": hint}]
    assert d["kernel"]["signatures"] == []
