"""Structure-aware seed corpora: the catalogue over the format registry's samples.

Every registered format package with a ``samples`` module (``validator.formats``) adds
its kinds (``KINDS``: kernel images of every era and wrapper, and near-valid variants
whose expected finding is known) and its mutations of a real image (``targets``). This
module gathers them: ``generate`` one sample of a kind, ``from_image`` one near-valid
variant of a real image, ``mutate_bytes`` the byte-level havoc stage.

Everything is built from *choices* (``validator.formats.sampling``): ``RandomChooser(seed)``
answers from a seeded ``random.Random`` (``kimage fuzz``: same seed, same bytes);
``validator.strategies`` answers from Hypothesis' ``draw`` (shrinkable property tests).
The builders go through the construct twins for the header formats and write the
wrappers field by field from their published layouts; they are writers, not parsers.

This module never imports Hypothesis and is not imported on the check path.
"""

from __future__ import annotations

from collections.abc import Callable

from validator import formats
from validator.formats.android.samples import (  # noqa: F401 (public)
    android_bytes,
    vendor_boot_bytes,
)
from validator.formats.arm64_image.samples import (  # noqa: F401 (public)
    ARM64_ERAS,
    arm64_bytes,
    arm64_header,
    arm64_params,
)
from validator.formats.compression import CODECS  # noqa: F401 (public)
from validator.formats.compression.writer import (  # noqa: F401 (public)
    MAX_INNER,
    codec_available,
    compress,
)
from validator.formats.elf.writer import elf32, elf64  # noqa: F401 (public)
from validator.formats.pe.writer import pe_header  # noqa: F401 (public)
from validator.formats.ppc64_head.samples import (  # noqa: F401 (public)
    PPC64_ERAS,
    ppc64_body,
    ppc64_params,
)
from validator.formats.sampling import (  # noqa: F401 (public)
    Chooser,
    Mutator,
    RandomChooser,
    Sample,
)

__all__ = [
    "ARM64_ERAS", "CODECS", "KINDS", "PPC64_ERAS", "Chooser", "RandomChooser", "Sample",
    "available_kinds",
    "compress", "elf32", "elf64", "generate", "mutate_bytes", "mutations", "pe_header",
]


def _sample_modules(roles: tuple[str, ...] | None = None) -> tuple:
    """The ``samples`` module of every registered format that has one, in registry order
    (of ``roles``, in that order, when given)."""
    import importlib

    names = formats.parts("samples")
    if roles is not None:
        names = [f"{package}.samples" for role in roles for package in formats.packages(role)
                 if f"{package}.samples" in names]
    return tuple(importlib.import_module(name) for name in names)


def _kinds() -> dict[str, tuple[Callable[[Chooser, str | None], Sample], dict]]:
    kinds: dict = {}
    for module in _sample_modules():
        for kind, entry in module.KINDS.items():
            if kind in kinds:
                raise ValueError(f"seed-corpus kind {kind} declared twice")
            kinds[kind] = entry
    return kinds


#: kind -> (builder(chooser, mutation|None|"any") -> Sample, its mutation table), from
#: every registered format's ``samples.KINDS``.
KINDS: dict[str, tuple[Callable[[Chooser, str | None], Sample], dict]] = _kinds()
#: ``kimage fuzz --format elf`` draws from both ELF kinds.
ALIASES = {"elf": ("ppc64-elf", "arm64-elf"), "x86": ("x86-bzimage",),
           "riscv64": ("riscv64-image", "riscv64-elf"), "all": tuple(KINDS)}


def available_kinds() -> tuple[str, ...]:
    """The kinds whose codec packages (zstandard, lz4) are installed here."""
    need = {"zstd": "zstd", "lz4": "lz4", "lz4-frame": "lz4-frame"}
    return tuple(k for k in KINDS if k not in need or codec_available(need[k]))


def mutations(kind: str) -> tuple[str, ...]:
    """The near-valid mutations ``generate(kind, ...)`` knows."""
    return tuple(KINDS[kind][1])


def generate(kind: str, c: Chooser, *, valid: bool | None = None,
             mutation: str | None = None) -> Sample:
    """One sample of ``kind``: valid, near-valid, or either (``valid=None``).

    ``mutation`` names a near-valid change (see ``mutations(kind)``); it is drawn among
    those that apply when not given. Codecs whose package is missing raise ImportError.
    """
    if kind in ALIASES:
        kind = c.choice([k for k in ALIASES[kind] if k in available_kinds()])
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join([*KINDS, *ALIASES])}")
    build, table = KINDS[kind]
    if mutation is not None:
        if mutation not in table:
            raise ValueError(f"{kind} has no mutation {mutation!r}")
        return build(c, mutation)
    if valid is None:
        valid = c.integer(0, 2) == 0  # one in three valid
    return build(c, None if valid else "any")


# --------------------------------------------------------------------------------------
# byte-level mutation (the havoc stage of AFL-style fuzzers)
# --------------------------------------------------------------------------------------

INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0xFFFFFFFF, 0x80000, 0x200000, 0x72756E30, 0xAA64,
               0xFFFFFFFFFFFFFFFF, 0x8000000000000000)
TOKENS = (b"ARMd", b"MZ", b"PE\0\0", b"\x7fELF", b"zimg", b"run0", b"0nur",
          b"\x1f\x8b\x08", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x02\x21\x4c\x18",
          b"\x04\x22\x4d\x18", b"BZh9", b"\x5d\x00\x00", b"\x27\x05\x19\x56", b"ANDROID!",
          b"!<arch>\n", b"\x08\x00\x00\x48", b"\x48\x00\x00\x08", b"\x48\x00\x00\x2c",
          b"\x7f\xe0\x00\x08", b"Linux version ")
#: Offsets the formats read: header fields of arm64, ppc64, ELF, zboot, uImage, Android.
FIELD_OFFSETS = (0, 4, 8, 0xC, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34,
                 0x36, 0x38, 0x3C, 0x40, 0x44, 0x48, 0x54, 0x58, 0x5C, 0x60, 0x78)


def mutate_bytes(c: Chooser, data: bytes, *, max_size: int = 1 << 20,
                 donor: bytes | None = None) -> bytes:
    """1-8 stacked byte-level mutations: bit flips, interesting values at field offsets,
    tokens, truncation, insertion, deletion, splicing with ``donor``."""
    buf = bytearray(data)
    for _ in range(c.integer(1, 8)):
        op = c.integer(0, 10)
        n = len(buf)
        if op == 0 and n:
            i = c.integer(0, n - 1)
            buf[i] ^= 1 << c.integer(0, 7)
        elif op == 1 and n:
            buf[c.integer(0, n - 1)] = c.integer(0, 255)
        elif op in (2, 3) and n >= 8:
            width = c.choice((1, 2, 4, 8))
            value = c.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            if c.boolean():
                value = (value + c.integer(-16, 16)) % (1 << (8 * width))
            base = c.choice(FIELD_OFFSETS) if c.boolean() else c.integer(0, n - 1)
            if c.boolean() and n > 0x1000:  # a field of a header one layer down
                base += c.choice((0x40, 0x200, 0x800, 0x1000, 0x10000))
            base = min(base, n - width)
            buf[base:base + width] = value.to_bytes(width, c.choice(("little", "big")))
        elif op == 4 and n:
            tok = c.choice(TOKENS)
            i = c.integer(0, n - 1)
            buf[i:i + len(tok)] = tok
        elif op == 5 and n > 1:
            del buf[c.integer(1, n - 1):]  # truncate
        elif op == 6 and n:
            i = c.integer(0, n - 1)
            del buf[i:i + c.integer(1, min(256, n - i))]
        elif op == 7:
            i = c.integer(0, n)
            buf[i:i] = c.binary(c.integer(1, 64))
        elif op == 8 and n:
            i = c.integer(0, n - 1)
            buf[i:i + 4] = c.binary(4)
        elif op == 9 and donor:
            i = c.integer(0, n)
            j = c.integer(0, len(donor) - 1)
            buf[i:] = donor[j:j + c.integer(1, 0x4000)]
        elif op == 10 and n:  # copy a block within the input
            i, j = c.integer(0, n - 1), c.integer(0, n - 1)
            length = c.integer(1, min(512, n - i))
            buf[j:j + length] = buf[i:i + length]
    return bytes(buf[:max_size])


# --------------------------------------------------------------------------------------
# mutating a real image (``kimage fuzz --from IMAGE``)
# --------------------------------------------------------------------------------------

def image_mutations(data: bytes, where: str = "raw", depth: int = 0, *,
                    limit: int = MAX_INNER) -> dict[str, tuple[tuple[str, ...], Mutator]]:
    """Field-level mutations of the image ``data``: name -> (expected rule IDs,
    ``mutate(chooser) -> new file bytes``).

    The wrappers kimage unwraps (EFI zboot, uImage, compression, ELF) are recognised by
    their magic; each gets mutations of its own fields, and the header inside it (arm64
    Image through the twin, ppc64 head through the twin) gets field mutations whose
    result is wrapped again (recompressed, sizes and CRCs updated). Names are layer
    paths, e.g. ``zboot>gzip>arm64:image-size-zero``. A compressed layer is decoded
    whole to reach the header inside; one that decodes to more than ``limit`` bytes gets
    only its own mutations."""
    out: dict[str, tuple[tuple[str, ...], Mutator]] = {}
    if depth > 4 or len(data) < 0x40:
        return out
    for module in _sample_modules(("wrapper", "container", "header")):  # headers last
        targets = getattr(module, "targets", None)
        if targets is not None and targets(data, out, where, depth, limit, image_mutations):
            break
    return out


def from_image(data: bytes, c: Chooser, *, kind: str = "from-image",
               targets: dict | None = None) -> Sample:
    """One near-valid variant of the real image ``data`` (see ``image_mutations``)."""
    targets = targets if targets is not None else image_mutations(data)
    if not targets:
        raise ValueError("no header kimage knows how to mutate was found in the image")
    name = c.choice(sorted(targets))
    expect, fn = targets[name]
    return Sample(kind, name.replace(">", "_").replace(":", "-"), fn(c), expect, name,
                  {"source_size": len(data)})
