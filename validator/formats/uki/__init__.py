"""Unified kernel image (UKI, the UAPI group's "Unified Kernel Image" specification): the
systemd-stub EFI application with the kernel and its companions as PE sections. Its
constants, declared once.

``decoder`` takes the layer off on the check path (the kernel in ``.linux``), ``rules``
judges what the UKI says of itself against the kernel, ``samples`` builds UKIs and their
mutations for the seed corpus.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "wrapper"

#: A UKI starts as every PE file does (the DOS header's e_magic); what makes it a UKI is a
#: ``.linux`` section in its section table (``decoder.probe``).
MAGIC = b"MZ"

#: The UKI sections kimage reports, of those systemd-stub reads (systemd v257 uki.h
#: ``UnifiedSection`` and ``unified_sections[]``): the kernel, its initrd, command line,
#: os-release, uname, device tree and the SBAT revocation data. The v257 stub takes the
#: first section of each name (src/boot/pe.c pe_locate_sections_internal: "First matching
#: section wins"; older ones: FIRST_WINS_SINCE below) and its MIN(SizeOfRawData,
#: VirtualSize) bytes.
LINUX, INITRD, CMDLINE, OSREL, UNAME, DTB, SBAT = (
    ".linux", ".initrd", ".cmdline", ".osrel", ".uname", ".dtb", ".sbat")
#: A multi-profile UKI (systemd v257): each ``.profile`` section starts a profile, which
#: runs to the next one. The sections before the first are the base; the stub boots
#: profile 0 unless told otherwise, and a section of profile 0 replaces the base's of
#: its name (src/boot/stub.c find_sections; src/boot/pe.c pe_locate_profile_sections).
PROFILE = ".profile"
#: The stub names itself: "#### LoaderInfo: systemd-stub VERSION ####" (src/boot/stub.c),
#: in a ``.sdmagic`` section (Debian's 254 and 257 stubs), else in its own bytes before
#: the UKI's sections (Debian's 252 stub has no such section).
SDMAGIC = ".sdmagic"
SDMAGIC_TEXT = (b"#### LoaderInfo: systemd-stub ", b" ####")
#: Which section of a name the stub boots, by version. Before FIRST_WINS_SINCE the last of
#: each name in the whole table (src/boot/efi/pe.c locate_sections: no break; Debian's
#: 252.39 and 254.26 stubs boot the last of two .cmdline sections, run here under EDK2);
#: from it the first (pe_locate_sections: "First matching section wins"); from
#: PROFILES_SINCE the first within the base and profile 0 (257.13 boots profile 0's
#: .cmdline, run here). The source read with the first rule and no profiles carries no
#: release tag: 255 is taken as its first release, the one after the last stub seen
#: booting the last section.
FIRST_WINS_SINCE = 255
PROFILES_SINCE = 257
#: How far into the file the stub's own LoaderInfo text is looked for, when it has no
#: ``.sdmagic`` section.
STUB_SEARCH = 1 << 20
SECTIONS = (LINUX, INITRD, CMDLINE, OSREL, UNAME, DTB, SBAT)
#: Text sections read and reported, each up to this many bytes.
TEXT_SECTIONS = (CMDLINE, OSREL, UNAME, SBAT)
TEXT_LIMIT = 64 << 10
#: PE/COFF: at most 96 sections (Microsoft PE Format, "COFF File Header"); the probe reads
#: no more of the section table than that.
MAX_SECTIONS = 96
#: systemd src/boot/pe.c pe_kernel_info (v257): a kernel whose optional header says
#: MajorImageVersion < 1 predates the LoadFile2 initrd protocol ("kernel stub 1.0") and is
#: refused on arm64 (EFI_UNSUPPORTED, linux_exec: "Bad kernel image").
MIN_KERNEL_IMAGE_VERSION = 1
#: The os-release keys reported (os-release(5)).
OSREL_KEYS = ("ID", "VERSION_ID", "VERSION", "PRETTY_NAME")
FDT_MAGIC = b"\xd0\x0d\xfe\xed"


def mz(view) -> bool:
    """A PE file's "MZ" (the decoder's ``probe`` then looks for a .linux section)."""
    return view.read(0, 2) == MAGIC


#: (test, decoder probe or None, decoder unwrap): see validator.formats.unwraps
UNWRAPS = ((mz, "probe", "unwrap"),)
