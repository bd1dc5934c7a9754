"""PE/COFF (Microsoft's PE Format; the EFI stub of an arm64 Image, an EFI zboot image):
its constants, declared once.

``decoder`` describes the headers on the check path (with the parser generated from
specs/pe_efi_stub.ksy), ``writer`` builds the PE headers of an EFI application.
"""

#: Its place in the registry (``validator.formats.FORMATS``).
ROLE = "container"

MAGIC = SIGNATURE = PE_SIGNATURE = b"PE\0\0"  # at e_lfanew (an Image's res5, 0x3c)
IMAGE_FILE_MACHINE_ARM64 = 0xAA64
IMAGE_DIRECTORY_ENTRY_SECURITY = 4
#: SizeOfHeaders of an arm64 EFI stub (DOS/Image header + PE headers, file-aligned).
HEADERS_SIZE = 0x200
#: PE Machine -> the architecture kimage names (PE Format, 'Machine Types'), declared
#: once: the machines of the kernels kimage describes (``OWN_MACHINES``), then those of
#: architectures it does not (``validator.formats.foreign`` recognises their EFI stubs).
MACHINES = {0xAA64: "arm64", 0x8664: "x86_64", 0x14C: "i386", 0x5064: "riscv64",
            0x1C0: "arm", 0x1C2: "arm", 0x1C4: "arm", 0x200: "ia64", 0x5032: "riscv32",
            0x5128: "riscv128", 0x6232: "loongarch32", 0x6264: "loongarch64"}
OWN_MACHINES = frozenset({0xAA64, 0x8664, 0x14C, 0x5064})
