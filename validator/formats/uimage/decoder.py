"""U-Boot legacy image (``uImage``): a 64-byte big-endian header, then the payload.

U-Boot include/image.h ``struct legacy_img_hdr``: ih_magic 0x27051956 at 0, ih_hcrc (CRC32
of the header with this field zeroed) at 4, ih_time 8, ih_size 12, ih_load 16, ih_ep 20,
ih_dcrc 24, ih_os 28, ih_arch 29, ih_type 30, ih_comp 31, ih_name[32] at 32. The payload
(ih_size bytes) starts at 64 and is decompressed by U-Boot as ih_comp says. The header CRC
is checked here (64 bytes); so is the data CRC (CRC-32 of the ih_size payload bytes, read in
1 MiB chunks) when the limits ask for a full check (``Limits.decode_all``: check and lint, not
inspect, which reads only what it shows). The header is read by the parser generated from
``specs/uimage.ksy``, given its 64 bytes; the report names the enum values as kimage always
has (``validator.formats.uimage``'s tables).
"""

from __future__ import annotations

import zlib

from validator.catalogue import finding, rule
from validator.formats.compression import decoder as compression
from validator.formats.results import Unwrapped, fixed_header
from validator.formats.uimage import ARCH, COMP, CRC_CHUNK, HEADER_SIZE, OS, TYPE
from validator.io.limits import Context
from validator.model import Layer

rule("layer/uimage", "info",
     "a U-Boot legacy image (uImage): a 64-byte header before the kernel",
     "U-Boot's bootm, kexec-tools (uImage_arm64_probe) and QEMU's -kernel take a uImage. "
     "U-Boot's booti, the kernel's kexec_file_load, GRUB and UEFI firmware read the file's "
     "first bytes as the kernel's own header: the uImage header is there, so they find no "
     "ARM\\x64 magic at 0x38 and no \"MZ\" at 0, and refuse it.",
     "U-Boot v2025.01 include/image.h legacy_img_hdr, arch/arm/lib/image.c booti_setup; "
     "Linux v6.12 arch/arm64/kernel/kexec_image.c image_probe; kexec-tools v2.0.32 "
     "kexec/arch/arm64/kexec-uImage-arm64.c",
     ("u-boot", "kexec-file", "grub", "efi"))
rule("uimage/bad-header-crc", "error",
     "the uImage header CRC does not match the header",
     "U-Boot's bootm checks ih_hcrc before anything else ('Bad Header Checksum') and refuses "
     "the image.",
     "U-Boot boot/image-legacy.c image_check_hcrc; include/image.h legacy_img_hdr",
     ("u-boot", "kexec-tools"))
rule("uimage/bad-data-crc", "error",
     "the uImage data CRC does not match the payload",
     "U-Boot's bootm verifies ih_dcrc, the CRC-32 of the ih_size bytes after the header, "
     "before it loads the kernel ('Verifying Checksum ... Bad Data CRC') unless the "
     "environment sets verify=no; kexec-tools refuses the image too ('The data CRC does not "
     "match'). A payload changed after mkimage, or cut and padded, fails there.",
     "U-Boot boot/bootm.c image_get_kernel, boot/image-legacy.c image_check_dcrc; "
     "kexec-tools kexec/kexec-uImage.c uImage_probe",
     ("u-boot", "kexec-tools"))
rule("uimage/compression-mismatch", "error",
     "the uImage payload does not match the compression its header names",
     "U-Boot decompresses the payload with the codec ih_comp names (or copies it when it "
     "names none); a payload of another kind fails to decompress or is started as garbage.",
     "U-Boot boot/image.c image_decomp",
     ("u-boot", "kexec-tools", "qemu"))


def unwrap(view, ctx: Context) -> Unwrapped:
    from validator._kaitai.uimage import Uimage

    layer = Layer("uimage", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None, facts={"compression": None})
    head, h, problem = fixed_header(view, HEADER_SIZE, "uImage", Uimage)
    if problem is not None:
        result.findings.append(problem)
        return result
    hcrc, time, size, load, ep, dcrc = (h.ih_hcrc, h.ih_time, h.ih_size, h.ih_load, h.ih_ep,
                                        h.ih_dcrc)
    os_, arch, type_, comp = int(h.ih_os), int(h.ih_arch), int(h.ih_type), int(h.ih_comp)
    name = h.ih_name
    crc = zlib.crc32(head[:4] + b"\0\0\0\0" + head[8:]) & 0xFFFFFFFF
    codec = COMP.get(comp, f"unknown-{comp}")
    layer.details.update({
        "header_crc": hcrc, "header_crc_ok": crc == hcrc, "time": time, "data_size": size,
        "load_address": load, "entry_point": ep, "data_crc": dcrc,
        "os": OS.get(os_, os_), "arch": ARCH.get(arch, arch), "type": TYPE.get(type_, type_),
        "compression": codec, "name": name,
    })
    result.findings.append(finding(
        "layer/uimage", f"uImage {TYPE.get(type_, type_)} for {ARCH.get(arch, arch)}, "
        f"{codec or 'not compressed'}, {size:#x} bytes at ih_load {load:#x}", offset=0,
        field="ih_magic"))
    if crc != hcrc:
        result.findings.append(finding("uimage/bad-header-crc",
                                       f"ih_hcrc {hcrc:#010x}, the header's CRC32 is "
                                       f"{crc:#010x}", offset=4, field="ih_hcrc"))
    length = view.known_length
    if length is not None and HEADER_SIZE + size > length:
        result.findings.append(finding(
            "layer/lying-size", f"uImage ih_size {size:#x} but only "
            f"{length - HEADER_SIZE:#x} bytes follow the header", offset=12, field="ih_size"))
        return result
    payload = view.slice(HEADER_SIZE, size)
    if ctx.limits.decode_all:
        data_crc = _crc32(payload, size)  # None: the payload cannot be read to its end
        layer.details["data_crc_ok"] = None if data_crc is None else data_crc == dcrc
        if data_crc is not None and data_crc != dcrc:
            result.findings.append(finding(
                "uimage/bad-data-crc", f"ih_dcrc {dcrc:#010x}, the CRC-32 of the {size:#x} "
                f"payload bytes is {data_crc:#010x}: U-Boot says 'Bad Data CRC'", offset=24,
                field="ih_dcrc"))
    found = compression.codec_of(payload.read(0, 8))
    if found != codec and not (codec is None and found is None):
        result.findings.append(finding(
            "uimage/compression-mismatch",
            f"ih_comp says {codec or 'none'}, the payload starts with "
            f"{payload.read(0, 4).hex(' ')} ({found or 'no known codec'})", offset=31,
            field="ih_comp"))
    result.view = payload
    return result


def _crc32(payload, size: int) -> int | None:
    """CRC-32 of the ``size`` bytes of ``payload``, read in bounded chunks; None if they
    cannot all be read (a decoded parent that stops early)."""
    crc = 0
    offset = 0
    while offset < size:
        chunk = payload.read(offset, min(CRC_CHUNK, size - offset))
        if not chunk:
            return None
        crc = zlib.crc32(chunk, crc)
        offset += len(chunk)
    return crc & 0xFFFFFFFF


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
