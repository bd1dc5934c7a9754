meta:
  id: arm64_image
  title: Linux arm64 (AArch64) kernel Image header
  application:
    - Linux kernel (arch/arm64)
    - kexec-tools
    - kexec_file_load
    - U-Boot booti
    - GRUB
  file-extension: [image, vmlinuz]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
  bit-endian: le
doc: |
  The 64-byte header at the start of an uncompressed arm64 kernel `Image`
  (3.12 and later). A loader reads it to learn how much memory the kernel
  needs (`image_size`), where inside a 2 MiB-aligned region it must be placed
  (`text_offset`), and which endianness, page size and placement it expects
  (`flags`). Every field is little-endian, also for big-endian kernels
  (since 3.17). With the EFI stub, `code0` doubles as the "MZ" signature of
  a PE/COFF image whose PE header starts at `pe_offset`.

  Versions: 3.12-3.16 had the 64-byte layout with `image_size` and `flags`
  still reserved (zero); in such an image `text_offset` is stored in the
  kernel's byte order and a loader assumes 0x80000 (see `is_pre_3_17`).
  3.7-3.11 kernels had a 32-byte header without the magic and are not
  described here.
doc-ref:
  - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "3. Decompress the kernel image" and "4. Call the kernel image"
  - Linux 6.1 arch/arm64/include/asm/image.h
  - Linux 6.1 arch/arm64/kernel/head.S and arch/arm64/kernel/efi-header.S
  - 'Linux commit a2c1d73b94ed "arm64: Update the Image header" (3.17)'
seq:
  - id: code0
    type: u4
    doc: |
      First instruction executed. Without the EFI stub a NOP or a branch;
      with the EFI stub an instruction whose low two bytes are "MZ"
      (6.1: `ccmp x18, #0, #0xd, pl` = 0xfa405a4d; older: `add x13, x18,
      #0x16` = 0x91005a4d).
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Executable magic code"
      - Linux 6.1 arch/arm64/kernel/efi-header.S efi_signature_nop
  - id: code1
    type: u4
    doc: |
      Second instruction, in 6.1 a `b primary_entry` (0x14000000 | imm26)
      whose target is the kernel's primary entry point.
    doc-ref: Linux 6.1 arch/arm64/kernel/head.S
  - id: text_offset
    type: u8
    doc: |
      Offset of the image from a 2 MiB-aligned base address. 0x80000 by
      tradition, 0 since Linux 5.8 (TEXT_OFFSET removed in 5.10). Binding
      only when `image_size` is non-zero; before 3.17 stored in the
      kernel's byte order.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Image load offset"
      - 'Linux commit cfa7ede20f13 "arm64: set TEXT_OFFSET to 0x0 in preparation for removing it entirely"'
  - id: image_size
    type: u8
    doc: |
      Effective size of the kernel image from its start to `_end`,
      including BSS that the file does not store. Zero means a kernel
      older than 3.17; loaders then assume 16 MiB (kexec-tools, U-Boot)
      or refuse (kexec_file_load).
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Effective Image size"
      - Linux 6.1 arch/arm64/kernel/image.h _kernel_size_le
  - id: flags
    type: image_flags
    doc: Informative flags (reserved and zero before 3.17).
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
      - Linux 6.1 arch/arm64/include/asm/image.h ARM64_IMAGE_FLAG_*
  - id: res2
    type: u8
    doc: Reserved, zero.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
  - id: res3
    type: u8
    doc: Reserved, zero.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
  - id: res4
    type: u8
    doc: Reserved, zero.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
  - id: magic
    size: 4
    valid: '[0x41, 0x52, 0x4d, 0x64]'
    doc: |
      "ARM\x64" (u32 0x644d5241, ARM64_IMAGE_MAGIC). kexec-tools,
      kexec_file_load, U-Boot booti and GRUB up to 2.06 refuse an image
      without it.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Magic number"
      - Linux 6.1 arch/arm64/include/asm/image.h ARM64_IMAGE_MAGIC
      - kexec-tools kexec/arch/arm64/image-header.h arm64_header_check_magic
      - U-Boot arch/arm/lib/image.c booti_setup
  - id: pe_offset
    type: u4
    doc: |
      booting.rst's res5: the file offset of the "PE\0\0" signature when
      the kernel has the EFI stub (6.1: 0x40); zero otherwise.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
      - Linux 6.1 arch/arm64/kernel/efi-header.S
instances:
  has_efi_stub:
    value: (code0 & 0xffff) == 0x5a4d
    doc: The low two bytes of code0 are "MZ", the DOS/PE signature the EFI stub needs.
    doc-ref: Linux 6.1 arch/arm64/kernel/efi-header.S
  is_pre_3_17:
    value: image_size == 0
    doc: |
      An image_size of zero marks a kernel older than 3.17: `flags` is
      absent (reserved) and `text_offset` is in the kernel's byte order.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
  effective_text_offset:
    value: 'image_size == 0 ? 0x80000 : text_offset'
    doc: |
      The text offset a loader uses: 0x80000 when image_size is zero,
      as booting.rst prescribes, else text_offset.
    doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
  code1_branch_target:
    value: '(code1 & 0xfc000000) == 0x14000000 ? 4 + ((code1 & 0x03ffffff) ^ 0x02000000) * 4 - 0x8000000 : -1'
    doc: |
      Byte offset in the image that code1 branches to when it is an
      unconditional `b` (sign-extended imm26 times 4, relative to offset
      4); -1 when code1 is not a `b`.
    doc-ref: Arm Architecture Reference Manual, A64 "B" (opcode 0b000101)
types:
  image_flags:
    doc: |
      The 64-bit flags word, little-endian, least significant bit first.
      Read as one word; each flag is a value over it (bit-typed fields
      would cost the parser a sub-stream and a read per flag).
    doc-ref: Linux 6.1 arch/arm64/include/asm/image.h
    seq:
      - id: raw
        type: u8
        doc: The whole word, as stored.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Header notes"
    instances:
      be:
        value: (raw & 1) != 0
        doc: Bit 0, kernel endianness. 1 = big-endian, 0 = little-endian.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Bit 0"
      page_size:
        value: (raw >> 1) & 3
        enum: page_size
        doc: Bits 1-2, kernel page size (PAGE_SHIFT - 10) / 2.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Bits 1-2"
      phys_base:
        value: ((raw >> 3) & 1) != 0
        doc: |
          Bit 3, physical placement. 0 = the 2 MiB-aligned base should be
          as close as possible to the base of DRAM, memory below it is not
          accessible; 1 = the 2 MiB-aligned base may be anywhere in
          physical memory (since 4.6).
        doc-ref:
          - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Bit 3"
          - 'Linux commit a7f8de168ace "arm64: allow kernel Image to be loaded anywhere in physical memory"'
      reserved:
        value: raw >> 4
        doc: Bits 4-63, reserved; booting.rst does not require zero and no loader reads them.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Bits 4-63"
      page_size_bytes:
        value: '((raw >> 1) & 3) == 0 ? 0 : 1 << (10 + 2 * ((raw >> 1) & 3))'
        doc: |
          Page size in bytes, 1 << (10 + 2 * bits 1-2): 4096, 16384 or 65536;
          0 when unspecified.
        doc-ref: https://www.kernel.org/doc/html/latest/arch/arm64/booting.html "Bits 1-2"
enums:
  page_size:
    0:
      id: unspecified
      doc: Unspecified (kernels before the field existed).
    1:
      id: size_4k
      doc: 4 KiB pages
    2:
      id: size_16k
      doc: 16 KiB pages
    3:
      id: size_64k
      doc: 64 KiB pages
