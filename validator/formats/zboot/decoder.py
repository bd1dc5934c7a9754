"""EFI zboot (``vmlinuz.efi``, CONFIG_EFI_ZBOOT, Linux 6.1+): a PE application whose
DOS header says "zimg" and where the compressed Image lies.

drivers/firmware/efi/libstub/zboot-header.S: "MZ\\0\\0" (MZ_MAGIC stored as a u32),
"zimg" at 4, payload offset (u32 LE) at 8, payload size (u32 LE) at 0xc, the compression
name (NUL-terminated) at 0x18, the PE header offset at 0x3c. kexec-tools (v2.0.27+,
kexec-pe-zboot.c) and the stub itself decompress exactly
``[payload_offset, payload_offset + payload_size)``; so does this layer, with the codec the
name gives, and the result must be an arm64 Image (ARM\\x64 at 0x38). After the payload
6.1 appends a 4-byte size for non-gzip codecs (gzip carries ISIZE inside); it is read as
``trailer_size`` and not interpreted further (shared/reference/arm64.md section 4).
The header is read by the parser generated from ``specs/efi_zboot.ksy``, given its 0x40
bytes; the PE headers behind it by ``validator.formats.pe.decoder``.
"""

from __future__ import annotations

import struct

from validator.catalogue import finding, rule
from validator.formats.compression import decoder as compression
from validator.formats.pe import decoder as pe
from validator.formats.results import Unwrapped, fixed_header
from validator.formats.zboot import HEADER_SIZE, KEXEC_TOOLS_PREFIXES, NAMES
from validator.io.limits import Context
from validator.model import Layer

#: The three rules of HEADER_FIELD_RULES: EDK2 2022.11, 2025.02 and 2026.08 boot a zboot
#: whose header lies so (loadertruth), kexec-tools and QEMU's -kernel do not.
rule("zboot/payload-outside-file", "error",
     "the zboot payload offset and size point outside the file",
     "kexec-tools (and QEMU's -kernel) read the compressed Image from [payload_offset, "
     "payload_offset + payload_size); a range past the end of the file is a cut-short or "
     "corrupt image to them. Firmware starts the image's own stub, which decompresses the "
     "payload it was linked with and reads none of these fields.",
     "Linux 6.1 drivers/firmware/efi/libstub/zboot-header.S, zboot.c; kexec-tools "
     "kexec-pe-zboot.c; EDK2 2022.11, 2025.02 and 2026.08 runs (loadertruth/)",
     ("kexec-tools", "qemu"))
rule("zboot/unknown-compression", "error",
     "the zboot compression name is not one the kernel writes",
     "Linux writes gzip, lz4, lzma, lzo, xzkern or zstd22 (6.1 to 6.12.10) and gzip or zstd "
     "(6.13 and later) at 0x18; any other name is no zboot image that kexec-tools or QEMU "
     "unpacks. The image's own stub does not read it.",
     "Linux 6.1 drivers/firmware/efi/libstub/Makefile.zboot comp-type-y; EDK2 runs "
     "(loadertruth/)",
     ("kexec-tools", "qemu"))
rule("zboot/compression-mismatch", "error",
     "the zboot payload does not start with the magic of the codec its header names",
     "The header names the codec built into the stub; kexec-tools and QEMU pick their "
     "decoder by that name and fail on a payload of another codec. The stub itself "
     "decompresses with its own codec whatever the header says.",
     "Linux 6.1 drivers/firmware/efi/libstub/Makefile.zboot; EDK2 runs (loadertruth/)",
     ("kexec-tools", "qemu"))
rule("zboot/no-arm64-image", "error",
     "the decompressed zboot payload is not an arm64 Image",
     "kexec-tools requires ARM\\x64 at 0x38 of the decompressed payload "
     "(kexec-image-arm64.c via kexec-vmlinuz-arm64.c); the stub starts the payload as a PE "
     "image, which an arm64 Image is.",
     "kexec-tools kexec/arch/arm64/kexec-vmlinuz-arm64.c",
     ("kexec-tools", "efi"))


def unwrap(view, ctx: Context) -> Unwrapped:
    from validator._kaitai.efi_zboot import EfiZboot

    layer = Layer("zboot", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None)
    d = layer.details
    _, h, problem = fixed_header(view, HEADER_SIZE, "zboot", EfiZboot, hex_size=True)
    if problem is not None:
        result.findings.append(problem)
        return result
    offset, size, name = h.payload_offset, h.payload_size, h.compression_type
    linux_pe_magic, pe_offset = h.linux_pe_magic, h.pe_offset
    codec = NAMES.get(name)
    d.update({
        "payload_offset": offset,
        "payload_size": size,
        "compression": name,
        "codec": codec,
        "kexec_tools_accepts_name": name[:4] in KEXEC_TOOLS_PREFIXES,
        "linux_pe_magic": linux_pe_magic,
        "pe_offset": pe_offset,
    })
    d["pe"], pe_findings = pe.describe(view)
    result.findings += pe_findings
    length = view.known_length
    if length is not None and offset + size > length:
        result.findings.append(finding(
            "zboot/payload-outside-file",
            f"payload [{offset:#x}, {offset + size:#x}) but the file has {length:#x} bytes",
            offset=8, field="payload_size"))
        return result
    if length is not None and name != "gzip":  # gzip's ISIZE is inside the payload
        trailer = view.read(offset + size, 4)
        if len(trailer) == 4:
            d["trailer_size"] = struct.unpack("<I", trailer)[0]
    if codec is None:
        result.findings.append(finding(
            "zboot/unknown-compression",
            f"compression name {name!r} is none of {', '.join(NAMES)}", offset=0x18))
        return result
    payload = view.slice(offset, size)
    found = compression.codec_of(payload.read(0, 8))
    if found != codec:
        result.findings.append(finding(
            "zboot/compression-mismatch",
            f"header names {name!r} but the payload starts with "
            f"{payload.read(0, 4).hex(' ')} ({found or 'no known codec'})", offset=offset))
        return result
    result.facts["compression"] = codec
    result.view = payload
    return result


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
