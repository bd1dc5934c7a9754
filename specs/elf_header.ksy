meta:
  id: elf_header
  title: ELF identification, ELF header and program-header table (what a kernel loader reads)
  application:
    - kexec-tools (kexec/kexec-elf.c build_elf_info)
    - kexec_file_load (kernel/kexec_elf.c kexec_build_elf_info)
  file-extension: [elf, vmlinux]
  license: CC0-1.0
  ks-version: "0.11"
doc: |
  The part of an ELF file a kernel loader reads before it places segments:
  the 16-byte identification, the ELF header in the class (ELFCLASS32 or
  ELFCLASS64) and byte order (ELFDATA2LSB or ELFDATA2MSB) the
  identification names, and the program-header table at e_phoff
  (e_phnum entries). kexec-tools' build_elf_info and the kernel's
  kexec_build_elf_info read exactly these; a ppc64 vmlinux carries its
  kernel head at the start of the first PT_LOAD. Section headers, which no
  kernel loader reads, are not described.
doc-ref:
  - https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
  - https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
  - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
  - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-elf.c
seq:
  - id: magic
    contents: [0x7f, "ELF"]
    -orig-id: EI_MAG0..EI_MAG3
    doc: ELFMAG, "\x7fELF".
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - id: ei_class
    type: u1
    enum: ei_class
    valid:
      any-of: ['ei_class::elfclass32', 'ei_class::elfclass64']
    -orig-id: EI_CLASS
    doc: File class; 1 = 32-bit objects, 2 = 64-bit objects. Loaders refuse ELFCLASSNONE.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - id: ei_data
    type: u1
    enum: ei_data
    valid:
      any-of: ['ei_data::elfdata2lsb', 'ei_data::elfdata2msb']
    -orig-id: EI_DATA
    doc: Byte order of everything after the identification; 1 = little-endian, 2 = big-endian.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - id: ei_version
    type: u1
    -orig-id: EI_VERSION
    doc: Identification version, EV_CURRENT (1); kexec_file_load refuses another value.
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
  - id: ei_osabi
    type: u1
    -orig-id: EI_OSABI
    doc: OS/ABI identification (ELFOSABI_NONE = 0 for Linux kernels).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - id: ei_abiversion
    type: u1
    -orig-id: EI_ABIVERSION
    doc: ABI version, 0 for Linux kernels.
    doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
  - id: ei_pad
    size: 7
    -orig-id: EI_PAD
    doc: Padding to EI_NIDENT (16), zero.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  - id: header
    type: file_header
    -orig-id: Elf32_Ehdr, Elf64_Ehdr
    doc: The rest of the ELF header, in the class and byte order of the identification.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
instances:
  is_64:
    value: ei_class == ei_class::elfclass64
    doc: True for ELFCLASS64 (Elf64_* structures), false for ELFCLASS32.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  is_le:
    value: ei_data == ei_data::elfdata2lsb
    doc: True for ELFDATA2LSB (little-endian), false for ELFDATA2MSB.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
  program_headers:
    io: _root._io
    pos: header.e_phoff
    type: program_header
    repeat: expr
    repeat-expr: header.e_phnum
    if: header.e_phnum != 0
    -orig-id: Elf32_Phdr[], Elf64_Phdr[]
    doc: |
      The program-header table, e_phnum entries at file offset e_phoff.
      kexec-tools and kexec_file_load read e_phnum * e_phentsize bytes and
      require e_phentsize to be sizeof(Elf_Phdr) (see phentsize_ok).
    doc-ref:
      - https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
types:
  file_header:
    doc: Elf32_Ehdr / Elf64_Ehdr after e_ident.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
    meta:
      endian:
        switch-on: _root.ei_data
        cases:
          'ei_data::elfdata2lsb': le
          'ei_data::elfdata2msb': be
    seq:
      - id: e_type
        type: u2
        enum: e_type
        -orig-id: e_type
        doc: Object file type; a vmlinux is ET_EXEC (2).
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      - id: e_machine
        type: u2
        enum: e_machine
        -orig-id: e_machine
        doc: Architecture (EM_*).
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf-em.h
      - id: e_version
        type: u4
        -orig-id: e_version
        doc: Object file version, EV_CURRENT (1).
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_entry
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: e_entry
        doc: Virtual address of the entry point.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_phoff
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: e_phoff
        doc: File offset of the program-header table.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_shoff
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: e_shoff
        doc: File offset of the section-header table (not read by kernel loaders).
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_flags
        type: u4
        -orig-id: e_flags
        doc: Processor-specific flags (ppc64 ELFv1/ELFv2 ABI in bits 0-1).
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_ehsize
        type: u2
        -orig-id: e_ehsize
        doc: Size of the ELF header, 52 (ELF32) or 64 (ELF64).
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_phentsize
        type: u2
        -orig-id: e_phentsize
        doc: Size of one program header, 32 (ELF32) or 56 (ELF64); loaders refuse another size.
        doc-ref:
          - https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
          - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
      - id: e_phnum
        type: u2
        -orig-id: e_phnum
        doc: |
          Number of program headers. 0xffff (PN_XNUM) means "in section 0's
          sh_info" to the gABI; kexec-tools and kexec_file_load take it as
          65535 headers.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_shentsize
        type: u2
        -orig-id: e_shentsize
        doc: Size of one section header.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_shnum
        type: u2
        -orig-id: e_shnum
        doc: Number of section headers.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
      - id: e_shstrndx
        type: u2
        -orig-id: e_shstrndx
        doc: Section-header index of the section-name string table.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
    instances:
      phentsize_ok:
        value: 'e_phentsize == (_root.is_64 ? 56 : 32)'
        doc: |
          e_phentsize is sizeof(Elf64_Phdr) (56) or sizeof(Elf32_Phdr) (32);
          kexec-tools ("ELF bad program header size") and kexec_file_load
          ("Bad program header size") refuse any other value.
        doc-ref:
          - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
          - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-elf.c
  program_header:
    doc: |
      One Elf32_Phdr or Elf64_Phdr. The field order differs: ELF64 puts
      p_flags second (for alignment), ELF32 puts it seventh.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
    meta:
      endian:
        switch-on: _root.ei_data
        cases:
          'ei_data::elfdata2lsb': le
          'ei_data::elfdata2msb': be
    seq:
      - id: p_type
        type: u4
        enum: p_type
        -orig-id: p_type
        doc: Segment type; loaders place PT_LOAD (1) segments.
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      - id: p_flags64
        type: u4
        if: _root.is_64
        -orig-id: p_flags
        doc: Segment permissions PF_X (1), PF_W (2), PF_R (4), ELF64 position.
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      - id: p_offset
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_offset
        doc: File offset of the segment's first byte.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - id: p_vaddr
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_vaddr
        doc: Virtual address of the segment in memory.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - id: p_paddr
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_paddr
        doc: Physical address; kexec-tools and kexec_file_load place segments by it.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - id: p_filesz
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_filesz
        doc: Bytes of the segment in the file.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - id: p_memsz
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_memsz
        doc: Bytes of the segment in memory (p_memsz >= p_filesz; the rest is zeroed).
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
      - id: p_flags32
        type: u4
        if: not _root.is_64
        -orig-id: p_flags
        doc: Segment permissions PF_X (1), PF_W (2), PF_R (4), ELF32 position.
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      - id: p_align
        type:
          switch-on: _root.is_64
          cases:
            true: u8
            false: u4
        -orig-id: p_align
        doc: Alignment of the segment in memory and in the file.
        doc-ref: https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
    instances:
      p_flags:
        value: '_root.is_64 ? p_flags64 : p_flags32'
        doc: p_flags wherever the class puts it.
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
      is_load:
        value: p_type == p_type::pt_load
        doc: A PT_LOAD segment, one a loader places.
        doc-ref: https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
enums:
  ei_class:
    0: elfclassnone
    1: elfclass32
    2: elfclass64
  ei_data:
    0: elfdatanone
    1:
      id: elfdata2lsb
      doc: Two's complement, little-endian.
    2:
      id: elfdata2msb
      doc: Two's complement, big-endian.
  e_type:
    0: et_none
    1: et_rel
    2: et_exec
    3: et_dyn
    4: et_core
  e_machine:
    0: em_none
    3: em_386
    20:
      id: em_ppc
      doc: PowerPC (32-bit)
    21:
      id: em_ppc64
      doc: PowerPC 64-bit
    40: em_arm
    62: em_x86_64
    183:
      id: em_aarch64
      doc: ARM 64-bit
    243: em_riscv
    258: em_loongarch
  p_type:
    0: pt_null
    1: pt_load
    2: pt_dynamic
    3: pt_interp
    4: pt_note
    5: pt_shlib
    6: pt_phdr
    7: pt_tls
    0x6474e550: pt_gnu_eh_frame
    0x6474e551: pt_gnu_stack
    0x6474e552: pt_gnu_relro
    0x6474e553: pt_gnu_property
