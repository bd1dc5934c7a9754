"""The x86 bzImage: the boot protocol's setup header at 0x1f1 (``specs/x86_bzimage.ksy``;
Documentation/arch/x86/boot.rst), versions 2.00 to 2.15: its constants, declared once.

``decoder`` decodes it on the check path (the generated Kaitai parser), ``twin`` parses and
builds it (construct), ``rules`` judges its facts, ``samples`` builds bzImages and their
near-valid mutations for the seed corpus.
"""

from __future__ import annotations

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "header"

FORMAT = "x86-bzimage"

#: "HdrS" at 0x202 (protocol 2.00 and later) and 0xAA55 at 0x1fe (boot.rst).
MAGIC = b"HdrS"
MAGIC_OFFSET = 0x202
BOOT_FLAG = 0xAA55
BOOT_FLAG_OFFSET = 0x1FE
SETUP_HEADER_OFFSET = 0x1F1
#: The header as protocol 2.15 lays it out ends at 0x26c (kernel_info_offset's end).
HEADER_END = 0x26C
#: Bytes a decoder reads: the header (the spec's last field ends at 0x26c).
HEADER_SIZE = HEADER_END
#: The kernel_version pointer is a u16 less 0x200; the string is at most this long here.
VERSION_STRING_MAX = 256

#: Protocol versions the loaders test (boot.rst "Details of Header Fields").
PROTOCOL_RELOCATABLE = 0x0205  # kernel_alignment, relocatable_kernel
PROTOCOL_PREF_ADDRESS = 0x020A  # pref_address, init_size, min_alignment
PROTOCOL_XLOADFLAGS = 0x020C  # xloadflags

#: loadflags bits (boot.rst "loadflags").
LOADED_HIGH = 0x01
#: xloadflags bits (arch/x86/include/uapi/asm/bootparam.h).
XLF_KERNEL_64 = 0x01
XLF_CAN_BE_LOADED_ABOVE_4G = 0x02
XLF_EFI_HANDOVER_32 = 0x04
XLF_EFI_HANDOVER_64 = 0x08
XLF_EFI_KEXEC = 0x10
XLF_5LEVEL = 0x20
XLF_5LEVEL_ENABLED = 0x40

#: The PE/COFF machine of an x86-64 EFI stub (IMAGE_FILE_MACHINE_AMD64).
PE_MACHINE_X86_64 = 0x8664
PE_MACHINE_I386 = 0x14C

#: Fields the spec declares from a protocol version on: name -> (offset, size, version).
GATED = {
    "heap_end_ptr": (0x224, 2, 0x0201),
    "ext_loader_ver": (0x226, 1, 0x0202),
    "ext_loader_type": (0x227, 1, 0x0202),
    "cmd_line_ptr": (0x228, 4, 0x0202),
    "initrd_addr_max": (0x22C, 4, 0x0203),
    "kernel_alignment": (0x230, 4, 0x0205),
    "relocatable_kernel": (0x234, 1, 0x0205),
    "min_alignment": (0x235, 1, 0x020A),
    "xloadflags": (0x236, 2, 0x020C),
    "cmdline_size": (0x238, 4, 0x0206),
    "hardware_subarch": (0x23C, 4, 0x0207),
    "hardware_subarch_data": (0x240, 8, 0x0207),
    "payload_offset": (0x248, 4, 0x0208),
    "payload_length": (0x24C, 4, 0x0208),
    "setup_data": (0x250, 8, 0x0209),
    "pref_address": (0x258, 8, 0x020A),
    "init_size": (0x260, 4, 0x020A),
    "handover_offset": (0x264, 4, 0x020B),
    "kernel_info_offset": (0x268, 4, 0x020F),
}

#: The package's own modules (never the twin's names).
_PARTS = frozenset({"decoder", "twin", "rules", "samples", "writer"})


def protocol(version: int) -> str:
    """0x020f -> "2.15"."""
    return f"{version >> 8}.{version & 0xFF:02d}"


def __getattr__(name: str):
    """The construct twin's names (``parse``, ``build``, ...), imported on first use: the
    check path reads only the constants above and never imports construct."""
    if name.startswith("__") or name in _PARTS:
        raise AttributeError(name)
    from validator.formats.x86_bzimage import twin

    return getattr(twin, name)


def probe(view) -> bool:
    """True when "HdrS" sits at 0x202 (boot protocol 2.00 and later)."""
    return view.read(MAGIC_OFFSET, 4) == MAGIC


#: (test or None, decoder probe or None): see validator.formats.header_probes
PROBE = (probe, None)
