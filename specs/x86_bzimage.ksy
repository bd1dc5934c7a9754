meta:
  id: x86_bzimage
  title: Linux x86 bzImage, boot protocol 2.00 to 2.15 (the setup header at 0x1f1)
  application:
    - Linux kernel (arch/x86/boot)
    - kexec-tools (kexec/arch/i386/kexec-bzImage.c, kexec/arch/x86_64/kexec-bzImage64.c)
    - kexec_file_load (arch/x86/kernel/kexec-bzimage64.c)
    - GRUB (linux, linux16)
    - QEMU -kernel
    - UEFI firmware (the EFI stub's PE/COFF header)
  file-extension: [vmlinuz, bzimage]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
doc: |
  The start of an x86 bzImage: the legacy boot sector (one 512-byte
  sector whose first bytes are the DOS header "MZ" and e_lfanew when the
  kernel has the EFI stub) and, at 0x1f1, the real-mode kernel header a
  boot loader reads and fills in ("setup header", struct setup_header).
  The fields up to 0x224 exist in every image with "HdrS" (protocol 2.00
  and later); every later field exists from the protocol version the boot
  protocol names for it, and reads as null in an older image (its bytes
  are setup code there). The header ends at 0x202 plus the jump's offset
  (0x26c in protocol 2.15). Images without "HdrS" (before protocol 2.00,
  Linux 1.3.73) are not described. Every field is little-endian.
doc-ref:
  - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "The Real-Mode Kernel Header"
  - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h struct setup_header
  - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S
seq:
  - id: dos_magic
    type: u2
    doc: |
      0x5a4d ("MZ") when the kernel has the EFI stub (the DOS header of its
      PE/COFF image); otherwise the first bytes of the legacy boot sector.
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S "MZ" (CONFIG_EFI_STUB)
      - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "MS-DOS Stub"
  - id: boot_sector_head
    size: 0x3a
    doc: The rest of the legacy boot sector up to 0x3c; no loader reads it.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S bootsect_start
  - id: pe_offset
    type: u4
    doc: |
      e_lfanew: the file offset of the "PE\0\0" signature of the EFI stub's
      PE/COFF header (0x40 in Linux 6.1 builds); legacy boot sector bytes in
      a kernel without the EFI stub.
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S pe_header
      - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format "Signature (Image Only)"
  - id: boot_sector_tail
    size: 0x1b1
    doc: The legacy boot sector from 0x40 to the setup header (the "use a boot loader" message).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S bugger_off_msg
  - id: setup_sects
    type: u1
    doc: |
      Size of the setup code in 512-byte sectors; 0 means 4. The real-mode
      part is the boot sector plus these sectors; the protected-mode kernel
      starts after it in the file.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: setup_sects" (protocol ALL)'
  - id: root_flags
    type: u2
    doc: Non-zero to mount the root read-only (deprecated).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: root_flags" (protocol ALL)'
  - id: syssize
    type: u4
    doc: |
      Size of the protected-mode code in 16-byte paragraphs. Four bytes
      from protocol 2.04; before, only the low two bytes count (see
      `syssize_effective`).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: syssize" (2.04+)'
  - id: ram_size
    type: u2
    doc: Obsolete (bootsect.S only).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: ram_size" (protocol ALL)'
  - id: vid_mode
    type: u2
    doc: Video mode control (0xffff = "normal").
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: vid_mode"'
  - id: root_dev
    type: u2
    doc: Default root device number (deprecated, root= instead).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: root_dev" (protocol ALL)'
  - id: boot_flag
    type: u2
    valid: 0xaa55
    doc: |
      0xAA55, the boot sector signature, "the closest thing old Linux
      kernels have to a magic number". kexec-tools' bzImage probes and
      kexec_file_load's refuse an image without it.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: boot_flag" (protocol ALL)'
      - kexec-tools v2.0.32 kexec/arch/x86_64/kexec-bzImage64.c bzImage64_probe "No x86 boot sector present"
  - id: jump
    type: u2
    doc: |
      A short jump, 0xEB and a signed offset relative to 0x202 (stored as
      one little-endian word: offset << 8 | 0xeb); 0x202 plus the offset is
      the end of the header.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: jump" (2.00+)'
  - id: header
    contents: "HdrS"
    doc: The magic "HdrS" (0x53726448); without it the protocol is "old" (before 2.00).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: header" (2.00+)'
  - id: version
    type: u2
    doc: Boot protocol version, (major << 8) + minor, e.g. 0x020f for 2.15.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: version" (2.00+)'
  - id: realmode_swtch
    type: u4
    doc: Boot loader hook called before entering protected mode.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: realmode_swtch" (2.00+)'
  - id: start_sys_seg
    type: u2
    doc: The load-low segment, 0x1000 (obsolete).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: start_sys_seg" (2.00+)'
  - id: kernel_version
    type: u2
    doc: |
      Pointer, less 0x200, to the NUL-terminated kernel version string
      (see `kernel_version_string`); 0 when there is none. Should be below
      0x200 * setup_sects.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: kernel_version" (2.00+)'
  - id: type_of_loader
    type: u1
    doc: Boot loader identifier 0xTV, written by the loader (0 in the file).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: type_of_loader" (2.00+)'
  - id: loadflags
    type: u1
    doc: |
      Bit 0 LOADED_HIGH (protected-mode code at 0x100000: a bzImage; 0: a
      zImage at 0x10000), bit 1 KASLR_FLAG (kernel internal), bit 5
      QUIET_FLAG, bit 6 KEEP_SEGMENTS (obsolete), bit 7 CAN_USE_HEAP.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: loadflags" (2.00+)'
  - id: setup_move_size
    type: u2
    doc: Bytes moved with the real-mode kernel to 0x90000 (protocols 2.00 and 2.01 only).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: setup_move_size" (2.00-2.01)'
  - id: code32_start
    type: u4
    doc: Protected-mode entry address, by default the load address (0x100000 for a bzImage).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: code32_start" (2.00+)'
  - id: ramdisk_image
    type: u4
    doc: 32-bit address of the initrd, written by the loader (0 in the file).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: ramdisk_image" (2.00+)'
  - id: ramdisk_size
    type: u4
    doc: Size of the initrd, written by the loader (0 in the file).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: ramdisk_size" (2.00+)'
  - id: bootsect_kludge
    type: u4
    doc: Obsolete (bootsect.S only).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: bootsect_kludge" (2.00+)'
  - id: later_fields
    size: 0x48
    doc: |
      0x224 to 0x26c: the fields added from protocol 2.01 to 2.15, each read
      by the instance of its name when the image's protocol has it (setup
      code in an older image). Loaders read the whole 2.15 layout.
    doc-ref: https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "The Real-Mode Kernel Header"
instances:
  heap_end_ptr:
    pos: 0x224
    type: u2
    if: version >= 0x0201
    doc: End of the real-mode setup stack/heap, less 0x200, written by the loader.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: heap_end_ptr" (2.01+)'
  ext_loader_ver:
    pos: 0x226
    type: u1
    if: version >= 0x0202
    doc: Extended boot loader version, written by the loader.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: ext_loader_ver" (2.02+)'
  ext_loader_type:
    pos: 0x227
    type: u1
    if: version >= 0x0202
    doc: Extended boot loader type, written by the loader.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: ext_loader_type" (2.02+)'
  cmd_line_ptr:
    pos: 0x228
    type: u4
    if: version >= 0x0202
    doc: 32-bit address of the kernel command line, written by the loader.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: cmd_line_ptr" (2.02+)'
  initrd_addr_max:
    pos: 0x22c
    type: u4
    if: version >= 0x0203
    doc: Highest address the initrd may occupy (0x37ffffff assumed before 2.03).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: initrd_addr_max" (2.03+)'
  kernel_alignment:
    pos: 0x230
    type: u4
    if: version >= 0x0205
    doc: |
      Alignment the protected-mode kernel needs when relocatable
      (CONFIG_PHYSICAL_ALIGN); kexec-tools and kexec_file_load place the
      kernel at a multiple of it.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: kernel_alignment" (2.05+)'
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S kernel_alignment = CONFIG_PHYSICAL_ALIGN
  relocatable_kernel:
    pos: 0x234
    type: u1
    if: version >= 0x0205
    doc: |
      Non-zero when the protected-mode kernel may be loaded at any address
      aligned to kernel_alignment (CONFIG_RELOCATABLE). kexec-tools refuses
      a non-relocatable bzImage as a crash kernel.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: relocatable_kernel" (2.05+)'
      - kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c do_bzImage_load "BzImage is not relocatable"
  min_alignment:
    pos: 0x235
    type: u1
    if: version >= 0x020a
    doc: Smallest alignment the kernel accepts, as a power of two (kernel_alignment is the preferred one).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: min_alignment" (2.10+)'
  xloadflags:
    pos: 0x236
    type: u2
    if: version >= 0x020c
    doc: |
      Bit 0 XLF_KERNEL_64 (a 64-bit entry at +0x200), bit 1
      XLF_CAN_BE_LOADED_ABOVE_4G, bit 2 XLF_EFI_HANDOVER_32, bit 3
      XLF_EFI_HANDOVER_64, bit 4 XLF_EFI_KEXEC, bit 5 XLF_5LEVEL, bit 6
      XLF_5LEVEL_ENABLED.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" (2.12+)'
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h XLF_*
  cmdline_size:
    pos: 0x238
    type: u4
    if: version >= 0x0206
    doc: Maximum length of the command line without its NUL (255 assumed before 2.06).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: cmdline_size" (2.06+)'
  hardware_subarch:
    pos: 0x23c
    type: u4
    enum: hardware_subarch
    if: version >= 0x0207
    doc: The paravirtualized environment the kernel runs in (0 = a normal PC).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: hardware_subarch" (2.07+)'
  hardware_subarch_data:
    pos: 0x240
    type: u8
    if: version >= 0x0207
    doc: Pointer to data for hardware_subarch (unused by the normal PC one).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: hardware_subarch_data" (2.07+)'
  payload_offset:
    pos: 0x248
    type: u4
    if: version >= 0x0208
    doc: Offset of the compressed kernel from the start of the protected-mode code.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: payload_offset" (2.08+)'
  payload_length:
    pos: 0x24c
    type: u4
    if: version >= 0x0208
    doc: Length of the compressed kernel.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: payload_length" (2.08+)'
  setup_data:
    pos: 0x250
    type: u8
    if: version >= 0x0209
    doc: 64-bit physical address of the setup_data list, written by the loader.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: setup_data" (2.09+)'
  pref_address:
    pos: 0x258
    type: u8
    if: version >= 0x020a
    doc: |
      Preferred load address of a relocatable kernel (LOAD_PHYSICAL_ADDR);
      kexec-tools and kexec_file_load place the kernel at or above it.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: pref_address" (2.10+)'
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/kernel/kexec-bzimage64.c bzImage64_load buf_min
  init_size:
    pos: 0x260
    type: u4
    if: version >= 0x020a
    doc: |
      Bytes of contiguous memory from the load address that the kernel
      needs until it is running (decompression included): what a loader
      reserves for it.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: init_size" (2.10+)'
  handover_offset:
    pos: 0x264
    type: u4
    if: version >= 0x020b
    doc: Offset from the protected-mode start of the EFI handover entry point (0 = none).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: handover_offset" (2.11+)'
  kernel_info_offset:
    pos: 0x268
    type: u4
    if: version >= 0x020f
    doc: Offset of the kernel_info ("LToP") from the protected-mode start.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: kernel_info_offset" (2.15+)'
  kernel_version_string:
    pos: 0x200 + kernel_version
    type: strz
    encoding: ASCII
    if: kernel_version != 0
    doc: The kernel version string the kernel_version field points at (e.g. "6.1.0-50-amd64 (debian-kernel@...) #1 SMP ...").
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: kernel_version" (2.00+)'
  has_efi_stub:
    value: dos_magic == 0x5a4d
    doc: The file starts with "MZ", the DOS header of the EFI stub's PE/COFF image.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S "MZ" (CONFIG_EFI_STUB)
  setup_sects_effective:
    value: 'setup_sects == 0 ? 4 : setup_sects'
    doc: setup_sects, with 0 read as 4.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: setup_sects"'
  setup_size:
    value: (setup_sects_effective + 1) * 512
    doc: |
      Bytes of the real-mode part (boot sector and setup): the protected-mode
      kernel starts at this file offset (kexec's kern16_size).
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Loading The Rest of The Kernel"
      - https://github.com/torvalds/linux/blob/v6.1/arch/x86/kernel/kexec-bzimage64.c kern16_size
  header_end:
    value: '0x202 + ((jump >> 8) >= 0x80 ? (jump >> 8) - 0x100 : (jump >> 8))'
    doc: File offset where the header ends, from the jump's signed offset (0x26c in 2.15).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: jump"'
  syssize_effective:
    value: 'version >= 0x0204 ? syssize : (syssize & 0xffff)'
    doc: syssize as the protocol defines it (two bytes before 2.04).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: syssize"'
  loaded_high:
    value: (loadflags & 0x01) != 0
    doc: LOADED_HIGH, a bzImage (protected-mode code at 0x100000); every bzImage probe requires it.
    doc-ref:
      - 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Bit 0 (read): LOADED_HIGH"'
      - kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c bzImage_probe "zImage not a bzImage"
  is_relocatable:
    value: 'version >= 0x0205 ? relocatable_kernel != 0 : false'
    doc: relocatable_kernel set (false before 2.05, when the field did not exist).
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: relocatable_kernel"'
  xlf_kernel_64:
    value: 'version >= 0x020c ? (xloadflags & 0x01) != 0 : false'
    doc: XLF_KERNEL_64, the kernel has the legacy 64-bit entry point at 0x200.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" bit 0'
  xlf_can_be_loaded_above_4g:
    value: 'version >= 0x020c ? (xloadflags & 0x02) != 0 : false'
    doc: XLF_CAN_BE_LOADED_ABOVE_4G, kernel, boot_params, command line and ramdisk may sit above 4 GiB.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" bit 1'
  xlf_efi_handover_32:
    value: 'version >= 0x020c ? (xloadflags & 0x04) != 0 : false'
    doc: XLF_EFI_HANDOVER_32, the 32-bit EFI handover entry at handover_offset.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" bit 2'
  xlf_efi_handover_64:
    value: 'version >= 0x020c ? (xloadflags & 0x08) != 0 : false'
    doc: XLF_EFI_HANDOVER_64, the 64-bit EFI handover entry at handover_offset + 0x200.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" bit 3'
  xlf_efi_kexec:
    value: 'version >= 0x020c ? (xloadflags & 0x10) != 0 : false'
    doc: XLF_EFI_KEXEC, the kernel supports kexec EFI boot with EFI runtime support.
    doc-ref: 'https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst "Field name: xloadflags" bit 4'
  xlf_5level:
    value: 'version >= 0x020c ? (xloadflags & 0x20) != 0 : false'
    doc: XLF_5LEVEL, the kernel can be started with 5-level paging enabled.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h XLF_5LEVEL
  xlf_5level_enabled:
    value: 'version >= 0x020c ? (xloadflags & 0x40) != 0 : false'
    doc: XLF_5LEVEL_ENABLED, the kernel has 5-level paging enabled.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h XLF_5LEVEL_ENABLED
enums:
  hardware_subarch:
    0:
      id: pc
      doc: A normal x86 PC (or a hypervisor that looks like one).
    1:
      id: lguest
      doc: lguest (removed in Linux 4.14).
    2:
      id: xen
      doc: Xen PV.
    3:
      id: intel_mid
      doc: Intel MID (Moorestown, CloverTrail, Merrifield, Moorefield).
    4:
      id: ce4100
      doc: CE4100 TV platform.
