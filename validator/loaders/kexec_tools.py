"""kexec-tools (userspace ``kexec -l`` / ``-p``, the kexec_load path).

arm64: probes vmlinux ELF, Image (magic only), uImage and, from 2.0.27, zboot
(kexec/arch/arm64/kexec-arm64.c ``file_type[]``); undoes gzip, xz/lzma and zstd itself
when built with their libraries (see "By build");
the Image's endianness, page size and placement bits are never read; image_size 0 means
text_offset 0x80000 and 16 MiB. ppc64: only ELF (elf-ppc64), EM_PPC64 or EM_PPC; the head
is not checked, "run0" becomes 1 for a panic kernel. Versions: horms/kexec-tools up to
29898e1 (2026), loader-truth runs of 2.0.25, 2.0.29 and 2.0.32 (Debian 12, 13, unstable).

By release (horms/kexec-tools; the release of each commit from ``git describe
--contains``), the verdict is the kexec_load path's (``-c``, and the fallback of plain
``-l``/``-p``):

- 2.0.25, 2.0.26: no zboot probe; slurp_decompress_file undoes gzip and xz/lzma only.
- 2.0.27 (17590ee): zboot probe ``pez_arm64_probe`` (f67c414, kexec/arch/arm64/
  kexec-vmlinuz-arm64.c; gzip and lzma payloads), but ``pez_arm64_load`` only hands the
  decompressed fd to kexec_file_load: through kexec_load the zboot PE itself is read as
  an Image and refused. ``-a`` becomes the default (29fe506, kexec/kexec.c
  do_kexec_file_load): plain ``-l``/``-p`` tries kexec_file_load first and falls back to
  kexec_load only on ENOSYS, EINVAL, ENOEXEC or ENOTSUP; a signature or permission
  refusal is final.
- 2.0.28 (adef8a8): zboot through kexec_load (8f08e3b).
- 2.0.30 (2c8ca05): UKI, ``uki_image_probe`` (0c72c44 kexec/kexec-uki.c; arm64 cd360f9):
  .linux is copied to a temporary file and probed raw by the other types (no
  decompression: a compressed .linux is "Can not recognize the kernel format"); the load
  is the inner type's, given the UKI's own bytes. Through kexec_load an Image inside is
  refused (image_arm64_load reads the UKI's DOS header as an Image header: "Cannot load");
  a zboot inside loads (pez_arm64_load uses the kernel pez_prepare decompressed);
  through kexec_file_load (``-s``) the kernel gets .linux. Run here with 2.0.32: ``-l``
  refuses the Debian Image UKI and loads the zboot UKI, ``-s -l`` takes both
  (tests/test_uki_loaders.py).
- 2.0.31 (d0d0a59): zstd, raw and as a zboot payload (a7fcd42, kexec/zstd.c and
  kexec-pe-zboot.c); a signed zboot's Image is cut at its certificate table (6aecc32).
- 2.0.32 (15d78e5): the zboot's decompressed Image must have "PE\\0\\0" at an e_lfanew
  within 0..4096 (8322826, include/pe.h get_pehdr_offset); 2.0.31 reads it unchecked.

By build (``BUILDS``; ``kexec-tools@VERSION+BUILD`` judges one): configure.ac (v2.0.32
lines 106-194; zstd from 2.0.31) links zlib, liblzma and libzstd when it finds them
(``--with-zlib``, ``--with-lzma``, ``--with-zstd``, each on by default). Without one,
kexec/zlib.c, lzma.c or zstd.c compile a stub that returns NULL, and
slurp_decompress_file (kexec/kexec.c: zlib, then zstd, then lzma, then the file as it
is) hands the compressed bytes to the probes, which refuse them: raw Image.gz, Image.xz,
Image.lzma, Image.zst and a zboot payload (pez_prepare calls slurp_decompress_file) each
need their library. zlib also gates uImage_probe (kexec/kexec-uImage.c ``#ifdef
HAVE_LIBZ``): the header and data CRC checks and IH_COMP_GZIP; other ih_comp values are
refused by every build. The default build is "upstream" (all three libraries). Debian
builds with zlib on arm64 only (Build-Depends ``libz-dev [arm64 ia64]`` in 1:2.0.25-3+deb12u3,
1:2.0.29-2 and 1:2.0.32-3; ``readelf -d`` of the arm64 kexec of 12, 13 and unstable: libz,
libxenctrl, libc; of Debian 12's ppc64el kexec: libc only), so Debian's 2.0.32 refuses a
zstd zboot. Not modelled: Ubuntu (its packaging could not be read here) and Fedora (its
2.0.31 of May 2025 linked libz and liblzma but not libzstd, rhkdump/kdump-utils#83; what
it links today was not read).

Seen and not modelled (loadertruth.compare.EXPLAINED): a zboot payload is undone by its
content, not by the name in the header (slurp_decompress_file sniffs the magic), so a
gzip payload named "lzma" loads where kimage, decoding by the name, finds no kernel;
``-p`` does not range-check text_offset and places a wrapping value below the crash
region; whether ``-p`` fits the kernel into the host's crash region is ``kimage
preflight``'s question, not ``check``'s.
"""

from __future__ import annotations

from validator.loaders import CODEC_NOT_LINKED, Build, at_least, riscv, x86
from validator.rules.engine import Context

NAME = "kexec-tools"
VERSIONS = "kexec-tools 2.0.25, 2.0.29, 2.0.32 (run) to 29898e1 (read)"
#: (release, upstream tag and commit, "run" when loadertruth runs it here, else "read")
RELEASES = (
    ("2.0.25", "v2.0.25 0fded95", "run"),
    ("2.0.26", "v2.0.26 ae1bd3d", "read"),
    ("2.0.27", "v2.0.27 17590ee", "read"),
    ("2.0.28", "v2.0.28 adef8a8", "read"),
    ("2.0.29", "v2.0.29 992c419", "run"),
    ("2.0.30", "v2.0.30 2c8ca05", "read"),
    ("2.0.31", "v2.0.31 d0d0a59", "read"),
    ("2.0.32", "v2.0.32 15d78e5", "run"),
)
#: kexec_load path: zboot probe from 2.0.27 (f67c414), loaded through kexec_load from
#: 2.0.28 (8f08e3b); zstd from 2.0.31 (a7fcd42); inner PE bound from 2.0.32 (8322826).
#: UKI probe from 2.0.30 (cd360f9).
UKI = "2.0.30"
ZBOOT_PROBE, ZBOOT_KEXEC_LOAD, ZSTD, PE_BOUND, SIGNED_CUT = (
    "2.0.27", "2.0.28", "2.0.31", "2.0.32", "2.0.31")

#: The optional libraries of each build, by kimage's ``arch`` fact (None: any other).
BUILDS = {
    "upstream": Build("upstream", "an upstream build",
                      {None: ("zlib", "liblzma", "libzstd")},
                      "configure.ac v2.0.32: --with-zlib, --with-lzma, --with-zstd default "
                      "to yes; each library is linked when its header and library are found"),
    "debian": Build("debian", "Debian's build", {"arm64": ("zlib",), "ppc64": (),
                                                  "riscv64": ()},
                    "Debian kexec-tools 1:2.0.25-3+deb12u3, 1:2.0.29-2, 1:2.0.32-3: "
                    "Build-Depends libz-dev [arm64 ia64]; readelf -d of the arm64 kexec of "
                    "Debian 12, 13 and unstable: NEEDED libxenctrl, libz, libc; of Debian "
                    "12's ppc64el kexec and unstable's riscv64 kexec (1:2.0.32-3): libc "
                    "only"),
}
DEFAULT_BUILD = "upstream"
#: os-release ID -> the build that distribution ships (only builds read from its packages)
DISTRO_BUILDS = {"debian": "debian"}
#: The library that undoes each codec (kexec/zlib.c, lzma.c: xz and lzma-alone, zstd.c).
CODEC_LIBRARY = {"gzip": "zlib", "xz": "liblzma", "lzma": "liblzma", "zstd": "libzstd"}


def build_for_distro(os_release_id: str) -> str | None:
    """The build of kexec-tools the distribution with this os-release ``ID`` ships
    ("debian" for Debian), or None when kimage does not know it."""
    if not isinstance(os_release_id, str):
        return None
    return DISTRO_BUILDS.get(os_release_id.strip().strip("\"'").lower())


#: Refused only by a build that links the library: {rule ID: (library, note)}.
REJECTS_WITH_LIBRARY = {
    "uimage/bad-header-crc": ("zlib", "uImage_probe: 'Header checksum of the uImage does not "
                              "match' (checked only when built with zlib: HAVE_LIBZ)"),
    "uimage/bad-data-crc": ("zlib", "uImage_probe: 'The data CRC does not match' (checked "
                            "only when built with zlib: HAVE_LIBZ)"),
}

REJECTS = {
    "layer/unknown-format": "no probe in file_type[] accepts the file",
    "arm64/bad-magic": "image_arm64_probe: arm64_header_check_magic",
    "arm64/truncated-header": "image_arm64_probe: file shorter than the header",
    "arm64/text-offset-unaligned": "kexec.c add_segment: base address not page aligned",
    "elf/malformed": "kexec-elf.c build_elf_info",
    "elf/no-load-segment": "no PT_LOAD to place",
    "elf/truncated": "PT_LOAD past the end of the file",
    "arm64/image-size-implausible": "locate_hole: 'Could not find a free area of memory'",
    "arm64/text-offset-implausible": "locate_hole: 'Could not find a free area of memory'",
    "layer/zboot-no-pe": "pez_arm64_probe: no PE header",
    "zboot/payload-outside-file": "pez_arm64_probe: payload past the end of the file",
    "zboot/unknown-compression": "pez_arm64_probe: compression type not supported",
    "ppc64/raw-head": "elf_ppc64_probe: not an ELF file",
    "ppc64/endian-mismatch": "purgatory stores __run_at_load in the wrong byte order",
    "target/arch-mismatch": "probes are compiled per architecture",
    "layer/android": "no probe in file_type[] takes an Android boot image (\"ANDROID!\" "
                     "where an Image has its header): 'Cannot determine the file type'",
    "layer/fit": "no probe in file_type[] takes a FIT (arm64: vmlinux, Image, uImage, "
                 "vmlinuz, uki; uImage_probe needs the legacy magic)",
}
REJECTS.update(x86.REJECTS[NAME])  # an x86 bzImage's (validator/loaders/x86.py)
REJECTS.update(riscv.REJECTS[NAME])  # a riscv64 kernel's (validator/loaders/riscv.py)

#: zboot methods pez_arm64_probe takes: the first four bytes of the name (zstd from 2.0.31).
ZBOOT_METHODS = ("gzip", "zstd", "lzma")
#: ih_comp values uImage_probe takes (IH_COMP_GZIP only with zlib), every release.
UIMAGE_COMPRESSION = (None, "gzip")
#: The file that is a stub when the library is not linked.
LIBRARY_SOURCE = {"zlib": "kexec/zlib.c", "liblzma": "kexec/lzma.c", "libzstd": "kexec/zstd.c"}
UPSTREAM_LIBRARIES = BUILDS[DEFAULT_BUILD].by_arch[None]


def decompresses(version: str, libraries: tuple[str, ...] = UPSTREAM_LIBRARIES) -> set[str]:
    """The codecs slurp_decompress_file of ``version`` undoes when built with
    ``libraries`` (zstd from 2.0.31)."""
    codecs = {codec for codec, library in CODEC_LIBRARY.items() if library in libraries}
    return codecs if at_least(version, ZSTD) else codecs - {"zstd"}


def zboot_methods(version: str) -> tuple[str, ...]:
    return ZBOOT_METHODS if at_least(version, ZSTD) else ("gzip", "lzma")


def applies(ctx: Context) -> bool:
    if x86.judges(ctx):
        return x86.applies(NAME, ctx)
    if riscv.judges(ctx):
        return riscv.applies(NAME, ctx)
    return True


#: e_machine values the ppc64 and arm64 builds' ELF probes take (elf_ppc64_probe takes
#: EM_PPC too); e_type values build_elf_exec_info takes.
ELF_MACHINES = {"EM_PPC64", "EM_PPC", "EM_AARCH64", "EM_RISCV"}
ELF_TYPES = {"ET_EXEC", "ET_DYN", "ET_CORE"}


def special(ctx: Context, version: str = RELEASES[-1][0],
            libraries: tuple[str, ...] = UPSTREAM_LIBRARIES):
    if x86.judges(ctx):
        yield from x86.special(NAME, ctx, version)
        return
    if riscv.judges(ctx):
        yield from riscv.special(NAME, ctx, version)
    elf = ctx.layer("elf")
    if elf is not None:
        if elf.get("machine") not in ELF_MACHINES:
            yield ("elf/unsupported-machine", "no ELF probe takes this e_machine", True)
        if elf.get("type") not in ELF_TYPES:
            yield ("elf/type", "build_elf_exec_info takes ET_EXEC, ET_DYN and ET_CORE", True)
        elif elf.get("machine") == "EM_PPC" and ctx.result.format == "unknown":
            yield (None, "elf_ppc64_probe takes EM_PPC and loads it as a ppc64 kernel", False)
    compression = ctx.facts.get("compression")
    zboot, uimage = ctx.layer("zboot"), ctx.layer("uimage")
    uki = ctx.layer("uki")
    if uki is not None and (other := uki.get("kexec_tools_linux")) and at_least(version, UKI):
        yield (None, f"uki_image_probe takes the last .linux of the section table (at "
               f"{other['offset']:#x}), not the one systemd-stub boots, which is judged "
               f"here", False)
    if uki is not None and (reason := _uki(zboot, compression, version)):
        yield ("layer/uki", reason, True)
    elif zboot is not None:
        yield from _zboot(ctx, zboot, version, libraries)
    elif uimage is not None and uimage.get("compression") is not None:
        yield from _uimage(uimage, libraries)
    elif compression and compression not in decompresses(version):
        since = " before 2.0.31 (a7fcd42)" if compression == "zstd" else ""
        yield ("layer/compressed", f"kexec-tools {version} does not undo {compression}{since}",
               True)
    elif compression and compression not in decompresses(version, libraries):
        yield (CODEC_NOT_LINKED, _not_linked(compression, "the kernel is probed as it is, "
                                             "compressed, and no probe takes it"), True)
    if ctx.result.format == "arm64-image" and ctx.header.get("image_size") == 0:
        yield (None, "image_size 0: assumes text_offset 0x80000 and 16 MiB", False)
    if ctx.result.format == "ppc64-head" and ctx.header.get("run_at_load") == 0x72756E30:
        yield (None, '"run0" is written as 1 for a panic kernel (kexec -p)', False)


def _uki(zboot: dict | None, compression: str | None, version: str) -> str | None:
    """Why kexec-tools at ``version`` refuses a UKI through kexec_load, or None when it
    takes it (a zboot inside: the zboot's own checks follow)."""
    if not at_least(version, UKI):
        return f"kexec-tools {version} has no UKI probe (uki_image_probe from 2.0.30, cd360f9)"
    if zboot is not None:
        return None
    if compression:
        return (f"uki_image_probe probes .linux undecompressed: no type takes {compression} "
                "('Can not recognize the kernel format in .linux section')")
    return ("uki_image_load hands the UKI's own bytes to image_arm64_load, whose kexec_load "
            "branch reads the UKI's DOS header as an Image header ('Cannot load'); kexec -s "
            "(kexec_file_load) loads .linux")


def _not_linked(codec: str, then: str) -> str:
    library = CODEC_LIBRARY[codec]
    return (f"no {library} linked ({LIBRARY_SOURCE[library]} is a stub), so {codec} is not "
            f"undone: {then}")


def _uimage(uimage: dict, libraries: tuple[str, ...]):
    method = uimage.get("compression")
    if method not in UIMAGE_COMPRESSION:
        yield ("layer/compressed", f"uImage_probe: 'uImage uses unsupported compression "
               f"method' ({method}: only none and gzip)", True)
    elif method == "gzip" and "zlib" not in libraries:
        yield (CODEC_NOT_LINKED, "uImage_probe takes IH_COMP_GZIP only when built with zlib "
               "(kexec/kexec-uImage.c HAVE_LIBZ): 'uImage uses unsupported compression "
               "method'", True)


def _zboot(ctx: Context, zboot: dict, version: str, libraries: tuple[str, ...]):
    method = str(zboot.get("compression") or "")
    if not at_least(version, ZBOOT_PROBE):
        yield ("layer/zboot", f"kexec-tools {version} has no zboot probe (pez_arm64_probe "
               "from 2.0.27, f67c414)", True)
        return
    if not at_least(version, ZBOOT_KEXEC_LOAD):
        yield ("layer/zboot", f"kexec-tools {version}: pez_arm64_load hands the decompressed "
               "kernel to kexec_file_load only; through kexec_load (-c, or plain -l/-p's "
               "fallback) the zboot PE is read as an Image (kexec_load from 2.0.28, 8f08e3b)",
               True)
        return
    if not (zboot.get("kexec_tools_accepts_name", True)
            and method.startswith(zboot_methods(version))):
        takes = ", ".join(zboot_methods(version))
        yield ("layer/zboot", f"zboot payload {method!r}: pez_arm64_probe of kexec-tools "
               f"{version} takes only {takes}", True)
        return
    # the codec by name and content (set only when they agree: a mismatch is a finding)
    codec = ctx.facts.get("compression")
    if codec in CODEC_LIBRARY and codec not in decompresses(version, libraries):
        yield (CODEC_NOT_LINKED, _not_linked(codec, "pez_prepare gets the payload back "
                                             "as it is and finds no arm64 Image in it"), True)
        return
    if at_least(version, PE_BOUND):
        bad = next((f.rule for f in ctx.result.findings
                    if f.rule in ("arm64/no-efi-stub", "arm64/pe-offset-invalid")), None)
        if bad:
            yield (bad, "pez_prepare: get_pehdr_offset: the decompressed Image has no PE "
                   "header at an e_lfanew within 0..4096 (2.0.32, 8322826)", True)
    if not at_least(version, SIGNED_CUT):
        yield (None, "a signed Image inside is not cut at its certificate table before "
               "2.0.31 (6aecc32): kexec_file_load's signature check fails on it", False)
