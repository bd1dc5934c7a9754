#!/usr/bin/env python3
"""Cut the excerpt of a real Debian riscv64 kernel (a flat RISC-V Image) out of its package.

Usage (from the repository root):

    python3 corpus/real/make_excerpts_riscv.py \
        --deb build/riscv/debs/linux-image-6.12.117+deb13-riscv64_6.12.117-1_riscv64.deb

Writes ``corpus/real/debian-<abi>/`` as corpus/real/make_excerpts.py does for arm64 and
ppc64 (its helpers are reused): ``image.excerpt.json``, ``config``, ``symbols``,
``expected.json`` (every fact with the command that gave it, run on the full file: file(1),
grep and ``python3 -c`` struct one-liners on boot-image-header.rst's offsets) and
``PROVENANCE.md``. Only the Python standard library is used; nothing here uses kimage.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import excerpt_tools as mx  # noqa: E402  (the excerpt makers' shared helpers)

OUT_DIR_DEFAULT = Path(__file__).resolve().parent
#: The facts test_corpus compares for a riscv64 kernel.
FACT_KEYS = ["arch", "endianness", "text_offset", "image_size", "efi_stub", "header_version",
             "pe_offset", "kernel_version"]


def riscv_kernel(root: Path, abi: str, rel: str):
    ev = mx.Evidence(root)
    full = root / rel
    described = ev.run(["arch", "efi_stub"], f"file -b {rel}")
    h = ev.kv(["text_offset", "image_size", "endianness", "header_version", "efi_stub",
               "pe_offset"], mx.py1(
        "import struct;d=open('" + rel + "','rb').read(0x400);"
        "o=struct.unpack_from('<I',d,0x3c)[0];"
        "print('mz=%d' % (d[0:2]==b'MZ'), 'text_offset=%d' % struct.unpack_from('<Q',d,8)[0],"
        "'image_size=%d' % struct.unpack_from('<Q',d,0x10)[0],"
        "'flags=%d' % struct.unpack_from('<Q',d,0x18)[0],"
        "'version=%d' % struct.unpack_from('<I',d,0x20)[0],"
        "'magic=%s' % d[0x30:0x38].hex(), 'magic2=%s' % d[0x38:0x3c].hex(),"
        "'res3=%d' % o, 'pe_signature=%s' % d[o:o+4].hex(),"
        "'pe_machine=%d' % struct.unpack_from('<H',d,o+4)[0])"))
    assert h["magic2"] == b"RSC\x05".hex(), h
    banner_at = int(ev.run("kernel_version", f"grep -a -b -o -m1 'Linux version [^ ]*' {rel}"
                           ).split(":", 1)[0])
    with full.open("rb") as f:
        f.seek(banner_at)
        chunk = f.read(512)
    banner = chunk[:chunk.index(b"\0")]
    size = full.stat().st_size
    version = int(h["version"])
    efi = bool(int(h["mz"])) and h["pe_signature"] == "50450000"
    facts = {
        "arch": "riscv64",
        "endianness": "big" if int(h["flags"]) & 1 else "little",
        "text_offset": int(h["text_offset"]),
        "image_size": int(h["image_size"]),
        "efi_stub": efi,
        "header_version": f"{version >> 16}.{version & 0xffff}",
        "pe_offset": int(h["res3"]) if efi else None,
        "kernel_version": banner.split(b" ")[2].decode("ascii"),
        "pe_machine": int(h["pe_machine"]),
    }
    assert "RISC-V 64-bit" in described, described
    ranges: list[dict] = []
    mx.add_range(ranges, full, 0, 0x400, "the Image header (0x0-0x40) and the EFI "
                 "stub's PE/COFF headers and section table at res3 (0x40)")
    mx.add_range(ranges, full, banner_at, len(banner) + 1,
                 "the linux_banner string (\"Linux version ...\"), NUL included")
    obs = {"file_size": size, "flags": int(h["flags"]), "magic": h["magic"],
           "magic2": h["magic2"], "banner": banner.decode("ascii", "replace"),
           "system_map": "stub"}
    expected = json.dumps({"facts": facts, "fact_notes": {
        "header_version": "u32 at 0x20: major in bits 16-31, minor in 0-15, python struct",
        "kernel_version": "third word of the first 'Linux version' string, grep -b",
        "pe_offset": "res3 at 0x3c (the DOS header's e_lfanew), python struct"},
        "observations": obs, "evidence": ev.items,
        "cwd": "root of the unpacked package (dpkg-deb -x PACKAGE.deb DIR; cd DIR)"},
        indent=1) + "\n"
    return ranges, facts, obs, expected


# Markdown: its lines are as long as they need to be.
PROVENANCE = """# {name}

Excerpt of a real Debian kernel for the kimage test corpus. The full kernel is not in
the repository; `image.excerpt.json` keeps only the byte ranges listed below (all other
bytes read as zero when materialised).

- package: `{package}` version `{version}` architecture `{arch}`
- Debian source package: `{source}` (Built-Using: `{built_using}`)
- from: Debian 13 (trixie) main archive, fetched with `apt-get download`
  (if the archive has moved on: snapshot.debian.org)
- sha256 of the .deb: `{deb_sha256}`
- file in the package: `{path}` (a flat Image despite its name), {size} bytes, sha256 `{sha256}`
- also copied verbatim: `config` (the package's `boot/config-*`)
- `symbols`: none (Debian's boot/System.map is a one-line stub; no nm possible)
- `expected.json`: facts derived from file(1), od and python3 struct one-liners run on
  the full file at boot-image-header.rst's offsets (commands and outputs recorded); kimage
  is not used.
- licence: Linux kernel binary, GPL-2.0; corresponding source: Debian source package
  `linux (= {linux})`.

## Kept ranges

| offset | length | why |
|---|---|---|
{rows}

## Regenerate

```sh
(cd build/riscv/debs && apt-get download {package}:riscv64={version})
python3 corpus/real/make_excerpts_riscv.py --deb build/riscv/debs/{package}_{version}_{arch}.deb
```

Needs dpkg-deb, file, grep and python3; apt-get needs a trixie source with riscv64.
Output is deterministic for the same .deb and tool versions.
"""


def process(deb: Path, out_root: Path) -> str:
    fields = {f: mx.deb_field(deb, f) for f in ("Package", "Version", "Architecture",
                                                "Source", "Built-Using")}
    abi = re.fullmatch(r"linux-image-(\d.*)", fields["Package"]).group(1)
    name = f"debian-{abi}"
    with tempfile.TemporaryDirectory(prefix="kimage-real-") as tmp:
        root = Path(tmp)
        mx.sh(f"dpkg-deb -x '{deb}' '{root}'", root)
        rel = f"boot/vmlinux-{abi}"  # Debian ships the flat Image under this name
        ranges, facts, obs, expected = riscv_kernel(root, abi, rel)
        full = root / rel
        src = {"package": fields["Package"], "version": fields["Version"],
               "architecture": fields["Architecture"], "deb_sha256": mx.sha256_file(deb),
               "path": rel, "size": full.stat().st_size, "sha256": mx.sha256_file(full)}
        ranges = mx.finish_ranges(ranges)
        outdir = out_root / name
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "image.excerpt.json").write_text(mx.dump_excerpt(
            {"format": mx.FORMAT, "source": src, "ranges": ranges}))
        shutil.copyfile(root / "boot" / f"config-{abi}", outdir / "config")
        (outdir / "symbols").write_text("# no symbols: Debian ships a stub System.map\n")
        (outdir / "expected.json").write_text(expected)
        rows = "\n".join(f"| {r['offset']:#x} | {r['length']:#x} | {r['why']} |"
                         for r in ranges)
        linux = re.search(r"linux \(= ([^)]+)\)", fields["Built-Using"] or "")
        (outdir / "PROVENANCE.md").write_text(PROVENANCE.format(
            name=name, package=src["package"], version=src["version"],
            arch=src["architecture"], source=fields["Source"],
            built_using=fields["Built-Using"], deb_sha256=src["deb_sha256"], path=rel,
            size=src["size"], sha256=src["sha256"], rows=rows,
            linux=linux.group(1) if linux else src["version"]))
    return name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deb", required=True, type=Path, help="a linux-image-*-riscv64 .deb")
    ap.add_argument("--out", type=Path, default=OUT_DIR_DEFAULT)
    args = ap.parse_args(argv)
    print(process(args.deb.resolve(), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
