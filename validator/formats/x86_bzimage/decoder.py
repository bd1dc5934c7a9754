"""x86 bzImage: decode the setup header's fields, say what they mean, derive the facts.

The bytes are parsed by the parser generated from ``specs/x86_bzimage.ksy``
(``validator._kaitai``); tests/test_x86_format.py holds it and the construct twin equal.
The EFI stub's PE/COFF headers (at e_lfanew, 0x3c) are described by the PE container
(``validator.formats.pe.decoder.describe``), beside the header.
"""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.formats.results import Decoded, kaitai_parse
from validator.formats.x86_bzimage import (
    BOOT_FLAG,
    BOOT_FLAG_OFFSET,
    FORMAT,
    GATED,
    HEADER_SIZE,
    MAGIC,
    VERSION_STRING_MAX,
    probe,  # the format's probe, re-exported
    protocol,
)
from validator.io.views import View
from validator.model import Field
from validator.units import human_size

__all__ = ["FORMAT", "probe", "decode", "facts_of"]

rule("x86/truncated-header", "error",
     "the file ends inside the x86 setup header",
     "Every x86 bzImage probe needs the two first sectors (1024 bytes: kexec-tools' "
     "bzImage and bzImage64 probes, kexec_file_load's 'File is too short to be a bzImage'); "
     "the setup header that \"HdrS\" announces ends at 0x26c.",
     "kexec-tools v2.0.32 kexec/arch/x86_64/kexec-bzImage64.c bzImage64_probe; Linux 6.1 "
     "arch/x86/kernel/kexec-bzimage64.c bzImage64_probe",
     ("kexec-tools", "kexec-file", "grub", "qemu", "efi"))
rule("x86/bad-boot-flag", "error",
     "the x86 boot sector signature 0xAA55 is missing at 0x1fe",
     "kexec-tools' bzImage and bzImage64 probes ('No x86 boot sector present'), "
     "kexec_file_load's bzImage64_probe and GRUB's linux command (\"invalid magic number\") "
     "refuse a bzImage without it; the file was recognised by its \"HdrS\" at 0x202.",
     "boot.rst 'Field name: boot_flag'; kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c "
     "bzImage_probe; Linux 6.1 arch/x86/kernel/kexec-bzimage64.c bzImage64_probe; "
     "GRUB 2.06 grub-core/loader/i386/linux.c grub_cmd_linux",
     ("kexec-tools", "kexec-file", "grub"))

#: What the first bytes of the header hold beyond the spec's own reading.
_SUBARCH = {0: "a normal PC", 1: "lguest", 2: "Xen PV", 3: "Intel MID", 4: "CE4100"}
_XLF = ("XLF_KERNEL_64", "XLF_CAN_BE_LOADED_ABOVE_4G", "XLF_EFI_HANDOVER_32",
        "XLF_EFI_HANDOVER_64", "XLF_EFI_KEXEC", "XLF_5LEVEL", "XLF_5LEVEL_ENABLED")
_LOADFLAGS = {0: "LOADED_HIGH", 1: "KASLR_FLAG", 5: "QUIET_FLAG", 6: "KEEP_SEGMENTS",
              7: "CAN_USE_HEAP"}


def decode(view: View, elf_endianness: str | None = None) -> Decoded:
    data = view.read(0, HEADER_SIZE)
    if len(data) < HEADER_SIZE:
        return Decoded(findings=[finding(
            "x86/truncated-header", f"the setup header ends at {HEADER_SIZE:#x}, the file "
            f"at {len(data):#x}", offset=len(data))])
    findings = []
    flag = int.from_bytes(data[BOOT_FLAG_OFFSET:BOOT_FLAG_OFFSET + 2], "little")
    if flag != BOOT_FLAG:
        findings.append(finding(
            "x86/bad-boot-flag", f"0x1fe holds {flag:#06x}, not 0xaa55",
            offset=BOOT_FLAG_OFFSET, field="boot_flag"))
        data = data[:BOOT_FLAG_OFFSET] + BOOT_FLAG.to_bytes(2, "little") + data[0x200:]
    pointer = int.from_bytes(data[0x20E:0x210], "little")
    if pointer:  # the version string (u16 pointer: at most 64 KiB in, 256 bytes long)
        tail = view.read(HEADER_SIZE, 0x200 + pointer + VERSION_STRING_MAX - HEADER_SIZE)
        data += tail
    h, error = kaitai_parse(_parser(), data)
    if error is not None:  # "HdrS" and 0xAA55 are in place and the header is whole
        return Decoded(findings=[finding("x86/truncated-header", f"x86 header: {error}")])
    version_string = _version_string(h)
    header = header_of(h)
    header["kernel_version_string"] = version_string
    if flag != BOOT_FLAG:
        header["boot_flag"] = flag
    pe = view.read(h.pe_offset, 6) if h.has_efi_stub else b""
    derived = {"protocol": protocol(h.version),
               "pe_signature_at_pe_offset": pe[:4] == b"PE\0\0",
               "pe_machine": int.from_bytes(pe[4:6], "little") if pe[:4] == b"PE\0\0"
               else None}
    facts = facts_of(h)
    facts["kernel_version"] = version_string.split(" ", 1)[0] if version_string else None
    return Decoded(header=header, derived=derived,
                   fields=lambda: _shown(h, version_string, flag), facts=facts,
                   findings=findings)


def _shown(h, version_string: str | None, flag: int) -> list[Field]:
    """The fields for display, the boot flag as the file holds it."""
    fields = _fields(h, version_string)
    if flag != BOOT_FLAG:
        fields = [Field("boot_flag", BOOT_FLAG_OFFSET, 2, flag, flag, "not 0xAA55")
                  if f.name == "boot_flag" else f for f in fields]
    return fields


def _parser():
    from validator._kaitai.x86_bzimage import X86Bzimage

    return X86Bzimage


def _version_string(h) -> str | None:
    """The spec's ``kernel_version_string``, or None when no NUL ends it within the bytes
    read (kaitaistruct's NoTerminatorFoundError is an EOFError) or it is not ASCII."""
    try:
        return h.kernel_version_string
    except (EOFError, UnicodeDecodeError):
        return None


_SEQ = ("setup_sects", "root_flags", "syssize", "ram_size", "vid_mode", "root_dev",
        "boot_flag", "jump", "version", "realmode_swtch", "start_sys_seg", "kernel_version",
        "type_of_loader", "loadflags", "setup_move_size", "code32_start", "ramdisk_image",
        "ramdisk_size", "bootsect_kludge")
_DERIVED = ("has_efi_stub", "setup_sects_effective", "setup_size", "header_end",
            "syssize_effective", "loaded_high", "is_relocatable", "xlf_kernel_64",
            "xlf_can_be_loaded_above_4g", "xlf_efi_handover_32", "xlf_efi_handover_64",
            "xlf_efi_kexec", "xlf_5level", "xlf_5level_enabled")


def header_of(h) -> dict:
    """The header as JSON: the spec's fields (null where the protocol has none yet) and
    its value instances."""
    out = {"dos_magic": h.dos_magic, "pe_offset": h.pe_offset}
    out.update((name, getattr(h, name)) for name in _SEQ)
    out["header"] = MAGIC.decode("ascii")
    for name in GATED:
        value = getattr(h, name)
        out[name] = int(value.value) if hasattr(value, "value") else value
    out.update((name, getattr(h, name)) for name in _DERIVED)
    return out


def facts_of(h) -> dict:
    """The facts of a parsed header (a construct twin ``Container`` or the generated
    Kaitai parser's object: both have the spec's names)."""
    handover = h.handover_offset if h.version >= 0x020B else None
    return {
        "arch": "x86_64" if h.xlf_kernel_64 else "x86",
        "endianness": "little",
        "efi_stub": h.has_efi_stub,
        "relocatable": h.is_relocatable,
        "protocol": protocol(h.version),
        "kernel_64": h.xlf_kernel_64,
        "efi_handover": bool(handover) and (h.xlf_efi_handover_64 or h.xlf_efi_handover_32
                                            or h.version < 0x020C),
        "kernel_alignment": h.kernel_alignment,
        "pref_address": h.pref_address,
        "init_size": h.init_size,
    }


def _fields(h, version_string: str | None) -> list[Field]:
    def f(name, offset, size, meaning="", value=None):
        raw = getattr(h, name)
        return Field(name, offset, size, raw, raw if value is None else value, meaning)

    fields = [
        f("dos_magic", 0x00, 2, 'MZ: EFI stub (PE/COFF image)' if h.has_efi_stub
          else "boot sector code (no EFI stub)"),
        f("pe_offset", 0x3C, 4, f"PE header at {h.pe_offset:#x}" if h.has_efi_stub
          else "boot sector code"),
        f("setup_sects", 0x1F1, 1, f"{h.setup_sects_effective} setup sectors; the "
          f"protected-mode kernel starts at {h.setup_size:#x}"),
        f("root_flags", 0x1F2, 2, "root read-only by default" if h.root_flags else ""),
        f("syssize", 0x1F4, 4, f"{human_size(h.syssize_effective * 16)} of "
          "protected-mode code"),
        f("ram_size", 0x1F8, 2, "obsolete"),
        f("vid_mode", 0x1FA, 2, "normal" if h.vid_mode == 0xFFFF else ""),
        f("root_dev", 0x1FC, 2),
        f("boot_flag", 0x1FE, 2, "0xAA55"),
        f("jump", 0x200, 2, f"jmp; the header ends at {h.header_end:#x}"),
        Field("header", 0x202, 4, MAGIC, "HdrS", "boot protocol 2.00 or later"),
        f("version", 0x206, 2, f"boot protocol {protocol(h.version)}"),
        f("realmode_swtch", 0x208, 4),
        f("start_sys_seg", 0x20C, 2, "obsolete"),
        f("kernel_version", 0x20E, 2, f"string at {0x200 + h.kernel_version:#x}: "
          f"{version_string!r}" if h.kernel_version else "no version string"),
        f("type_of_loader", 0x210, 1, "written by the loader"),
        f("loadflags", 0x211, 1, _bits(h.loadflags, _LOADFLAGS) or
          "LOADED_HIGH clear: a zImage, loaded at 0x10000"),
        f("setup_move_size", 0x212, 2),
        f("code32_start", 0x214, 4, "protected-mode entry"),
        f("ramdisk_image", 0x218, 4, "written by the loader"),
        f("ramdisk_size", 0x21C, 4, "written by the loader"),
        f("bootsect_kludge", 0x220, 4, "obsolete"),
    ]
    for name, (offset, size, since) in GATED.items():
        value = getattr(h, name)
        if value is None:
            fields.append(Field(name, offset, size, None, None,
                                f"not in protocol {protocol(h.version)} (from "
                                f"{protocol(since)})"))
            continue
        fields.append(Field(name, offset, size, int(value),
                            int(value.value) if hasattr(value, "value") else value,
                            _gated_meaning(h, name, int(value))))
    return fields


def _gated_meaning(h, name: str, value: int) -> str:
    if name == "kernel_alignment":
        return f"{human_size(value)} alignment when relocated"
    if name == "relocatable_kernel":
        return "relocatable" if value else "not relocatable: loaded at code32_start only"
    if name == "min_alignment":
        return f"at least {human_size(1 << value)}" if value < 64 else "implausible"
    if name == "xloadflags":
        return _bits(value, dict(enumerate(_XLF))) or "none"
    if name == "cmdline_size":
        return f"command line up to {value} bytes"
    if name == "hardware_subarch":
        return _SUBARCH.get(value, "unknown")
    if name == "pref_address":
        return "preferred load address"
    if name == "init_size":
        return f"{human_size(value)} needed from the load address until running"
    if name in ("handover_offset", "kernel_info_offset"):
        return f"{value:#x} past the protected-mode start" if value else "none"
    return ""


def _bits(value: int, names: dict) -> str:
    return ", ".join(names.get(bit, f"bit {bit}") for bit in range(16) if value >> bit & 1)
