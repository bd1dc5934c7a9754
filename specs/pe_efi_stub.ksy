meta:
  id: pe_efi_stub
  title: PE/COFF headers an EFI loader reads (EFI-stub kernel, EFI zboot image)
  application:
    - UEFI firmware (EDK2 BasePeCoffLib)
    - GRUB (EFI linux loader)
    - systemd-boot
    - kexec-tools (kexec-pe-zboot.c)
  file-extension: [efi, vmlinuz, image]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
doc: |
  What an EFI loader reads of a PE/COFF image before it starts it: the DOS
  header's "MZ" and e_lfanew (0x3c), the "PE\0\0" signature there, the COFF
  file header, the optional header (PE32, magic 0x10b, or PE32+, magic
  0x20b), its data directories (the certificate table is the one a
  Secure-Boot loader reads) and the section table. An arm64 EFI-stub Image
  is such a file whose DOS header doubles as the Image header (e_lfanew is
  the Image header's pe_offset); an EFI zboot vmlinuz.efi is another, whose
  DOS header carries the zboot header. The rest of the DOS header, which no
  EFI loader reads, is kept as bytes.
doc-ref:
  - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "PE Format" (Microsoft)
  - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c PeCoffLoaderGetPeHeader
  - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
  - https://github.com/torvalds/linux/blob/v6.1/arch/arm64/kernel/efi-header.S
seq:
  - id: e_magic
    contents: "MZ"
    -orig-id: e_magic
    doc: The DOS signature "MZ" (EFI_IMAGE_DOS_SIGNATURE 0x5a4d).
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h EFI_IMAGE_DOS_HEADER
  - id: dos_rest
    size: 0x3a
    -orig-id: e_cblp..e_res2
    doc: |
      The rest of the DOS header up to e_lfanew; EFI loaders do not read
      it. In an arm64 EFI-stub Image it is the first instructions and the
      Image header, in a zboot image the zboot header.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "MS-DOS Stub (Image Only)"
  - id: e_lfanew
    type: u4
    -orig-id: e_lfanew
    doc: File offset of the "PE\0\0" signature.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Signature (Image Only)"
instances:
  pe:
    pos: e_lfanew
    type: pe_header
    doc: The NT headers and section table at e_lfanew.
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c PeCoffLoaderGetPeHeader
  certificate:
    pos: pe.certificate_table.virtual_address
    type: win_certificate
    if: pe.has_certificate_table
    doc: |
      The first WIN_CERTIFICATE of the attribute certificate table. The
      security directory's "VirtualAddress" is a file offset, not an RVA.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
types:
  pe_header:
    doc: '"PE\0\0", the COFF file header, the optional header and the section table.'
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h EFI_IMAGE_NT_HEADERS64
    seq:
      - id: signature
        contents: ["PE", 0, 0]
        -orig-id: Signature
        doc: EFI_IMAGE_NT_SIGNATURE, "PE\0\0".
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Signature (Image Only)"
      - id: coff
        type: coff_header
        -orig-id: FileHeader
        doc: The COFF file header.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: optional_header
        type: optional_header
        size: coff.size_of_optional_header
        if: coff.size_of_optional_header != 0
        -orig-id: OptionalHeader
        doc: |
          The optional header, exactly SizeOfOptionalHeader bytes (an image
          without one is no EFI application).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header (Image Only)"
      - id: sections
        type: section_header
        repeat: expr
        repeat-expr: coff.number_of_sections
        -orig-id: EFI_IMAGE_SECTION_HEADER[]
        doc: The section table, right after the optional header.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
    instances:
      certificate_table:
        value: optional_header.data_directories[4]
        if: coff.size_of_optional_header != 0 and optional_header.number_of_rva_and_sizes > 4
        -orig-id: DataDirectory[EFI_IMAGE_DIRECTORY_ENTRY_SECURITY]
        doc: The certificate (security) directory, data directory 4.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Data Directories (Image Only)"
      has_certificate_table:
        value: coff.size_of_optional_header != 0 and optional_header.number_of_rva_and_sizes > 4 and optional_header.data_directories[4].size != 0
        doc: The image carries an attribute certificate table (it is signed).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
  coff_header:
    doc: EFI_IMAGE_FILE_HEADER, 20 bytes.
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h EFI_IMAGE_FILE_HEADER
    seq:
      - id: machine
        type: u2
        enum: machine
        -orig-id: Machine
        doc: Target machine; the firmware starts only images of its own (0xaa64 for arm64).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Machine Types"
      - id: number_of_sections
        type: u2
        -orig-id: NumberOfSections
        doc: Entries in the section table.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: time_date_stamp
        type: u4
        -orig-id: TimeDateStamp
        doc: Creation time, seconds since 1970; zero in Linux images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: pointer_to_symbol_table
        type: u4
        -orig-id: PointerToSymbolTable
        doc: File offset of the COFF symbol table, zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: number_of_symbols
        type: u4
        -orig-id: NumberOfSymbols
        doc: Entries in the COFF symbol table, zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: size_of_optional_header
        type: u2
        -orig-id: SizeOfOptionalHeader
        doc: Size of the optional header; the section table follows it.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "COFF File Header (Object and Image)"
      - id: characteristics
        type: u2
        -orig-id: Characteristics
        doc: IMAGE_FILE_* flags (EXECUTABLE_IMAGE 0x2, LINE_NUMS_STRIPPED 0x4, DEBUG_STRIPPED 0x200, ...).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Characteristics"
  optional_header:
    doc: EFI_IMAGE_OPTIONAL_HEADER32 or EFI_IMAGE_OPTIONAL_HEADER64, chosen by magic.
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h EFI_IMAGE_OPTIONAL_HEADER64
    seq:
      - id: magic
        type: u2
        enum: optional_magic
        valid:
          any-of: ['optional_magic::pe32', 'optional_magic::pe32_plus']
        -orig-id: Magic
        doc: 0x10b PE32, 0x20b PE32+; EDK2 takes no other.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: major_linker_version
        type: u1
        -orig-id: MajorLinkerVersion
        doc: Linker major version (informative).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: minor_linker_version
        type: u1
        -orig-id: MinorLinkerVersion
        doc: Linker minor version (informative).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: size_of_code
        type: u4
        -orig-id: SizeOfCode
        doc: Size of the code sections.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: size_of_initialized_data
        type: u4
        -orig-id: SizeOfInitializedData
        doc: Size of the initialized data sections.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: size_of_uninitialized_data
        type: u4
        -orig-id: SizeOfUninitializedData
        doc: Size of the BSS sections.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: address_of_entry_point
        type: u4
        -orig-id: AddressOfEntryPoint
        doc: RVA of the entry point the firmware calls (efi_pe_entry in Linux).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: base_of_code
        type: u4
        -orig-id: BaseOfCode
        doc: RVA of the start of the code section.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: base_of_data
        type: u4
        if: magic == optional_magic::pe32
        -orig-id: BaseOfData
        doc: RVA of the start of the data section (PE32 only).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Standard Fields (Image Only)"
      - id: image_base
        type:
          switch-on: magic
          cases:
            'optional_magic::pe32': u4
            'optional_magic::pe32_plus': u8
        -orig-id: ImageBase
        doc: Preferred load address (zero in Linux images; the firmware relocates).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: section_alignment
        type: u4
        -orig-id: SectionAlignment
        doc: Alignment of sections in memory.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: file_alignment
        type: u4
        -orig-id: FileAlignment
        doc: Alignment of section data in the file.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: major_operating_system_version
        type: u2
        -orig-id: MajorOperatingSystemVersion
        doc: Required OS major version (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: minor_operating_system_version
        type: u2
        -orig-id: MinorOperatingSystemVersion
        doc: Required OS minor version (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: major_image_version
        type: u2
        -orig-id: MajorImageVersion
        doc: |
          Image major version; Linux stores LINUX_EFISTUB_MAJOR_VERSION, which
          loaders read to learn which boot-protocol features the stub has
          (such as loading the initrd through the LINUX_EFI_INITRD_MEDIA_GUID
          device path).
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/linux/pe.h LINUX_EFISTUB_MAJOR_VERSION
      - id: minor_image_version
        type: u2
        -orig-id: MinorImageVersion
        doc: Image minor version (LINUX_EFISTUB_MINOR_VERSION).
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/linux/pe.h LINUX_EFISTUB_MINOR_VERSION
      - id: major_subsystem_version
        type: u2
        -orig-id: MajorSubsystemVersion
        doc: Subsystem major version.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: minor_subsystem_version
        type: u2
        -orig-id: MinorSubsystemVersion
        doc: Subsystem minor version.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: win32_version_value
        type: u4
        -orig-id: Win32VersionValue
        doc: Reserved, zero.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: size_of_image
        type: u4
        -orig-id: SizeOfImage
        doc: Size of the image in memory, headers included; what the firmware allocates.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: size_of_headers
        type: u4
        -orig-id: SizeOfHeaders
        doc: Size of the DOS stub, PE header and section table, rounded to FileAlignment.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: check_sum
        type: u4
        -orig-id: CheckSum
        doc: Image checksum (zero in Linux images; not checked by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: subsystem
        type: u2
        enum: subsystem
        -orig-id: Subsystem
        doc: Subsystem; a kernel is an EFI application (10).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Windows Subsystem"
      - id: dll_characteristics
        type: u2
        -orig-id: DllCharacteristics
        doc: IMAGE_DLLCHARACTERISTICS_* flags (zboot-header.S sets NX_COMPAT, 0x100).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "DLL Characteristics"
      - id: size_of_stack_reserve
        type:
          switch-on: magic
          cases:
            'optional_magic::pe32': u4
            'optional_magic::pe32_plus': u8
        -orig-id: SizeOfStackReserve
        doc: Stack reserve (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: size_of_stack_commit
        type:
          switch-on: magic
          cases:
            'optional_magic::pe32': u4
            'optional_magic::pe32_plus': u8
        -orig-id: SizeOfStackCommit
        doc: Stack commit (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: size_of_heap_reserve
        type:
          switch-on: magic
          cases:
            'optional_magic::pe32': u4
            'optional_magic::pe32_plus': u8
        -orig-id: SizeOfHeapReserve
        doc: Heap reserve (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: size_of_heap_commit
        type:
          switch-on: magic
          cases:
            'optional_magic::pe32': u4
            'optional_magic::pe32_plus': u8
        -orig-id: SizeOfHeapCommit
        doc: Heap commit (unused by EFI).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: loader_flags
        type: u4
        -orig-id: LoaderFlags
        doc: Reserved, zero.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Windows-Specific Fields (Image Only)"
      - id: number_of_rva_and_sizes
        type: u4
        -orig-id: NumberOfRvaAndSizes
        doc: |
          Number of data directories that follow. EDK2's
          PeCoffLoaderGetPeHeader refuses more than 16
          (EFI_IMAGE_NUMBER_OF_DIRECTORY_ENTRIES).
        doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c PeCoffLoaderGetPeHeader
      - id: data_directories
        type: data_directory
        repeat: expr
        repeat-expr: number_of_rva_and_sizes
        -orig-id: DataDirectory
        doc: |
          The data directories, by index: 0 export table, 1 import table, 2
          resource table, 3 exception table, 4 certificate table (instance
          certificate_table), 5 base relocation table, 6 debug, 7 architecture,
          8 global pointer, 9 TLS table, 10 load config table, 11 bound import,
          12 IAT, 13 delay import descriptor, 14 CLR runtime header, 15 reserved.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Data Directories (Image Only)"
    instances:
      is_pe32_plus:
        value: magic == optional_magic::pe32_plus
        doc: PE32+ (64-bit fields), as every arm64 kernel is.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header (Image Only)"
      directory_count_ok:
        value: number_of_rva_and_sizes <= 16
        doc: At most 16 data directories, as EDK2 requires.
        doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c PeCoffLoaderGetPeHeader
  data_directory:
    doc: EFI_IMAGE_DATA_DIRECTORY.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Data Directories (Image Only)"
    seq:
      - id: virtual_address
        type: u4
        -orig-id: VirtualAddress
        doc: RVA of the table (for the certificate table, a file offset).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Data Directories (Image Only)"
      - id: size
        type: u4
        -orig-id: Size
        doc: Size of the table in bytes.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Optional Header Data Directories (Image Only)"
  section_header:
    doc: EFI_IMAGE_SECTION_HEADER, 40 bytes.
    doc-ref: https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h EFI_IMAGE_SECTION_HEADER
    seq:
      - id: name
        size: 8
        -orig-id: Name
        doc: Section name, NUL-padded (".text", ".data").
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: virtual_size
        type: u4
        -orig-id: Misc.VirtualSize
        doc: Size of the section in memory.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: virtual_address
        type: u4
        -orig-id: VirtualAddress
        doc: RVA of the section.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: size_of_raw_data
        type: u4
        -orig-id: SizeOfRawData
        doc: Size of the section's data in the file.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: pointer_to_raw_data
        type: u4
        -orig-id: PointerToRawData
        doc: File offset of the section's data.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: pointer_to_relocations
        type: u4
        -orig-id: PointerToRelocations
        doc: Zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: pointer_to_linenumbers
        type: u4
        -orig-id: PointerToLinenumbers
        doc: Zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: number_of_relocations
        type: u2
        -orig-id: NumberOfRelocations
        doc: Zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: number_of_linenumbers
        type: u2
        -orig-id: NumberOfLinenumbers
        doc: Zero for images.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Table (Section Headers)"
      - id: characteristics
        type: u4
        -orig-id: Characteristics
        doc: IMAGE_SCN_* flags (CNT_CODE 0x20, MEM_EXECUTE 0x20000000, MEM_READ 0x40000000, ...).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Section Flags"
  win_certificate:
    doc: WIN_CERTIFICATE header; bCertificate (dwLength - 8 bytes) follows.
    doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
    seq:
      - id: length
        type: u4
        -orig-id: dwLength
        doc: Length of this entry, header included.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
      - id: revision
        type: u2
        enum: win_cert_revision
        -orig-id: wRevision
        doc: WIN_CERT_REVISION_1_0 (0x100) or WIN_CERT_REVISION_2_0 (0x200).
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
      - id: certificate_type
        type: u2
        enum: win_cert_type
        -orig-id: wCertificateType
        doc: WIN_CERT_TYPE_PKCS_SIGNED_DATA (2) for Authenticode.
        doc-ref: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "The Attribute Certificate Table (Image Only)"
enums:
  machine:
    0x0: unknown
    0x14c: i386
    0x1c0: arm
    0x1c2: thumb
    0x1c4: armnt
    0x5032: riscv32
    0x5064: riscv64
    0x6232: loongarch32
    0x6264: loongarch64
    0x8664: amd64
    0xaa64: arm64
  optional_magic:
    0x10b: pe32
    0x20b: pe32_plus
  subsystem:
    0: unknown
    1: native
    2: windows_gui
    3: windows_cui
    10: efi_application
    11: efi_boot_service_driver
    12: efi_runtime_driver
    13: efi_rom
  win_cert_revision:
    0x100: revision_1_0
    0x200: revision_2_0
  win_cert_type:
    1: x509
    2: pkcs_signed_data
    3: reserved_1
    4: ts_stack_signed
