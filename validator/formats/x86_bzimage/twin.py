"""x86 bzImage setup header: the construct twin of ``specs/x86_bzimage.ksy``.

Field names and order mirror the spec; the spec's value instances are ``Computed``
fields. A field the spec declares from a protocol version on (``GATED``) is its integer
from that version and, in an older image, the raw bytes at its place (setup code there;
the spec reads it as null), so that ``parse`` and ``build`` are exact inverses on the
first ``HEADER_SIZE`` bytes of any image with "HdrS" and 0xAA55.
The kernel version string is not in the header's bytes: ``kernel_version_string``.
"""

from __future__ import annotations

from construct import (
    Bytes,
    Computed,
    Const,
    Container,
    Int8ul,
    Int16ul,
    Int32ul,
    Int64ul,
    Struct,
)

from validator.formats.x86_bzimage import (  # noqa: F401 (the package's constants)
    BOOT_FLAG,
    GATED,
    HEADER_SIZE,
    LOADED_HIGH,
    MAGIC,
    MAGIC_OFFSET,
    XLF_5LEVEL,
    XLF_5LEVEL_ENABLED,
    XLF_CAN_BE_LOADED_ABOVE_4G,
    XLF_EFI_HANDOVER_32,
    XLF_EFI_HANDOVER_64,
    XLF_EFI_KEXEC,
    XLF_KERNEL_64,
)

_INTS = {1: Int8ul, 2: Int16ul, 4: Int32ul, 8: Int64ul}


def _gated(name: str):
    _, size, since = GATED[name]
    from construct import IfThenElse

    return name / IfThenElse(lambda this: this.version >= since, _INTS[size], Bytes(size))


def _xlf(bit: int):
    return Computed(lambda this: this.version >= 0x020C and bool(this.xloadflags & bit))


def _signed8(value: int) -> int:
    return value - 0x100 if value >= 0x80 else value


x86_bzimage = Struct(
    "dos_magic" / Int16ul,
    "boot_sector_head" / Bytes(0x3A),
    "pe_offset" / Int32ul,
    "boot_sector_tail" / Bytes(0x1B1),
    "setup_sects" / Int8ul,
    "root_flags" / Int16ul,
    "syssize" / Int32ul,
    "ram_size" / Int16ul,
    "vid_mode" / Int16ul,
    "root_dev" / Int16ul,
    "boot_flag" / Const(BOOT_FLAG, Int16ul),
    "jump" / Int16ul,
    "header" / Const(MAGIC),
    "version" / Int16ul,
    "realmode_swtch" / Int32ul,
    "start_sys_seg" / Int16ul,
    "kernel_version" / Int16ul,
    "type_of_loader" / Int8ul,
    "loadflags" / Int8ul,
    "setup_move_size" / Int16ul,
    "code32_start" / Int32ul,
    "ramdisk_image" / Int32ul,
    "ramdisk_size" / Int32ul,
    "bootsect_kludge" / Int32ul,
    *(_gated(name) for name in GATED),
    "has_efi_stub" / Computed(lambda this: this.dos_magic == 0x5A4D),
    "setup_sects_effective" / Computed(lambda this: this.setup_sects or 4),
    "setup_size" / Computed(lambda this: (this.setup_sects_effective + 1) * 512),
    "header_end" / Computed(lambda this: 0x202 + _signed8(this.jump >> 8)),
    "syssize_effective" / Computed(
        lambda this: this.syssize if this.version >= 0x0204 else this.syssize & 0xFFFF),
    "loaded_high" / Computed(lambda this: bool(this.loadflags & LOADED_HIGH)),
    "is_relocatable" / Computed(
        lambda this: this.version >= 0x0205 and this.relocatable_kernel != 0),
    "xlf_kernel_64" / _xlf(XLF_KERNEL_64),
    "xlf_can_be_loaded_above_4g" / _xlf(XLF_CAN_BE_LOADED_ABOVE_4G),
    "xlf_efi_handover_32" / _xlf(XLF_EFI_HANDOVER_32),
    "xlf_efi_handover_64" / _xlf(XLF_EFI_HANDOVER_64),
    "xlf_efi_kexec" / _xlf(XLF_EFI_KEXEC),
    "xlf_5level" / _xlf(XLF_5LEVEL),
    "xlf_5level_enabled" / _xlf(XLF_5LEVEL_ENABLED),
)

#: Fields read from the bytes, in order (the spec's ``seq``, then its gated instances).
SEQ_FIELDS = (
    "dos_magic", "boot_sector_head", "pe_offset", "boot_sector_tail", "setup_sects",
    "root_flags", "syssize", "ram_size", "vid_mode", "root_dev", "boot_flag", "jump",
    "header", "version", "realmode_swtch", "start_sys_seg", "kernel_version",
    "type_of_loader", "loadflags", "setup_move_size", "code32_start", "ramdisk_image",
    "ramdisk_size", "bootsect_kludge", *GATED,
)
#: The spec's value instances.
DERIVED_FIELDS = (
    "has_efi_stub", "setup_sects_effective", "setup_size", "header_end",
    "syssize_effective", "loaded_high", "is_relocatable", "xlf_kernel_64",
    "xlf_can_be_loaded_above_4g", "xlf_efi_handover_32", "xlf_efi_handover_64",
    "xlf_efi_kexec", "xlf_5level", "xlf_5level_enabled",
)


def looks_like(data: bytes) -> bool:
    """True when "HdrS" sits at 0x202."""
    return data[MAGIC_OFFSET : MAGIC_OFFSET + 4] == MAGIC


def parse(data: bytes) -> Container:
    """Parse the first ``HEADER_SIZE`` bytes of ``data``.

    Raises ``construct.ConstructError`` on a short buffer, a wrong boot_flag or no "HdrS".
    """
    return x86_bzimage.parse(data[:HEADER_SIZE])


def build(header: dict) -> bytes:
    """Build ``HEADER_SIZE`` bytes from a mapping with the ``SEQ_FIELDS`` (``boot_flag``
    and ``header`` optional)."""
    return x86_bzimage.build(header)


def kernel_version_string(data: bytes, header) -> str | None:
    """The NUL-terminated string at 0x200 + kernel_version in ``data`` (None when the
    pointer is 0), as the spec's ``kernel_version_string`` reads it: ``ValueError`` when
    no NUL ends it, ``UnicodeDecodeError`` when it is not ASCII."""
    if not header.kernel_version:
        return None
    start = 0x200 + header.kernel_version
    end = data.find(b"\0", start)
    if end < 0:
        raise ValueError(f"no NUL after the kernel version string at {start:#x}")
    return data[start:end].decode("ascii")
