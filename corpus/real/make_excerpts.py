#!/usr/bin/env python3
"""Cut small, reproducible excerpts out of real Debian kernel packages.

Usage (from the repository root, after corpus/real/fetch.sh has downloaded the packages):

    python3 corpus/real/make_excerpts.py --deb-dir DIR

For every ``linux-image-*.deb`` in DIR (``-dbg`` packages are skipped) the package is unpacked
with ``dpkg-deb -x`` into a temporary directory and ``corpus/real/debian-<abi>/`` is written:

* ``image.excerpt.json``  the kept byte ranges of the boot image (format ``kimage-excerpt/1``);
  materialise by creating a sparse file of ``source.size`` zero bytes and writing each range.
* ``config``              the package's ``boot/config-*``, verbatim.
* ``symbols``             System.map-format subset of a fixed symbol list (``nm -n`` output).
* ``expected.json``       expected facts; every fact is backed by the command that produced the
  evidence and its (relevant) output.  The commands are run here, on the full file, by external
  tools (file, od, readelf, nm, grep, ``python3 -c`` struct one-liners, objdump if present); they
  are recorded relative to the package root, so they can be re-run by hand after ``dpkg-deb -x``.
* ``PROVENANCE.md``       where the bytes come from and how to regenerate them.

What is kept of an arm64 Image and why is excerpt_arm64.py's, of a ppc64 vmlinux
excerpt_ppc64.py's; the tools, evidence and ranges they share are excerpt_tools.py's (also
used by make_excerpts_x86.py and make_excerpts_riscv.py). Only the Python standard library
is used.  Nothing here uses kimage.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from excerpt_arm64 import arm64_kernel
from excerpt_ppc64 import ppc64_kernel
from excerpt_tools import (
    FORMAT,
    ToolError,
    deb_field,
    dump_excerpt,
    finish_ranges,
    sh,
    sha256_file,
)

OUT_DIR_DEFAULT = Path(__file__).resolve().parent


def provenance(name: str, src: dict, fields: dict, ranges: list[dict], obs: dict,
               sym_note: str) -> str:
    lines = [
        f"# {name}",
        "",
        "Excerpt of a real Debian kernel for the kimage test corpus. The full kernel is not in",
        "the repository; `image.excerpt.json` keeps only the byte ranges listed below (all other",
        "bytes read as zero when materialised).",
        "",
        f"- package: `{src['package']}` version `{src['version']}` architecture "
        f"`{src['architecture']}`",
        f"- Debian source package: `{fields['Source'] or src['package']}`"
        + (f" (Built-Using: `{fields['Built-Using']}`)" if fields["Built-Using"] else ""),
        f"- from: {_release(src['version'])} main archive, fetched with `apt-get download` "
        "(if the archive has moved on: snapshot.debian.org)",
        f"- sha256 of the .deb: `{src['deb_sha256']}`",
        f"- file in the package: `{src['path']}`, {src['size']} bytes, "
        f"sha256 `{src['sha256']}`",
        "- also copied verbatim: `config` (the package's `boot/config-*`)",
        f"- `symbols`: {sym_note}",
        "- `expected.json`: facts derived from file(1), od, readelf, nm, grep and python3 struct "
        "one-liners run on the full file (commands and outputs recorded); kimage is not used.",
        "- licence: Linux kernel binary, GPL-2.0; corresponding source: Debian source package "
        + (f"`{fields['Built-Using']}`." if fields["Built-Using"]
           else f"`{fields['Source'] or 'linux'} (= {src['version']})`."),
        "",
        "## Kept ranges",
        "",
        "| offset | length | why |",
        "|---|---|---|",
    ]
    for r in ranges:
        lines.append(f"| {r['offset']:#x} | {r['length']:#x} | {r['why']} |")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in _notes(obs)]
    lines += [
        "",
        "## Regenerate",
        "",
        "```sh",
        *(["corpus/real/fetch.sh /tmp/realk   # apt-get download, then runs:"]
          if _release(src["version"]).startswith("Debian 12") else
          ["sh loadertruth/install.sh kdump-guest   # trixie's apt-get download (see there)",
           "mkdir /tmp/realk && "
           "cp build/loadertruth/kdump-guest/debs/linux-image-*.deb /tmp/realk"]),
        "python3 corpus/real/make_excerpts.py --deb-dir /tmp/realk"
        + ("" if _release(src["version"]).startswith("Debian 12") else
           " --out corpus/kdump-guest"),
        "```",
        "",
        "Needs dpkg-deb, file, od, grep, binutils (readelf, nm); `apt-get download` of the",
        "foreign-architecture packages needs `dpkg --add-architecture arm64 ppc64el` and",
        "`apt-get update` first. Output is deterministic for the same .deb and tool versions.",
        "",
    ]
    return "\n".join(lines)


def _release(version: str) -> str:
    """The Debian release a kernel package version comes from (6.12.x-N: trixie)."""
    return "Debian 13 (trixie)" if version.startswith("6.12.") else "Debian 12 (bookworm)"


def _notes(obs: dict) -> list[str]:
    notes = []
    banners = obs.get("banners", [])
    if len(banners) > 1:
        notes.append(
            f"{len(banners)} full 'Linux version' strings: the first grep hit "
            f"({banners[0]['offset']:#x}) has an empty build number ('# SMP'); the one with "
            "'#<n>' is linux_banner. Both are kept so a first-match search behaves as on the "
            "full file."
        )
    cert = obs.get("cert_table")
    if cert:
        notes.append(
            f"Signed: Authenticode table of {cert['size']} bytes at {cert['offset']:#x}"
            + (", ending exactly at EOF (the file size includes it)" if cert["ends_at_eof"]
               else "")
            + "."
        )
    if "primary_entry_offset" in obs:
        notes.append(f"code1 branches to primary_entry at file offset "
                     f"{obs['primary_entry_offset']:#x}.")
    if "head_word_0x30" in obs:
        notes.append(f"ppc64 head: word at +0x30 = {obs['head_word_0x30']:#010x} (branch to "
                     "__start_initialization_multiplatform); see expected.json for +0x5c.")
    if obs.get("system_map") == "stub":
        notes.append("The package's boot/System.map is a one-line stub pointing to the -dbg "
                     "package.")
    return notes


def process(deb: Path, out_root: Path) -> str:
    fields = {f: deb_field(deb, f) for f in ("Package", "Version", "Architecture", "Source",
                                             "Built-Using")}
    pkg = fields["Package"]
    m = re.fullmatch(r"linux-image-(\d.*)", pkg)
    if not m or pkg.endswith("-dbg") or pkg.endswith("-unsigned"):
        raise ToolError(f"not a kernel image package: {pkg}")
    abi = m.group(1)
    name = f"debian-{abi}"
    with tempfile.TemporaryDirectory(prefix="kimage-real-") as tmp:
        root = Path(tmp)
        sh(f"dpkg-deb -x '{deb}' '{root}'", root)
        rel = next(
            (f"boot/{p}-{abi}" for p in ("vmlinuz", "vmlinux")
             if (root / "boot" / f"{p}-{abi}").exists()),
            None,
        )
        if rel is None:
            raise ToolError(f"{pkg}: no boot/vmlinu[xz]-{abi}")
        if rel.startswith("boot/vmlinuz") and fields["Architecture"] == "arm64":
            handler = arm64_kernel
        elif fields["Architecture"] in ("ppc64el", "ppc64"):
            handler = ppc64_kernel
        else:
            raise ToolError(f"{pkg}: unsupported architecture {fields['Architecture']}")
        ranges, facts, obs, sym_lines, expected = handler(root, abi, rel)
        full = root / rel
        src = {
            "package": pkg,
            "version": fields["Version"],
            "architecture": fields["Architecture"],
            "deb_sha256": sha256_file(deb),
            "path": rel,
            "size": full.stat().st_size,
            "sha256": sha256_file(full),
        }
        ranges = finish_ranges(ranges)
        excerpt = {"format": FORMAT, "source": src, "ranges": ranges}
        outdir = out_root / name
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "image.excerpt.json").write_text(dump_excerpt(excerpt))
        shutil.copyfile(root / "boot" / f"config-{abi}", outdir / "config")
        (outdir / "symbols").write_text("\n".join(sym_lines) + "\n")
        (outdir / "expected.json").write_text(expected)
        if sym_lines and sym_lines[0].startswith("#"):
            sym_note = "none (Debian's boot/System.map is a one-line stub; no nm possible)"
        else:
            sym_note = (f"{len(sym_lines)} of the requested symbols, from `nm -n` on the full "
                        "file (Debian's boot/System.map is a one-line stub)"
                        if obs.get("system_map") == "stub" else
                        f"{len(sym_lines)} symbols from the package's System.map")
        (outdir / "PROVENANCE.md").write_text(provenance(name, src, fields, ranges, obs,
                                                         sym_note))
    return name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deb-dir", required=True, type=Path,
                    help="directory holding the downloaded linux-image-*.deb files")
    ap.add_argument("--out", type=Path, default=OUT_DIR_DEFAULT,
                    help="output root (default: the directory of this script)")
    args = ap.parse_args(argv)
    debs = sorted(
        p for p in args.deb_dir.glob("linux-image-*.deb")
        if not re.search(r"-dbg_|-unsigned_", p.name)
    )
    if not debs:
        print(f"no linux-image-*.deb in {args.deb_dir}", file=sys.stderr)
        return 1
    for deb in debs:
        print(f"{deb.name} -> {args.out / process(deb.resolve(), args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
