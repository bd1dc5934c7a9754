meta:
  id: riscv64_image
  title: Linux RISC-V kernel Image header
  application:
    - Linux kernel (arch/riscv)
    - kexec-tools
    - kexec_file_load
    - U-Boot booti
    - GRUB
  file-extension: [image, vmlinuz]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
doc: |
  The 64-byte header at the start of a flat RISC-V kernel `Image` (Linux 5.0
  and later). A loader reads it to learn how much memory the kernel needs
  (`image_size`) and at which alignment it must be placed (`text_offset`).
  Every field is little-endian. With the EFI stub, `code0` begins with the
  "MZ" signature of a PE/COFF image whose PE header starts at `res3`
  (`pe_offset`, the DOS header's e_lfanew at 0x3c).

  Versions: header version 0.1 (Linux 5.0) had only the `magic` "RISCV\0\0\0"
  at 0x30; version 0.2 (Linux 5.5) moved the identification to `magic2`
  "RSC\x05" at 0x38 and deprecated `magic`, whose place the EFI stub needs
  (it still holds "RISCV"). kexec-tools, kexec_file_load and U-Boot test
  `magic2`, GRUB 2.12 none of them.
doc-ref:
  - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
  - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
  - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
seq:
  - id: code0
    type: u4
    doc: |
      First instruction executed. With the EFI stub its low two bytes are
      "MZ" (`c.li s4, -13`, 0x5a4d, then `j _start_kernel`); without it a
      jump to the kernel entry.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
  - id: code1
    type: u4
    doc: Second instruction.
    doc-ref: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
  - id: text_offset
    type: u8
    doc: |
      Image load offset: 0x200000 (PMD_SIZE) for RV64, 0x400000 for RV32.
      kexec-tools and kexec_file_load use it as the alignment of the load
      address; U-Boot booti moves the image to the start of RAM plus it.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
  - id: image_size
    type: u8
    doc: |
      Effective size of the kernel image from its start to `_end`, BSS
      included. kexec-tools, kexec_file_load and U-Boot refuse zero.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
  - id: flags
    type: u8
    doc: Kernel flags; bit 0 is the endianness (1 big-endian, 0 little-endian).
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
  - id: version
    type: header_version
    doc: |
      Version of the header: minor in bits 0-15, major in bits 16-31. 0.2
      since Linux 5.5.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
  - id: res1
    type: u4
    doc: Reserved.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
  - id: res2
    type: u8
    doc: Reserved.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
  - id: magic
    size: 8
    doc: |
      "RISCV\0\0\0" (u64 0x5643534952, RISCV_IMAGE_MAGIC), deprecated
      since header version 0.2; no loader modelled reads it.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
  - id: magic2
    contents: [0x52, 0x53, 0x43, 0x05]
    doc: |
      "RSC\x05" (u32 0x05435352, RISCV_IMAGE_MAGIC2), since header version
      0.2. kexec-tools, kexec_file_load (6.16 and later) and U-Boot booti
      refuse an image without it.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
      - https://source.denx.de/u-boot/u-boot/-/blob/v2025.01/arch/riscv/lib/image.c
  - id: pe_offset
    type: u4
    -orig-id: res3
    doc: |
      Reserved for the PE/COFF offset: the file offset of "PE\0\0" when the
      kernel has the EFI stub (0x40 in 6.12), the DOS header's e_lfanew.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/efi-header.S?h=v6.12
instances:
  has_efi_stub:
    value: (code0 & 0xffff) == 0x5a4d
    doc: The low two bytes of code0 are "MZ", the DOS/PE signature the EFI stub needs.
    doc-ref: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
  is_big_endian:
    value: (flags & 1) != 0
    doc: flags bit 0 (RISCV_IMAGE_FLAG_BE).
    doc-ref: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
  has_magic:
    value: magic == [0x52, 0x49, 0x53, 0x43, 0x56, 0x00, 0x00, 0x00]
    doc: The deprecated magic "RISCV\0\0\0" is in place.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
types:
  header_version:
    doc: |
      The u32 version word, read as one word; major and minor are values
      over it.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
    seq:
      - id: raw
        type: u4
        doc: The whole word, as stored.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
    instances:
      major:
        value: raw >> 16
        doc: Bits 16-31, the major version.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
      minor:
        value: raw & 0xffff
        doc: Bits 0-15, the minor version.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
