"""Kernels of architectures kimage does not describe: recognised by what identifies them
(an ELF e_machine, an EFI stub's PE Machine, a header magic), named, and reported as such.

No loader modelled here starts them (each architecture has its own kexec-tools and
kexec_file_load ports, boot loaders and firmware), so every loader verdict is "n/a"; the
finding ``foreign/not-described`` is an info, never an error. The magics, declared once:

- loongarch64 EFI kernel: "MZ" at 0, LINUX_PE_MAGIC 0x818223cd at 0x38 (Linux
  Documentation/arch/loongarch/booting.rst, arch/loongarch/kernel/head.S) and PE Machine
  0x6264; the magic alone is not enough (every EFI zboot header has it,
  drivers/firmware/efi/libstub/zboot-header.S).
- arm (32-bit) zImage: 0x016f2818 at 0x24 (Linux arch/arm/boot/compressed/head.S; the
  magic kexec-tools' zImage_arm_probe reads).
- s390 image: "S390EP" at 0x10008 (Linux arch/s390/kernel/kexec_image.c s390_image_probe).
- PE Machine (PE Format, 'Machine Types'), ELF e_machine (the gABI / <elf.h>) and a
  uImage's ih_arch (U-Boot include/image.h) when its payload is no kernel kimage knows.
"""

from __future__ import annotations

from validator.formats.pe import MACHINES, OWN_MACHINES

#: Its place in the registry (``validator.formats.FORMATS``): tried after every header
#: format kimage describes.
ROLE = "header"

FORMAT = "foreign"

LOONGARCH_PE_MAGIC = (0x818223CD).to_bytes(4, "little")
LOONGARCH_PE_MAGIC_OFFSET = 0x38
ARM_ZIMAGE_MAGIC = (0x016F2818).to_bytes(4, "little")
ARM_ZIMAGE_MAGIC_OFFSET = 0x24
S390_MAGIC = b"S390EP"
S390_MAGIC_OFFSET = 0x10008

#: ELF e_machine -> architecture, for the machines kimage does not describe (EM_AARCH64,
#: EM_PPC64/EM_PPC, EM_RISCV, EM_X86_64 and EM_386 are its own).
ELF_MACHINES = {
    2: "sparc", 4: "m68k", 8: "mips", 10: "mips", 15: "parisc", 18: "sparc", 22: "s390x",
    40: "arm", 42: "sh", 43: "sparc64", 50: "ia64", 87: "m32r", 92: "openrisc",
    94: "xtensa", 106: "blackfin", 113: "nios2", 164: "hexagon", 188: "microblaze",
    252: "csky", 258: "loongarch64", 0x9026: "alpha", 0x9041: "m32r",
}
#: PE Machine -> architecture, for EFI stubs kimage does not describe.
PE_MACHINES = {m: arch for m, arch in MACHINES.items() if m not in OWN_MACHINES}
#: uImage ih_arch -> architecture, for the ones kimage does not describe (U-Boot
#: include/image.h IH_ARCH_*, an append-only enum: ARM 2, I386 3, PPC 7, ARM64 22, X86_64
#: 24 and RISCV 26 are left to the payload).
UIMAGE_ARCHES = {
    1: "alpha", 2: "arm", 4: "ia64", 5: "mips", 6: "mips64", 8: "s390x", 9: "sh",
    10: "sparc", 11: "sparc64", 12: "m68k", 14: "microblaze", 15: "nios2", 17: "avr32",
    20: "nds32", 21: "openrisc", 23: "arc", 25: "xtensa",
}
#: Every architecture name this package reports (the report's schema lists them).
ARCHES = tuple(sorted(set(ELF_MACHINES.values()) | set(PE_MACHINES.values())
                      | set(UIMAGE_ARCHES.values())))
#: The magics this package recognises (the registry asks every format for its own).
MAGICS = (LOONGARCH_PE_MAGIC, ARM_ZIMAGE_MAGIC, S390_MAGIC)


#: (test or None, decoder probe or None): see validator.formats.header_probes
PROBE = (None, "probe")
