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

Only the Python standard library is used.  Nothing here uses kimage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

FORMAT = "kimage-excerpt/1"
OUT_DIR_DEFAULT = Path(__file__).resolve().parent

SYMBOLS = [
    "_text", "_stext", "_end", "_etext", "__run_at_load", "__secondary_hold",
    "__secondary_hold_spinloop", "__secondary_hold_acknowledge", "__start", "primary_entry",
    "__efistub_efi_pe_entry", "efi_pe_entry", "_edata", "__bss_start", "__bss_stop",
    "__start_interrupts",
]

STUB_MAP_MARK = "The real System.map is in"
CERT_KEEP_MAX = 16 * 1024
BANNER_RE = re.compile(rb"^Linux version (\S+) \(.*\) #\S* .*\n$", re.S)
RUN0 = 0x72756E30

# Facts every kernel gets (None = not defined for that image type; see "fact_notes").
FACT_KEYS = [
    "arch", "endianness", "page_size", "placement", "text_offset", "image_size", "efi_stub",
    "relocatable", "run_at_load", "kernel_version",
]
ARM64_KEYS = ["flags", "pe_offset", "pe_machine", "size_of_image", "signed"]
PPC64_KEYS = ["elf_machine", "elf_type", "head_offset", "entry"]


class ToolError(RuntimeError):
    pass


def sh(cmd: str, cwd: Path) -> str:
    """Run a shell command with a C locale; return stdout (raise on failure)."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    res = subprocess.run(
        cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True, errors="replace"
    )
    if res.returncode != 0:
        raise ToolError(f"command failed ({res.returncode}): {cmd}\n{res.stderr}")
    return res.stdout


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def py1(code: str) -> str:
    """A ``python3 -c`` one-liner as a shell command (code must not contain double quotes)."""
    assert '"' not in code and "$" not in code and "`" not in code
    return f'python3 -c "{code}"'


class Evidence:
    """Runs the independent tools in the unpacked package root and records what they said."""

    def __init__(self, root: Path):
        self.root = root
        self.items: list[dict] = []

    def run(self, fact: str | list[str], cmd: str, keep: str | None = None) -> str:
        """Run ``cmd``; record it (lines matching ``keep`` only) for each fact in ``fact``."""
        out = sh(cmd, self.root)
        lines = out.rstrip("\n").splitlines()
        if keep is not None:
            lines = [ln for ln in lines if re.search(keep, ln)]
            if not lines:
                raise ToolError(f"no line matching {keep!r} in output of: {cmd}\n{out}")
        for f in [fact] if isinstance(fact, str) else fact:
            self.items.append({"fact": f, "command": cmd, "output": "\n".join(lines)})
        return out

    def add(self, fact: str | list[str], cmd: str, output: str) -> None:
        """Record the output of a command that was already run."""
        for f in [fact] if isinstance(fact, str) else fact:
            self.items.append({"fact": f, "command": cmd, "output": output})

    def kv(self, fact: str | list[str], cmd: str) -> dict[str, str]:
        """Run a one-liner printing ``key=value`` pairs; return them."""
        out = self.run(fact, cmd)
        return dict(tok.split("=", 1) for tok in out.split() if "=" in tok)


# --------------------------------------------------------------------------------------------
# byte ranges


def add_range(ranges: list[dict], data_path: Path, offset: int, length: int, why: str) -> None:
    with data_path.open("rb") as f:
        f.seek(offset)
        blob = f.read(length)
    if len(blob) != length:
        raise ValueError(f"range {offset:#x}+{length:#x} runs past the end of {data_path}")
    ranges.append({"offset": offset, "length": length, "why": why, "hex": blob.hex()})


def finish_ranges(ranges: list[dict]) -> list[dict]:
    ranges = sorted(ranges, key=lambda r: (r["offset"], r["length"]))
    out: list[dict] = []
    for r in ranges:
        if out and r["offset"] < out[-1]["offset"] + out[-1]["length"]:
            prev = out[-1]
            a = bytes.fromhex(prev["hex"])
            b = bytes.fromhex(r["hex"])
            start = prev["offset"]
            end = max(start + len(a), r["offset"] + len(b))
            merged = bytearray(end - start)
            merged[: len(a)] = a
            merged[r["offset"] - start : r["offset"] - start + len(b)] = b
            prev.update(
                length=len(merged), why=prev["why"] + "; " + r["why"], hex=merged.hex()
            )
        else:
            out.append(dict(r))
    for a, b in zip(out, out[1:], strict=False):
        assert a["offset"] + a["length"] <= b["offset"]
    return out


def find_banners(ev: Evidence, rel: str, data_path: Path) -> list[dict]:
    """All full ``Linux version`` banners (grep -boa), each read up to and including its NUL."""
    out = ev.run("kernel_version", f"grep -boa 'Linux version [0-9]' {rel}")
    banners = []
    with data_path.open("rb") as f:
        for line in out.splitlines():
            off = int(line.split(":", 1)[0])
            f.seek(off)
            chunk = f.read(1024)
            nul = chunk.find(b"\0")
            if nul < 0:
                continue
            text = chunk[: nul + 1]
            m = BANNER_RE.match(text[:-1])
            if not m or b"%" in text:  # a printk format or a fragment, not the banner
                continue
            build = re.search(rb"\) #(\S*) ", text)
            banners.append(
                {
                    "offset": off,
                    "length": len(text),
                    "text": text[:-1].decode("ascii", "replace"),
                    "version": m.group(1).decode(),
                    "build": build.group(1).decode() if build else "",
                }
            )
    if not banners:
        raise ToolError("no full 'Linux version' banner found")
    return banners


# --------------------------------------------------------------------------------------------
# config / symbols helpers


def symbols_from_nm(ev: Evidence, rel: str) -> list[str]:
    names = "|".join(re.escape(s) for s in SYMBOLS)
    out = ev.run(
        "symbols", f"nm -n {rel} | grep -E ' ({names})$'", keep=r"."
    )
    return out.rstrip("\n").splitlines()


def system_map_lines(root: Path, abi: str) -> tuple[list[str], bool]:
    """(subset lines, is_stub) from the package's own System.map."""
    path = root / "boot" / f"System.map-{abi}"
    if not path.exists():
        return [], True
    text = path.read_text(errors="replace")
    if STUB_MAP_MARK in text and len(text.splitlines()) <= 2:
        return [], True
    want = set(SYMBOLS)
    return [ln for ln in text.splitlines() if ln.split()[-1:] and ln.split()[-1] in want], False


# --------------------------------------------------------------------------------------------
# arm64 Image

Result = tuple[list[dict], dict, dict, list[str], str]


def arm64_kernel(root: Path, abi: str, rel: str) -> Result:
    path = root / rel
    crel = f"boot/config-{abi}"
    ev = Evidence(root)
    facts: dict = dict.fromkeys(FACT_KEYS)
    obs: dict = {}

    file_cmd = f"file -b {rel}"
    file_out = ev.run(["arch", "endianness", "page_size"], file_cmd).strip()
    if "ARM64 boot executable Image" not in file_out:
        raise ToolError(f"file(1) does not call {rel} an ARM64 Image: {file_out}")
    facts["arch"] = "arm64"
    ev.run(["efi_stub", "text_offset", "image_size", "flags", "pe_offset"],
           f"od -A x -t x1 -N 64 {rel}")

    hdr = ev.kv(
        ["efi_stub", "text_offset", "image_size", "flags", "pe_offset"],
        py1(
            "import struct; d=open('" + rel + "','rb').read(64); mz=d[:2]==b'MZ'; "
            "c0,c1,to,sz,fl=struct.unpack_from('<IIQQQ',d); m,r5=struct.unpack_from('<4sI',d,56); "
            "print(f'mz={mz} code0={c0:#010x} code1={c1:#010x} text_offset={to} '"
            "f'image_size={sz} flags={fl} magic={m.hex()} pe_offset={r5}')"
        ),
    )
    if hdr["magic"] != b"ARMd".hex():
        raise ToolError(f"no ARMd magic in {rel}")
    facts["efi_stub"] = hdr["mz"] == "True"
    facts["text_offset"] = int(hdr["text_offset"])
    facts["image_size"] = int(hdr["image_size"])
    facts["flags"] = int(hdr["flags"])
    facts["pe_offset"] = int(hdr["pe_offset"])

    fl = ev.kv(
        ["endianness", "page_size", "placement"],
        py1(
            "import struct; fl=struct.unpack_from('<Q',open('" + rel + "','rb').read(32),24)[0]; "
            "print(f'flags={fl:#x} be_bit0={fl&1} page_size_bits1_2={(fl>>1)&3} "
            "placement_bit3={(fl>>3)&1} reserved_bits4_63={fl>>4:#x}')"
        ),
    )
    facts["endianness"] = "big" if fl["be_bit0"] == "1" else "little"
    if facts["endianness"] not in file_out:
        raise ToolError(f"file(1) disagrees on endianness: {file_out}")
    facts["page_size"] = {"0": None, "1": 4096, "2": 16384, "3": 65536}[fl["page_size_bits1_2"]]
    if facts["page_size"] and f"{facts['page_size'] // 1024}K pages" not in file_out:
        raise ToolError(f"file(1) disagrees on page size: {file_out}")
    facts["placement"] = "anywhere" if fl["placement_bit3"] == "1" else "dram-base"
    ev.run("endianness",
           f"grep -E '^CONFIG_CPU_(BIG|LITTLE)_ENDIAN=|^# CONFIG_CPU_BIG_ENDIAN ' {crel}")
    ev.run("page_size", f"grep -E '^CONFIG_ARM64_(4K|16K|64K)_PAGES=' {crel}")

    pe = ev.kv(
        ["pe_offset", "pe_machine", "size_of_image", "signed"],
        py1(
            "import struct; d=open('" + rel + "','rb').read(4096); "
            "o=struct.unpack_from('<I',d,0x3c)[0]; mach,nsec=struct.unpack_from('<HH',d,o+4); "
            "opt=o+24; mg=struct.unpack_from('<H',d,opt)[0]; "
            "ep=struct.unpack_from('<I',d,opt+16)[0]; soi=struct.unpack_from('<I',d,opt+56)[0]; "
            "nrva=struct.unpack_from('<I',d,opt+108)[0]; "
            "co,cs=struct.unpack_from('<II',d,opt+112+4*8) if nrva>4 else (0,0); "
            "print(f'pe_offset={o:#x} signature={d[o:o+4].hex()} machine={mach:#x} '"
            "f'sections={nsec} opt_magic={mg:#x} entry_point={ep:#x} size_of_image={soi:#x} '"
            "f'number_of_rva_and_sizes={nrva} cert_table_offset={co:#x} cert_table_size={cs:#x}')"
        ),
    )
    if pe["signature"] != b"PE\0\0".hex():
        raise ToolError("no PE signature at res5")
    if int(pe["pe_offset"], 16) != facts["pe_offset"]:
        raise ToolError("pe_offset mismatch")
    facts["pe_machine"] = int(pe["machine"], 16)
    facts["size_of_image"] = int(pe["size_of_image"], 16)
    cert_off = int(pe["cert_table_offset"], 16)
    cert_size = int(pe["cert_table_size"], 16)

    objdump = next(
        (t for t in ("aarch64-linux-gnu-objdump", "objdump") if shutil.which(t)), None
    )
    if objdump:
        cmd = f"{objdump} -p {rel}"
        try:
            ev.run(["pe_machine", "size_of_image", "signed"], cmd,
                   keep=r"file format|^SizeOfImage|^AddressOfEntryPoint|Security Directory")
        except ToolError:
            ev.add("size_of_image", cmd,
                   "(this objdump cannot read pei-aarch64; the python struct reading stands)")

    facts["signed"] = False
    if cert_size:
        cert = ev.kv(
            "signed",
            py1(
                "import os,struct; p='" + rel + "'; d=open(p,'rb').read(4096); "
                "o=struct.unpack_from('<I',d,0x3c)[0]; "
                "co,cs=struct.unpack_from('<II',d,o+24+112+4*8); "
                "f=open(p,'rb'); f.seek(co); ln,rev,typ=struct.unpack('<IHH',f.read(8)); "
                "print(f'file_size={os.path.getsize(p)} cert_table_end={co+cs} '"
                "f'win_certificate_length={ln:#x} revision={rev:#06x} certificate_type={typ}')"
            ),
        )
        facts["signed"] = (cert["certificate_type"] == "2"
                           and int(cert["win_certificate_length"], 16) > 0)
        obs["cert_table"] = {
            "offset": cert_off,
            "size": cert_size,
            "win_certificate_type": int(cert["certificate_type"]),
            "ends_at_eof": int(cert["file_size"]) == cert_off + cert_size,
        }

    reloc = ev.run("relocatable", f"grep -E '^CONFIG_RELOCATABLE=|^# CONFIG_RELOCATABLE ' {crel}")
    facts["relocatable"] = reloc.strip() == "CONFIG_RELOCATABLE=y"

    # primary_entry = target of the branch in code1 (offset 4)
    code1 = int(hdr["code1"], 16)
    if code1 >> 26 != 0b000101:
        raise ToolError(f"code1 {code1:#010x} is not a B instruction")
    imm = code1 & 0x3FFFFFF
    if imm & (1 << 25):
        imm -= 1 << 26
    target = 4 + 4 * imm
    ev.run(
        "observations.primary_entry_offset",
        py1(
            "import struct; c=struct.unpack_from('<I',open('" + rel + "','rb').read(8),4)[0]; "
            "i=c&0x3ffffff; i-=(i>>25)<<26; print(f'code1={c:#010x} imm26={i} target={4+4*i:#x}')"
        ),
    )
    ev.run("observations.primary_entry_offset", f"od -A x -t x4 -j {target:#x} -N 16 {rel}")
    obs["primary_entry_offset"] = target
    obs["pe_address_of_entry_point"] = int(pe["entry_point"], 16)
    obs["pe_sections"] = int(pe["sections"])
    obs["pe_number_of_rva_and_sizes"] = int(pe["number_of_rva_and_sizes"])
    obs["file_size"] = path.stat().st_size

    banners = find_banners(ev, rel, path)
    versions = {b["version"] for b in banners}
    if len(versions) != 1:
        raise ToolError(f"banners disagree: {versions}")
    facts["kernel_version"] = versions.pop()
    obs["banners"] = [{k: b[k] for k in ("offset", "length", "build")} for b in banners]

    # ---- ranges
    ranges: list[dict] = []
    add_range(ranges, path, 0, 0x1000,
              "arm64 Image header (64 B), PE offset, PE/COFF header, optional header and "
              "section table (rest of the first 4 KiB)")
    if cert_size:
        keep = min(cert_size, CERT_KEEP_MAX)
        why = (f"Authenticode certificate table (PE data directory 4: offset {cert_off:#x}, "
               f"size {cert_size:#x}), ")
        why += "whole" if keep == cert_size else f"first {keep} bytes only (truncated)"
        add_range(ranges, path, cert_off, keep, why)
    for b in banners:
        kind = (f"the banner with build number '#{b['build']}' (linux_banner)" if b["build"]
                else "leftover copy with an empty build number ('# SMP'), presumably the "
                "overridden __weak linux_banner of init/version.o (6.1+ kbuild)")
        add_range(ranges, path, b["offset"], b["length"],
                  f"'Linux version' string incl. NUL: {kind}")
    add_range(ranges, path, target, 16,
              f"16 bytes at primary_entry = target of 'b' in code1 ({code1:#010x})")

    sym_lines, stub = system_map_lines(root, abi)
    if stub:
        sym_lines = ["# no symbols: Debian ships a stub System.map"]
    obs["system_map"] = "stub" if stub else "real"
    ev.run("observations.system_map", f"cat boot/System.map-{abi}")

    return ranges, facts, obs, sym_lines, _pack(ev, facts, obs, ARM64_KEYS)


# --------------------------------------------------------------------------------------------
# ppc64 vmlinux


def ppc64_kernel(root: Path, abi: str, rel: str) -> Result:
    path = root / rel
    crel = f"boot/config-{abi}"
    ev = Evidence(root)
    facts: dict = dict.fromkeys(FACT_KEYS)
    obs: dict = {}

    file_out = ev.run(["arch", "endianness"], f"file -b {rel}").strip()
    hcmd = f"readelf -h {rel}"
    hdr = sh(hcmd, root)
    machine = _grep(hdr, r"^\s*Machine:")
    if "PowerPC64" not in machine:
        raise ToolError(f"not a PowerPC64 ELF: {machine}")
    ev.add(["arch", "elf_machine"], hcmd, _grep(hdr, r"^\s*(Class|Machine):"))
    facts["arch"] = "ppc64"
    data = _grep(hdr, r"^\s*Data:")
    ev.add("endianness", hcmd, data)
    facts["endianness"] = "little" if "little endian" in data else "big"
    if ("LSB" if facts["endianness"] == "little" else "MSB") not in file_out:
        raise ToolError(f"file(1) disagrees on endianness: {file_out}")
    ev.add("elf_type", hcmd, _grep(hdr, r"^\s*Type:"))
    ent = _grep(hdr, r"Entry point address:")
    ev.add("entry", hcmd, ent)
    ev.add("observations.e_flags", hcmd, _grep(hdr, r"^\s*Flags:"))
    facts["entry"] = int(ent.split(":", 1)[1].strip(), 16)

    raw = ev.kv(
        ["endianness", "elf_machine", "elf_type", "entry"],
        py1(
            "import struct; e=open('" + rel + "','rb').read(64); bo='<>'[e[5]-1]; "
            "t,m,v,ent,ph,sho,fl,ehs,phes,phn,shes,shn,shx="
            "struct.unpack_from(bo+'HHIQQQIHHHHHH',e,16); "
            "print(f'ei_class={e[4]} ei_data={e[5]} e_type={t} e_machine={m} e_entry={ent:#x} '"
            "f'e_phoff={ph} e_phnum={phn} e_shoff={sho} e_shnum={shn} e_shstrndx={shx} '"
            "f'e_flags={fl:#x}')"
        ),
    )
    if int(raw["ei_data"]) != (1 if facts["endianness"] == "little" else 2):
        raise ToolError("readelf and struct disagree on EI_DATA")
    facts["elf_machine"] = int(raw["e_machine"])
    facts["elf_type"] = int(raw["e_type"])
    if facts["entry"] != int(raw["e_entry"], 16):
        raise ToolError("readelf and struct disagree on e_entry")
    obs["e_flags"] = int(raw["e_flags"], 16)
    obs["elf_machine_name"] = machine.split(":", 1)[1].strip()
    obs["elf_type_name"] = _grep(hdr, r"^\s*Type:").split(":", 1)[1].strip()

    phdrs = ev.run("head_offset", f"readelf -l -W {rel}", keep=r"^\s*(Type|LOAD|NOTE)\s")
    rows = [ln.split() for ln in phdrs.splitlines() if ln.split()[:1] in (["LOAD"], ["NOTE"])]
    loads = [r for r in rows if r[0] == "LOAD"]
    notes = [r for r in rows if r[0] == "NOTE"]
    facts["head_offset"] = head = int(loads[0][1], 16)

    facts["efi_stub"] = False
    ev.run("efi_stub", f"od -A x -t x1 -N 4 {rel}")

    w = ev.kv(
        ["run_at_load", "head_offset"],
        py1(
            "import struct; f=open('" + rel + "','rb'); e=f.read(64); bo='<>'[e[5]-1]; "
            "phoff,=struct.unpack_from(bo+'Q',e,32); phn,=struct.unpack_from(bo+'H',e,56); "
            "f.seek(phoff); ph=[struct.unpack_from(bo+'IIQ',f.read(56)) for _ in range(phn)]; "
            "off=[p[2] for p in ph if p[0]==1][0]; f.seek(off+0x5c); "
            "w,=struct.unpack(bo+'I',f.read(4)); "
            "print(f'byte_order={bo} head_offset={off:#x} word_at_head_0x5c={w:#010x}')"
        ),
    )
    if int(w["head_offset"], 16) != head:
        raise ToolError("readelf and struct disagree on the first PT_LOAD offset")
    word = int(w["word_at_head_0x5c"], 16)
    facts["run_at_load"] = "run0" if word == RUN0 else word
    ev.run("run_at_load", f"od -A x -t x1 -j {head + 0x5c:#x} -N 4 {rel}")
    ev.run("run_at_load", f"nm {rel} | grep -E ' (__run_at_load|_stext)$'")
    ev.run("observations.head_words", f"od -A x -t x4 -j {head:#x} -N 0x60 {rel}")

    cfg = ev.run(
        "page_size", f"grep -E '^(# )?CONFIG_PPC_(4K|16K|64K|256K)_PAGES[= ]' {crel}"
    )
    sizes = {"4K": 4096, "16K": 16384, "64K": 65536, "256K": 262144}
    chosen = [m.group(1) for m in re.finditer(r"^CONFIG_PPC_(\w+)_PAGES=y", cfg, re.M)]
    facts["page_size"] = sizes[chosen[0]] if len(chosen) == 1 else None
    reloc = ev.run("relocatable", f"grep -E '^CONFIG_RELOCATABLE=|^# CONFIG_RELOCATABLE ' {crel}")
    facts["relocatable"] = reloc.strip() == "CONFIG_RELOCATABLE=y"
    ev.run("endianness",
           f"grep -E '^CONFIG_CPU_(BIG|LITTLE)_ENDIAN=|^# CONFIG_CPU_BIG_ENDIAN ' {crel}")

    banners = find_banners(ev, rel, path)
    versions = {b["version"] for b in banners}
    if len(versions) != 1:
        raise ToolError(f"banners disagree: {versions}")
    facts["kernel_version"] = versions.pop()
    lb = ev.run("kernel_version", f"nm {rel} | grep -E ' (linux_banner|linux_proc_banner)$'")
    p_vaddr = int(loads[0][2], 16)
    named = {}
    for ln in lb.splitlines():
        addr, _t, name = ln.split()
        named[head + int(addr, 16) - p_vaddr] = name
    for b in banners:
        b["symbol"] = named.get(b["offset"])
    obs["banners"] = [{k: b[k] for k in ("offset", "length", "build", "symbol")} for b in banners]
    obs["pt_load_vaddr"] = p_vaddr
    obs["pt_load_paddr"] = int(loads[0][3], 16)
    obs["pt_load_filesz"] = int(loads[0][4], 16)
    obs["pt_load_memsz"] = int(loads[0][5], 16)
    obs["phdr_types"] = [r[0] for r in rows]
    obs["head_word_0x30"] = _u32(path, head + 0x30, facts["endianness"])
    obs["file_size"] = path.stat().st_size

    # ---- ranges (layout from the raw header, cross-checked against readelf above)
    with path.open("rb") as f:
        e = f.read(64)
    bo = "<" if e[5] == 1 else ">"
    phoff, shoff = struct.unpack_from(bo + "QQ", e, 32)
    ehsize, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(bo + "6H", e, 52)
    ranges: list[dict] = []
    if phoff == ehsize:
        add_range(ranges, path, 0, phoff + phnum * phentsize,
                  f"ELF header ({ehsize} B) + program header table ({phnum} x {phentsize} B)")
    else:
        add_range(ranges, path, 0, ehsize, "ELF header")
        add_range(ranges, path, phoff, phnum * phentsize,
                  f"program header table ({phnum} x {phentsize} B)")
    add_range(ranges, path, shoff, shnum * shentsize,
              f"section header table ({shnum} x {shentsize} B)")
    with path.open("rb") as f:
        f.seek(shoff + shstrndx * shentsize)
        sh_ent = f.read(shentsize)
    str_off, str_size = struct.unpack_from(bo + "QQ", sh_ent, 24)
    add_range(ranges, path, str_off, str_size, f".shstrtab (section {shstrndx})")
    for n in notes:
        add_range(ranges, path, int(n[1], 16), int(n[4], 16),
                  "PT_NOTE segment contents (.notes: GNU build-id, Linux and PowerPC notes)")
    add_range(ranges, path, head, 0x200,
              "first PT_LOAD p_offset .. +0x200: the 256-byte head (_stext) and the start of "
              "the exception vectors")
    for b in banners:
        kind = (b["symbol"] or "no nm symbol: overridden __weak copy") + (
            "" if b["build"] else ", empty build number '# SMP'")
        add_range(ranges, path, b["offset"], b["length"],
                  f"'Linux version' string incl. NUL ({kind})")

    sym_lines = symbols_from_nm(ev, rel)
    _unused, stub = system_map_lines(root, abi)
    if not sym_lines:
        sym_lines = (["# no symbols: nm found none and Debian ships a stub System.map"]
                     if stub else _unused)
    obs["system_map"] = "stub" if stub else "real"
    ev.run("observations.system_map", f"cat boot/System.map-{abi}")

    return ranges, facts, obs, sym_lines, _pack(ev, facts, obs, PPC64_KEYS)


def _u32(path: Path, off: int, endianness: str) -> int:
    with path.open("rb") as f:
        f.seek(off)
        return struct.unpack(("<" if endianness == "little" else ">") + "I", f.read(4))[0]

# --------------------------------------------------------------------------------------------


FACT_NOTES = {
    "arm64": {
        "run_at_load": "null: ppc64-only field",
        "relocatable": "from CONFIG_RELOCATABLE in the package config (not visible in the header)",
        "size_of_image": "python struct on the PE optional header (objdump -p shown as a check)",
        "pe_machine": "python struct on the COFF header",
    },
    "ppc64": {
        "placement": "null: arm64-only field",
        "text_offset": "null: arm64-only field",
        "image_size": "null: no such header field in a ppc64 vmlinux "
        "(see observations.pt_load_memsz)",
        "elf_machine": "e_machine number (readelf name in observations.elf_machine_name)",
        "elf_type": "e_type number (readelf name in observations.elf_type_name)",
        "page_size": "from CONFIG_PPC_*K_PAGES in the package config",
        "relocatable": "from CONFIG_RELOCATABLE in the package config",
    },
}


def _grep(text: str, pat: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if re.search(pat, ln))


def _pack(ev: Evidence, facts: dict, obs: dict, extra: list[str]) -> str:
    keys = FACT_KEYS + extra
    missing = set(facts) - set(keys)
    assert not missing, missing
    ordered = {k: facts.get(k) for k in keys}
    arch = ordered["arch"]
    for k in keys:
        if not any(it["fact"] == k for it in ev.items):
            if ordered[k] is None:
                continue
            raise AssertionError(f"fact {k} has no evidence")
    tools = {}
    for name, cmd in (("file", "file --version"), ("readelf", "readelf --version"),
                      ("nm", "nm --version"), ("od", "od --version"),
                      ("python3", "python3 --version")):
        try:
            tools[name] = sh(cmd, ev.root).splitlines()[0]
        except (ToolError, IndexError):
            tools[name] = "unknown"
    doc = {
        "facts": ordered,
        "fact_notes": FACT_NOTES[arch],
        "observations": obs,
        "evidence": ev.items,
        "tools": tools,
        "cwd": "root of the unpacked package (dpkg-deb -x PACKAGE.deb DIR; cd DIR)",
    }
    return json.dumps(doc, indent=1) + "\n"


def deb_field(deb: Path, field: str) -> str:
    return sh(f"dpkg-deb -f '{deb}' {field}", deb.parent).strip()


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
        (outdir / "image.excerpt.json").write_text(_dump_excerpt(excerpt))
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


def _dump_excerpt(excerpt: dict) -> str:
    """JSON with one range per line (stable, diff-friendly)."""
    head = json.dumps({"format": excerpt["format"], "source": excerpt["source"]}, indent=1)
    body = ",\n".join("  " + json.dumps(r) for r in excerpt["ranges"])
    return head[:-2] + ',\n "ranges": [\n' + body + "\n ]\n}\n"


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
