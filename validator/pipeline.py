"""read → unwrap layers → identify → parse → facts: one image, one ``ImageResult``."""

from __future__ import annotations

import os

from validator import banner
from validator.handlers import Decoded
from validator.handlers import arm64_image as arm64
from validator.handlers import ppc64_head as ppc64
from validator.layers import View
from validator.layers import elf as elf_layer
from validator.model import ImageResult
from validator.rules.registry import ALL_LOADERS, finding, rule
from validator.source import InputError, Source

#: No kernel header fits in fewer bytes (the arm64 magic ends at 0x3c).
MIN_SIZE = 0x3C

EM_PPC64 = 21
EM_AARCH64 = 183


rule("layer/unknown-format", "error",
     "no kernel image header was found",
     "Neither an arm64 Image header (magic ARM\\x64 at 0x38), a ppc64 head (FIXUP_ENDIAN or "
     "a branch and a trap at 0), nor an ELF vmlinux for either architecture was found, so no "
     "loader kimage knows would accept the file as a kernel.",
     "shared/reference/arm64.md section 6; shared/reference/ppc64.md section 1",
     ALL_LOADERS)


def analyse(path: str | os.PathLike) -> ImageResult:
    """Decode every layer and header field of the image at ``path``.

    Raises ``InputError`` when the path cannot be read as an image at all.
    """
    with Source(path) as source:
        if source.size < MIN_SIZE:
            raise InputError(f"{source.path}: {source.size} bytes, too short for any kernel "
                             f"image header (an arm64 Image header is 64 bytes)")
        result = ImageResult(path=os.fspath(path), file_size=source.size)
        _decode(View.whole(source), result)
        if result.format != "unknown":
            result.facts["compression"] = None
            result.facts["kernel_version"] = banner.kernel_version(source)
        return result


def _decode(view: View, result: ImageResult) -> None:
    if elf_layer.probe(view):
        unwrapped = elf_layer.unwrap(view)
        result.layers.append(unwrapped.layer)
        result.findings += unwrapped.findings
        if unwrapped.view is None:
            return
        if unwrapped.machine == EM_PPC64:
            _apply(result, ppc64.FORMAT, unwrapped.view,
                   ppc64.decode(unwrapped.view, elf_endianness=unwrapped.endianness))
        elif unwrapped.machine == EM_AARCH64:
            _apply(result, arm64.FORMAT, unwrapped.view, arm64.decode(unwrapped.view))
        else:
            result.findings.append(finding(
                "elf/unsupported-machine",
                f"ELF e_machine {unwrapped.layer.details.get('machine')} is neither "
                f"EM_AARCH64 nor EM_PPC64", offset=0x12))
        return
    if arm64.probe(view) or arm64.probe_without_magic(view):
        _apply(result, arm64.FORMAT, view, arm64.decode(view))
    elif ppc64.probe(view):
        _apply(result, ppc64.FORMAT, view, ppc64.decode(view))
    else:
        start = view.read(0, 8)
        result.findings.append(finding(
            "layer/unknown-format",
            f"expected an arm64 Image (ARM\\x64 at 0x38), a ppc64 head or an ELF vmlinux; "
            f"found {start.hex(' ')} at 0 and {view.read(0x38, 4).hex(' ') or 'nothing'} "
            f"at 0x38", offset=0))


def _apply(result: ImageResult, fmt: str, view: View, decoded: Decoded) -> None:
    result.findings += decoded.findings
    if not decoded.header:
        return
    result.format = fmt
    result.header_offset = view.base
    result.payload_size = view.length
    result.header = decoded.header
    result.derived = decoded.derived
    result.fields = decoded.fields
    result.facts = decoded.facts
