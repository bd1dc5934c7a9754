#!/usr/bin/env python3
"""Cut the excerpt of a real Debian amd64 kernel (an x86 bzImage) out of its package.

Usage (from the repository root):

    python3 corpus/real/make_excerpts_x86.py \
        --deb build/x86/linux-image-6.1.0-50-amd64_6.1.176-1_amd64.deb

Writes ``corpus/real/debian-<abi>/`` as corpus/real/make_excerpts.py does for arm64 and
ppc64 (its helpers are reused): ``image.excerpt.json``, ``config``, ``symbols``,
``expected.json`` (every fact with the command that gave it, run on the full file: file(1),
od and ``python3 -c`` struct one-liners on the boot protocol's offsets) and
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
#: The facts test_corpus compares for an x86-64 kernel, then the header's own.
FACT_KEYS = ["arch", "endianness", "efi_stub", "relocatable", "kernel_version", "protocol",
             "kernel_64", "kernel_alignment", "pref_address", "init_size"]


def header_facts(ev: mx.Evidence, rel: str) -> dict:
    """The setup header's values at the offsets boot.rst gives, by struct."""
    kv = ev.kv(["protocol", "kernel_64", "relocatable", "kernel_alignment", "pref_address",
                "init_size", "efi_stub"], mx.py1(
        "import struct;d=open('" + rel + "','rb').read(0x280);"
        "print('mz=%d' % (d[0:2]==b'MZ'), 'e_lfanew=%d' % struct.unpack_from('<I',d,0x3c)[0],"
        "'setup_sects=%d' % d[0x1f1], 'boot_flag=%d' % struct.unpack_from('<H',d,0x1fe)[0],"
        "'hdrs=%s' % d[0x202:0x206].decode(), 'version=%d' % struct.unpack_from('<H',d,0x206)[0],"
        "'kernel_version=%d' % struct.unpack_from('<H',d,0x20e)[0], 'loadflags=%d' % d[0x211],"
        "'kernel_alignment=%d' % struct.unpack_from('<I',d,0x230)[0],"
        "'relocatable_kernel=%d' % d[0x234], 'xloadflags=%d' % struct.unpack_from('<H',d,0x236)[0],"
        "'pref_address=%d' % struct.unpack_from('<Q',d,0x258)[0],"
        "'init_size=%d' % struct.unpack_from('<I',d,0x260)[0],"
        "'handover_offset=%d' % struct.unpack_from('<I',d,0x264)[0],"
        "'kernel_info_offset=%d' % struct.unpack_from('<I',d,0x268)[0])"))
    return {k: v if k == "hdrs" else int(v) for k, v in kv.items()}


def x86_kernel(root: Path, abi: str, rel: str):
    ev = mx.Evidence(root)
    full = root / rel
    described = ev.run(["arch", "kernel_version"], f"file -b {rel}")
    h = header_facts(ev, rel)
    assert h["hdrs"] == "HdrS" and h["boot_flag"] == 0xAA55, h
    string_at = 0x200 + h["kernel_version"]
    with full.open("rb") as f:
        f.seek(string_at)
        chunk = f.read(256)
    version_string = chunk[:chunk.index(b"\0")].decode("ascii")
    ev.run("kernel_version", f"od -A x -t c -j {string_at} -N 16 {rel}")
    pe = ev.kv(["efi_stub"], mx.py1(
        "import struct;d=open('" + rel + "','rb').read(0x400);"
        "o=struct.unpack_from('<I',d,0x3c)[0];print('pe_signature=%s' % d[o:o+4].hex(),"
        "'pe_machine=%d' % struct.unpack_from('<H',d,o+4)[0],"
        "'opt_size=%d' % struct.unpack_from('<H',d,o+20)[0])"))
    cert = ev.kv("signed", mx.py1(
        "import struct;d=open('" + rel + "','rb').read(0x400);o=struct.unpack_from('<I',d,0x3c)[0];"
        "m=struct.unpack_from('<H',d,o+24)[0];dd=o+24+(112 if m==0x20b else 96)+4*8;"
        "print('cert_offset=%d' % struct.unpack_from('<I',d,dd)[0], 'cert_size=%d' % "
        "struct.unpack_from('<I',d,dd+4)[0])"))
    size = full.stat().st_size
    facts = {
        "arch": "x86_64" if h["xloadflags"] & 1 else "x86",
        "endianness": "little",
        "efi_stub": bool(h["mz"]) and pe["pe_signature"] == "50450000",
        "relocatable": bool(h["relocatable_kernel"]),
        "kernel_version": version_string.split(" ", 1)[0],
        "protocol": f"{h['version'] >> 8}.{h['version'] & 0xff:02d}",
        "kernel_64": bool(h["xloadflags"] & 1),
        "kernel_alignment": h["kernel_alignment"],
        "pref_address": h["pref_address"],
        "init_size": h["init_size"],
        "pe_machine": int(pe["pe_machine"]),
        "signed": int(cert["cert_size"]) > 0,
    }
    assert ("x86-64" in described or "x86 boot executable" in described), described
    ranges: list[dict] = []
    mx.add_range(ranges, full, 0, 0x400, "boot sector (MZ, e_lfanew, PE/COFF headers and "
                 "section table) and the setup header at 0x1f1 (ends at 0x26c)")
    mx.add_range(ranges, full, string_at, len(version_string) + 1,
                 "kernel version string at 0x200 + kernel_version, NUL included")
    cert_offset, cert_size = int(cert["cert_offset"]), int(cert["cert_size"])
    if cert_size:
        mx.add_range(ranges, full, cert_offset, min(cert_size, mx.CERT_KEEP_MAX),
                     "Authenticode certificate table (PE data directory 4), whole")
    obs = {"file_size": size, "setup_sects": h["setup_sects"], "loadflags": h["loadflags"],
           "xloadflags": h["xloadflags"], "handover_offset": h["handover_offset"],
           "kernel_info_offset": h["kernel_info_offset"],
           "version_string": version_string,
           "cert_table": {"offset": cert_offset, "size": cert_size,
                          "ends_at_eof": cert_offset + cert_size == size},
           "system_map": "stub"}
    expected = json.dumps({"facts": facts, "fact_notes": {
        "relocatable": "relocatable_kernel at 0x234 (protocol 2.05+), python struct",
        "kernel_64": "xloadflags bit 0 (XLF_KERNEL_64) at 0x236, python struct",
        "kernel_version": "first word of the string at 0x200 + kernel_version (0x20e); "
                          "file(1) prints the same string"},
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
- from: Debian 12 (bookworm) main archive, fetched with `apt-get download`
  (if the archive has moved on: snapshot.debian.org)
- sha256 of the .deb: `{deb_sha256}`
- file in the package: `{path}`, {size} bytes, sha256 `{sha256}`
- also copied verbatim: `config` (the package's `boot/config-*`)
- `symbols`: none (Debian's boot/System.map is a one-line stub; no nm possible)
- `expected.json`: facts derived from file(1), od and python3 struct one-liners run on
  the full file at the boot protocol's offsets (commands and outputs recorded); kimage
  is not used.
- licence: Linux kernel binary, GPL-2.0; corresponding source: Debian source package
  `linux (= {linux})`.

## Kept ranges

| offset | length | why |
|---|---|---|
{rows}

## Regenerate

```sh
(cd build/x86 && apt-get download {package}={version})
python3 corpus/real/make_excerpts_x86.py --deb build/x86/{package}_{version}_{arch}.deb
```

Needs dpkg-deb, file, od and python3. Output is deterministic for the same .deb and tool
versions.
"""


def process(deb: Path, out_root: Path) -> str:
    fields = {f: mx.deb_field(deb, f) for f in ("Package", "Version", "Architecture",
                                                "Source", "Built-Using")}
    abi = re.fullmatch(r"linux-image-(\d.*)", fields["Package"]).group(1)
    name = f"debian-{abi}"
    with tempfile.TemporaryDirectory(prefix="kimage-real-") as tmp:
        root = Path(tmp)
        mx.sh(f"dpkg-deb -x '{deb}' '{root}'", root)
        rel = f"boot/vmlinuz-{abi}"
        ranges, facts, obs, expected = x86_kernel(root, abi, rel)
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
    ap.add_argument("--deb", required=True, type=Path, help="a linux-image-*-amd64 .deb")
    ap.add_argument("--out", type=Path, default=OUT_DIR_DEFAULT)
    args = ap.parse_args(argv)
    print(process(args.deb.resolve(), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
