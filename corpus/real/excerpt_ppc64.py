"""The excerpt of a Debian ppc64el kernel package's vmlinux (corpus/real/make_excerpts.py):
the ranges kept, the facts and the evidence for each, from the ELF header, the head at
the first PT_LOAD (``__run_at_load`` at +0x5c) and the package's config and System.map."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from excerpt_tools import (
    FACT_KEYS,
    Evidence,
    Result,
    ToolError,
    add_range,
    expected_json,
    find_banners,
    grep_lines,
    py1,
    sh,
    symbols_from_nm,
    system_map_lines,
    u32_at,
)

RUN0 = 0x72756E30
PPC64_KEYS = ["elf_machine", "elf_type", "head_offset", "entry"]


def ppc64_kernel(root: Path, abi: str, rel: str) -> Result:
    path = root / rel
    crel = f"boot/config-{abi}"
    ev = Evidence(root)
    facts: dict = dict.fromkeys(FACT_KEYS)
    obs: dict = {}

    file_out = ev.run(["arch", "endianness"], f"file -b {rel}").strip()
    hcmd = f"readelf -h {rel}"
    hdr = sh(hcmd, root)
    machine = grep_lines(hdr, r"^\s*Machine:")
    if "PowerPC64" not in machine:
        raise ToolError(f"not a PowerPC64 ELF: {machine}")
    ev.add(["arch", "elf_machine"], hcmd, grep_lines(hdr, r"^\s*(Class|Machine):"))
    facts["arch"] = "ppc64"
    data = grep_lines(hdr, r"^\s*Data:")
    ev.add("endianness", hcmd, data)
    facts["endianness"] = "little" if "little endian" in data else "big"
    if ("LSB" if facts["endianness"] == "little" else "MSB") not in file_out:
        raise ToolError(f"file(1) disagrees on endianness: {file_out}")
    ev.add("elf_type", hcmd, grep_lines(hdr, r"^\s*Type:"))
    ent = grep_lines(hdr, r"Entry point address:")
    ev.add("entry", hcmd, ent)
    ev.add("observations.e_flags", hcmd, grep_lines(hdr, r"^\s*Flags:"))
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
    obs["elf_type_name"] = grep_lines(hdr, r"^\s*Type:").split(":", 1)[1].strip()

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
    obs["head_word_0x30"] = u32_at(path, head + 0x30, facts["endianness"])
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

    return ranges, facts, obs, sym_lines, expected_json(ev, facts, obs, PPC64_KEYS)
