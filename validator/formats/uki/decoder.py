"""Unified kernel image (UKI): systemd-stub, a PE/COFF EFI application, with the kernel in
its ``.linux`` section and the initrd, command line, os-release, uname, device tree and
SBAT data in sections of their own (made by ukify or objcopy).

Recognised by its section table: a PE file (``MZ``, ``PE\\0\\0`` at e_lfanew) with a
``.linux`` section. The headers and the section table are read by the PE container's
describe (``validator.formats.pe.decoder``, the parser generated from
``specs/pe_efi_stub.ksy``); which section of a name is booted is what the stub of the
file's own version takes (``stub``: the last before 255, the first, profile 0's from 257),
MIN(SizeOfRawData, VirtualSize) bytes of it. The text
sections are read up to ``TEXT_LIMIT`` bytes each. The layer hands on the ``.linux`` bytes
(an EFI-stub Image, or a zboot PE whose layer follows) and checks what systemd-stub
requires of that kernel before it starts it (systemd v257 src/boot/linux.c linux_exec,
src/boot/pe.c pe_kernel_info): a PE image ("MZ", "PE\\0\\0") of the stub's machine with
MajorImageVersion >= 1.
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.pe import SIGNATURE
from validator.formats.pe import decoder as pe
from validator.formats.results import Unwrapped
from validator.formats.uki import (
    DTB,
    FDT_MAGIC,
    INITRD,
    LINUX,
    MAX_SECTIONS,
    MIN_KERNEL_IMAGE_VERSION,
    OSREL,
    OSREL_KEYS,
    PROFILES_SINCE,
    SECTIONS,
    TEXT_LIMIT,
    TEXT_SECTIONS,
    UNAME,
    stub,
)
from validator.io.limits import Context
from validator.model import Layer

rule("layer/uki", "info",
     "a unified kernel image (UKI): systemd-stub with the kernel in its .linux section",
     "UEFI firmware, systemd-boot and GRUB 2.12's linux command (firmware LoadImage) start "
     "the stub, which starts the kernel in .linux; kexec-tools takes a UKI from 2.0.30 "
     "(uki_image_probe), through kexec_file_load for an Image inside and also through "
     "kexec_load for a zboot inside; kexec_file_load itself, U-Boot booti and QEMU's -kernel "
     "find no ARM\\x64 magic at 0x38 and refuse it (U-Boot's bootefi starts it).",
     "UAPI group Unified Kernel Image specification; systemd v257 src/boot/stub.c; "
     "kexec-tools v2.0.30 kexec/kexec-uki.c (0c72c44, arm64 cd360f9)",
     ("kexec-tools", "kexec-file", "u-boot", "grub", "qemu"))
rule("uki/section-outside-file", "error",
     "a UKI section's data lies past the end of the file",
     "systemd-stub reads each section from the image the firmware loaded; firmware "
     "(EDK2 PeCoffLoaderLoadImage) refuses a PE whose section data is not in the file, and "
     "kexec-tools copies .linux and .initrd from the file's bytes.",
     "EDK2 MdePkg/Library/BasePeCoffLib PeCoffLoaderLoadImage (edk2-stable202211); "
     "kexec-tools v2.0.30 kexec/kexec-uki.c uki_image_probe",
     ("efi", "kexec-tools"))
rule("uki/no-default-linux", "error",
     "no .linux section among the sections systemd-stub boots by default",
     "A multi-profile UKI's sections before its first .profile section are the base; "
     "systemd-stub boots profile 0 (from the first .profile to the next) unless told "
     "otherwise, and takes each section from profile 0, else from the base. With .linux in "
     "neither, it stops with 'Image lacks .linux section'. kexec-tools ignores profiles: it "
     "takes the last .linux of the section table.",
     "systemd v257 src/boot/stub.c find_sections; src/boot/pe.c "
     "pe_locate_profile_sections; kexec-tools v2.0.30 kexec/kexec-uki.c uki_image_probe",
     ("efi",))
rule("uki/linux-not-pe", "error",
     "the kernel in the UKI's .linux section is not a PE image",
     "systemd-stub starts the kernel as a PE image: pe_kernel_info needs \"MZ\", an e_lfanew "
     "of 64 or more and \"PE\\0\\0\" there, or linux_exec stops with 'Bad kernel image'. A "
     "compressed Image (Image.gz) or an Image built without CONFIG_EFI_STUB is no PE image; "
     "ukify decompresses an Image.gz itself for this reason.",
     "systemd v257 src/boot/pe.c pe_kernel_info, verify_dos, verify_pe; src/boot/linux.c "
     "linux_exec",
     ("efi",))
rule("uki/linux-stub-too-old", "error",
     "the kernel in .linux has a PE MajorImageVersion below 1",
     "systemd-stub hands the initrd over with the LoadFile2 protocol, which a kernel's EFI "
     "stub supports from version 1.0 (MajorImageVersion 1, Linux 5.8 on arm64); "
     "pe_kernel_info returns EFI_UNSUPPORTED for an older one and on arm64 linux_exec stops "
     "with 'Bad kernel image'.",
     "systemd v257 src/boot/pe.c pe_kernel_info (\"Support for LINUX_INITRD_MEDIA_GUID was "
     "added in kernel stub 1.0\"); Linux include/linux/pe.h LINUX_EFISTUB_MAJOR_VERSION",
     ("efi",))
rule("uki/linux-machine", "error",
     "the kernel in .linux is a PE image for another machine than the stub",
     "pe_kernel_info takes the stub's own machine type (0xaa64 for an arm64 stub) or a "
     "compat entry point in a .compat section, which arm64 kernels do not have.",
     "systemd v257 src/boot/pe.c pe_kernel_info, get_compatibility_entry_address",
     ("efi",))


def section_names(view) -> list[bytes] | None:
    """The section names of a PE file, from a bounded read of its section table; None when
    ``view`` is no PE file. The probe's cheap look; ``unwrap`` reads the headers with the
    spec."""
    head = view.read(0, 0x40)
    if len(head) < 0x40 or head[:2] != b"MZ":
        return None
    lfanew = struct.unpack_from("<I", head, 0x3C)[0]
    coff = view.read(lfanew, 24) if 0x40 <= lfanew <= 0x10000 else b""
    if len(coff) < 24 or coff[:4] != SIGNATURE:
        return None
    count, opt_size = struct.unpack_from("<H", coff, 6)[0], struct.unpack_from("<H", coff, 20)[0]
    count = min(count, MAX_SECTIONS)
    table = view.read(lfanew + 24 + opt_size, 40 * count)
    return [table[i:i + 8].rstrip(b"\0") for i in range(0, len(table) - 39, 40)]


def probe(view) -> bool:
    names = section_names(view)
    return names is not None and LINUX.encode() in names


def unwrap(view, ctx: Context) -> Unwrapped:
    layer = Layer("uki", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None)
    d = layer.details
    d["pe"], result.findings = pe.describe(view)
    table = d["pe"].get("sections")
    if table is None:  # the headers did not parse: pe/malformed says why
        return result
    version = stub.version(view, table)
    if version is not None:
        d["stub"] = version
    how = stub.rule(version)
    booted, profiles, from_zero = stub.booted(table, how)
    found: dict[str, dict] = {}
    for name, s in booted.items():
        found[name] = {"offset": s["raw_offset"], "size": min(s["raw_size"], s["virtual_size"])}
        if s.get("raw_in_file") is False:  # firmware and kexec-tools read SizeOfRawData
            end = s["raw_offset"] + s["raw_size"]
            result.findings.append(finding(
                "uki/section-outside-file", f"{s['name']}: raw data [{s['raw_offset']:#x}, "
                f"{end:#x}) but the file has {view.known_length:#x} bytes",
                offset=s["raw_offset"], field=s["name"]))
            found[name]["outside"] = True
    d["sections"] = [s["name"] for s in table]
    if profiles:
        d["profiles"] = profiles
    _companions(view, found, d)
    last = [s for s in table if s["name"] == LINUX][-1]  # kexec-tools' (the probe found one)
    linux = found.get(LINUX)
    if linux is None:  # in a profile the stub does not boot by default
        linux = {"offset": last["raw_offset"], "size": last["raw_size"],
                 "outside": last.get("raw_in_file") is False}
        result.findings.append(finding(
            "uki/no-default-linux", f"no .linux among the base sections and profile 0's "
            f"({profiles} profiles): systemd-stub says 'Image lacks .linux section'; the "
            f"last .linux (at {linux['offset']:#x}, what kexec-tools takes) is checked",
            offset=linux["offset"], field=LINUX))
    profile_note = "" if not profiles else (
        f"; {profiles} profiles, profile 0 (booted by default) gives "
        f"{', '.join(from_zero) or 'no section of its own'}" if how == stub.PROFILES else
        f"; {profiles} profiles, which systemd-stub {version} does not read (profiles from "
        f"{PROFILES_SINCE}): the {how} section of each name is booted")
    result.findings.append(finding(
        "layer/uki", f".linux: {linux['size']:#x} bytes at {linux['offset']:#x}; "
        f"{', '.join(n for n in SECTIONS if n in found and n != LINUX) or 'no other section'}"
        f"{profile_note}", offset=linux["offset"]))
    if last["raw_offset"] != linux["offset"]:  # kexec-tools reads another .linux
        d["kexec_tools_linux"] = {"offset": last["raw_offset"], "size": last["raw_size"]}
    if linux.get("outside"):
        return result
    inner = view.slice(linux["offset"], linux["size"])
    d["linux"] = _kernel(inner, d["pe"].get("machine"), result.findings, linux["offset"])
    result.view = inner
    return result


def _companions(view, found: dict, d: dict) -> None:
    """What the UKI carries beside the kernel: its text sections (bounded), the initrd's
    size and whether a device tree is there."""
    for name in TEXT_SECTIONS:
        where = found.get(name)
        if where is None or where.get("outside"):
            continue
        raw = view.read(where["offset"], min(where["size"], TEXT_LIMIT))
        d[name[1:]] = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        if where["size"] > TEXT_LIMIT:
            d[name[1:] + "_truncated"] = True
    if OSREL[1:] in d:
        d["os_release"] = _os_release(d.pop(OSREL[1:]))
    if UNAME[1:] in d:
        d[UNAME[1:]] = d[UNAME[1:]].strip()
    if "cmdline" in d:
        d["cmdline"] = d["cmdline"].rstrip("\n")
    if "sbat" in d:
        d["sbat"] = [line.split(",")[:2] for line in d["sbat"].splitlines() if line]
    d["initrd_size"] = found[INITRD]["size"] if INITRD in found else None
    dtb = found.get(DTB)
    d["dtb"] = None if dtb is None else {
        "size": dtb["size"],
        "fdt_magic": not dtb.get("outside") and view.read(dtb["offset"], 4) == FDT_MAGIC}


def _os_release(text: str) -> dict:
    """os-release(5): KEY=VALUE lines, values optionally quoted; the keys reported."""
    out = {}
    for line in text.splitlines():
        key, eq, value = line.strip().partition("=")
        if eq and key in OSREL_KEYS:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            out[key] = value
    return out


def _kernel(inner, machine: int | None, findings: list, at: int) -> dict:
    """What systemd-stub's pe_kernel_info reads of the kernel in .linux, with the findings
    for what it refuses."""
    k: dict = {"pe": inner.read(0, 2) == b"MZ"}
    if not k["pe"]:
        findings.append(finding(
            "uki/linux-not-pe", f".linux starts with {inner.read(0, 4).hex(' ')}, not \"MZ\": "
            "systemd-stub says 'Bad kernel image'", offset=at))
        return k
    details, _ = pe.describe(inner)  # its own problems are reported by the layer that reads it
    if not details.get("signature_ok") or details.get("pe_offset", 0) < 0x40:
        findings.append(finding(
            "uki/linux-not-pe", f".linux has no \"PE\\0\\0\" at e_lfanew "
            f"{details.get('pe_offset', 0):#x} (at least 0x40): systemd-stub says 'Bad kernel "
            "image'", offset=at + 0x3C))
        return k
    k["machine"] = details.get("machine")
    k["image_version"] = details.get("image_version")
    if machine is not None and k["machine"] != machine:
        findings.append(finding(
            "uki/linux-machine", f".linux is a PE image for machine {k['machine']:#x}, the "
            f"stub's is {machine:#x}", offset=at + details["pe_offset"] + 4))
    version = k["image_version"]
    if version is not None and version[0] < MIN_KERNEL_IMAGE_VERSION:
        findings.append(finding(
            "uki/linux-stub-too-old", f".linux has MajorImageVersion {version[0]}: no LoadFile2 "
            "initrd support, systemd-stub says 'Bad kernel image'",
            offset=at + details["pe_offset"] + 24 + 44, field="MajorImageVersion"))
    return k


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
