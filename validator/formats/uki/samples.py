"""UKIs for the seed corpus: a PE/COFF EFI application in the shape ukify gives it (DOS
header, PE32+ headers at 0x40, the stub's sections then .osrel, .cmdline, .uname, .initrd
and .linux, each file-aligned to 0x200), around a drawn arm64 EFI-stub Image; their
near-valid variants; and mutations of a real UKI's section table and the kernel inside."""

from __future__ import annotations

import struct
from collections.abc import Callable

from validator.formats.arm64_image.samples import BANNER, arm64_bytes, arm64_header, arm64_params
from validator.formats.compression.writer import compress
from validator.formats.pe import IMAGE_FILE_MACHINE_ARM64
from validator.formats.pe.writer import pe_header
from validator.formats.sampling import Chooser, Mutator, Sample

ALIGN = 0x200
#: The optional header's size in pe_header's PE32+ shape; the section table follows it.
OPT_SIZE = 0xF0
#: Offsets in a PE32+ optional header (Microsoft PE Format) that the mutations touch.
OPT_MAJOR_IMAGE_VERSION, OPT_SIZE_OF_HEADERS = 44, 60
SECTION_ENTRY = struct.Struct("<8sIIIIIIHHI")

UKI_MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]] = {
    "linux-not-pe": (("uki/linux-not-pe",), lambda p: True),
    "linux-stub-too-old": (("uki/linux-stub-too-old",), lambda p: True),
    "linux-machine": (("uki/linux-machine",), lambda p: True),
    "section-outside-file": (("uki/section-outside-file",), lambda p: True),
    "uname-mismatch": (("uki/uname-mismatch",), lambda p: True),
    "no-default-linux": (("uki/no-default-linux",), lambda p: True),
}


def uki_bytes(sections: list[tuple[str, bytes]], *, machine: int = IMAGE_FILE_MACHINE_ARM64,
              lie: dict[str, int] | None = None) -> bytes:
    """A PE32+ EFI application with ``sections`` (name, data) in order, each at a
    file-aligned offset; ``lie`` gives a section a SizeOfRawData other than its data's."""
    lie = lie or {}
    headers = 0x40 + 4 + 20 + OPT_SIZE + SECTION_ENTRY.size * len(sections)
    offset = -(-headers // ALIGN) * ALIGN
    table, body = b"", b""
    for name, data in sections:
        raw = -(-len(data) // ALIGN) * ALIGN
        size = lie.get(name, raw)
        table += SECTION_ENTRY.pack(name.encode()[:8], len(data), offset, size, offset, 0, 0, 0,
                                    0, 0x40000040)
        body += data.ljust(raw, b"\0")
        offset += raw
    pe = bytearray(pe_header(size_of_image=offset, entry=0x200, file_size=offset,
                             machine=machine, nsections=len(sections),
                             opt_size=OPT_SIZE)[:4 + 20 + OPT_SIZE])
    struct.pack_into("<I", pe, 4 + 20 + OPT_SIZE_OF_HEADERS, -(-headers // ALIGN) * ALIGN)
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)
    head = (bytes(dos) + bytes(pe) + table).ljust(-(-headers // ALIGN) * ALIGN, b"\0")
    return head + body


def _uki(c: Chooser, mutation: str | None) -> Sample:
    p = arm64_params(c, "5.8", efi=True, endian="le")
    image = bytearray(arm64_bytes(arm64_header(p), p))
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in UKI_MUTATIONS.items() if ok(p)])
    release = BANNER.split(b" ")[2].decode()
    uname = release
    lie: dict[str, int] = {}
    linux = bytes(image)
    if mutation == "linux-not-pe":
        linux = c.choice((compress("gzip", bytes(image)), b"\0\0" + bytes(image[2:])))
    elif mutation == "linux-stub-too-old":
        struct.pack_into("<H", image, 0x40 + 24 + OPT_MAJOR_IMAGE_VERSION, 0)
        linux = bytes(image)
    elif mutation == "linux-machine":
        struct.pack_into("<H", image, 0x44, c.choice((0x8664, 0x5064, 0x1C4)))
        linux = bytes(image)
    elif mutation == "uname-mismatch":
        uname = release + "-" + c.choice(("old", "1", "arm64", "x"))
        if not p["banner"]:  # the kernel's release is read from its banner
            linux += BANNER
    initrd = c.binary(c.integer(0, 0x400))
    sections = [(".osrel", b'ID=debian\nVERSION_ID="13"\n'),
                (".cmdline", b"console=ttyAMA0 root=/dev/vda2 ro"),
                (".uname", uname.encode()), (".initrd", initrd), (".linux", linux)]
    if mutation == "section-outside-file":  # its raw data runs past the file's end
        name = c.choice((".initrd", ".linux", ".cmdline"))
        names = [n for n, _ in sections]
        to_end = sum(-(-len(d) // ALIGN) * ALIGN for _, d in sections[names.index(name):])
        lie[name] = to_end + ALIGN * c.integer(1, 0x8000)
    if mutation is None:  # a multi-profile UKI (systemd 257) as ukify joins one, or with a
        layout = c.choice(("plain", "joined", "profile-0"))  # profile 0 of its own
        if layout == "joined":  # the base's own .profile, then a joined one
            sections += [(".profile", b"ID=main"), (".profile", b"ID=one\nTITLE=One"),
                         (".cmdline", b"console=ttyAMA0 root=/dev/vda2 ro one")]
        elif layout == "profile-0":
            sections += [(".profile", b"ID=zero"),
                         (".cmdline", b"console=ttyAMA0 root=/dev/vda2 ro zero")]
    if mutation == "no-default-linux":  # .linux only in a profile after profile 0
        profiles = [(".profile", f"ID=p{n}".encode()) for n in range(c.integer(2, 4))]
        sections = sections[:-1] + profiles + [(".cmdline", b"console=ttyAMA0 ro quiet"),
                                               (".linux", linux)]
    data = uki_bytes(sections, lie=lie)
    if mutation is None:
        return Sample("uki", "uki-image", data, ("layer/uki",), None, p)
    return Sample("uki", mutation, data, UKI_MUTATIONS[mutation][0], mutation, p)


def _sections(data: bytes) -> list[tuple[int, bytes, int, int]] | None:
    """(table entry offset, name, raw offset, raw size) of a PE file's sections."""
    if data[:2] != b"MZ" or len(data) < 0x40:
        return None
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    if data[lfanew:lfanew + 4] != b"PE\0\0":
        return None
    count, = struct.unpack_from("<H", data, lfanew + 6)
    opt, = struct.unpack_from("<H", data, lfanew + 20)
    at = lfanew + 24 + opt
    out = []
    for i in range(min(count, 96)):
        entry = data[at + 40 * i:at + 40 * (i + 1)]
        if len(entry) < 40:
            break
        fields = SECTION_ENTRY.unpack(entry)
        out.append((at + 40 * i, fields[0].rstrip(b"\0"), fields[4], fields[3]))
    return out


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """A UKI's section-table mutations, and the kernel in .linux (written back in place
    when it keeps its size)."""
    sections = _sections(data)
    linux = next((s for s in sections or () if s[1] == b".linux"), None)
    if linux is None:
        return False
    entry, _, offset, size = linux

    def outside(c: Chooser) -> bytes:
        raw = bytearray(data)
        struct.pack_into("<I", raw, entry + 16, len(data) - offset + ALIGN * c.integer(1, 0x800))
        return bytes(raw)

    out["uki:section-outside-file"] = (("uki/section-outside-file",), outside)
    out["uki:linux-not-pe"] = (("uki/linux-not-pe",),
                               lambda c: data[:offset] + b"\0\0" + data[offset + 2:])
    inner = data[offset:offset + size]
    for name, (expect, fn) in recurse(inner, "uki", depth + 1, limit=limit).items():
        out[f"uki>{name}"] = (expect, _in_place(data, offset, size, fn))
    return True


def _in_place(data: bytes, offset: int, size: int, fn: Mutator) -> Mutator:
    def apply(c: Chooser) -> bytes:
        inner = fn(c)[:size].ljust(size, b"\0")
        return data[:offset] + inner + data[offset + size:]
    return apply


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"uki": (lambda c, m: _uki(c, m), UKI_MUTATIONS)}
