"""The excerpt of a Debian arm64 kernel package's Image (corpus/real/make_excerpts.py):
the ranges kept, the facts and the evidence for each, from the Image header, its PE/COFF
header and the package's config and System.map."""

from __future__ import annotations

import shutil
from pathlib import Path

from excerpt_tools import (
    CERT_KEEP_MAX,
    FACT_KEYS,
    Evidence,
    Result,
    ToolError,
    add_range,
    expected_json,
    find_banners,
    py1,
    system_map_lines,
)

ARM64_KEYS = ["flags", "pe_offset", "pe_machine", "size_of_image", "signed"]


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

    return ranges, facts, obs, sym_lines, expected_json(ev, facts, obs, ARM64_KEYS)
