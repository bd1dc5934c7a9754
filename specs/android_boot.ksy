meta:
  id: android_boot
  title: Android boot image header, versions 0 to 4 (boot.img)
  application:
    - Android bootloaders (ABL, U-Boot bootm/abootimg)
    - mkbootimg, unpack_bootimg
  file-extension: [img]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
doc: |
  "ANDROID!", then a header whose layout depends on header_version (at
  offset 40 in every version): versions 0-2 (boot_img_hdr_v0 and the
  fields v1 and v2 append) have load addresses and a page_size; versions
  3-4 (boot_img_hdr_v3, v4 appends signature_size) have no addresses, a
  fixed 4096-byte page and a 1536-byte command line. The kernel starts
  one page into the image; the ramdisk on the next page boundary after it.
doc-ref:
  - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
  - https://source.android.com/docs/core/architecture/bootloader/boot-image-header
seq:
  - id: magic
    contents: "ANDROID!"
    -orig-id: magic
    doc: BOOT_MAGIC, "ANDROID!".
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h BOOT_MAGIC
  - id: kernel_size
    type: u4
    -orig-id: kernel_size
    doc: Size of the kernel in bytes (at 8 in every version).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0, boot_img_hdr_v3
  - id: header
    type:
      switch-on: header_version
      cases:
        0: hdr_v0_v2
        1: hdr_v0_v2
        2: hdr_v0_v2
        3: hdr_v3_v4
        4: hdr_v3_v4
    doc: |
      The rest of the header in the layout of its version; absent for a
      version no AOSP release defines.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
instances:
  header_version:
    pos: 40
    type: u4
    -orig-id: header_version
    doc: The header version, at offset 40 in both layouts.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0, boot_img_hdr_v3
  is_v3_layout:
    value: header_version >= 3
    doc: Versions 3 and 4 have the boot_img_hdr_v3 layout and a fixed 4096-byte page.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
  effective_page_size:
    value: 'header_version >= 3 ? 4096 : header.as<hdr_v0_v2>.page_size'
    doc: The page size a loader uses, 4096 for v3/v4, page_size before.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
  kernel_offset:
    value: effective_page_size
    doc: File offset of the kernel, one page in.
    doc-ref: https://source.android.com/docs/core/architecture/bootloader/boot-image-header
  ramdisk_offset:
    value: effective_page_size * (1 + (kernel_size + effective_page_size - 1) / effective_page_size)
    doc: File offset of the ramdisk, the first page boundary after the kernel.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
types:
  hdr_v0_v2:
    doc: boot_img_hdr_v0 after kernel_size, with the v1 and v2 additions.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0, boot_img_hdr_v1, boot_img_hdr_v2
    seq:
      - id: kernel_addr
        type: u4
        -orig-id: kernel_addr
        doc: Physical load address of the kernel.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: ramdisk_size
        type: u4
        -orig-id: ramdisk_size
        doc: Size of the ramdisk in bytes.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: ramdisk_addr
        type: u4
        -orig-id: ramdisk_addr
        doc: Physical load address of the ramdisk.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: second_size
        type: u4
        -orig-id: second_size
        doc: Size of the second-stage bootloader, 0 when absent.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: second_addr
        type: u4
        -orig-id: second_addr
        doc: Physical load address of the second stage.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: tags_addr
        type: u4
        -orig-id: tags_addr
        doc: Physical address of the kernel tags (ATAGS or DTB).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: page_size
        type: u4
        -orig-id: page_size
        doc: Flash page size; header, kernel, ramdisk and second each start on a page.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: header_version
        type: u4
        -orig-id: header_version
        doc: Header version (0, 1 or 2 in this layout).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: os_version
        type: u4
        -orig-id: os_version
        doc: OS version A.B.C in bits 31-11 (7 bits each), patch level (Y-2000, M) in bits 10-0.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: name
        type: strz
        size: 16
        encoding: ISO-8859-1
        -orig-id: name
        doc: Product name, NUL-terminated (BOOT_NAME_SIZE 16).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h BOOT_NAME_SIZE
      - id: cmdline
        type: strz
        size: 512
        encoding: ISO-8859-1
        -orig-id: cmdline
        doc: Kernel command line (BOOT_ARGS_SIZE 512).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h BOOT_ARGS_SIZE
      - id: id
        type: u4
        repeat: expr
        repeat-expr: 8
        -orig-id: id
        doc: Timestamp, checksum or SHA-1 over the images (mkbootimg writes a SHA-1 in the first 20 bytes).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v0
      - id: extra_cmdline
        type: strz
        size: 1024
        encoding: ISO-8859-1
        -orig-id: extra_cmdline
        doc: Continuation of the command line (BOOT_EXTRA_ARGS_SIZE 1024).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h BOOT_EXTRA_ARGS_SIZE
      - id: recovery_dtbo_size
        type: u4
        -orig-id: recovery_dtbo_size
        doc: Size of the recovery DTBO/ACPIO image (v1 and later).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v1
        if: header_version >= 1
      - id: recovery_dtbo_offset
        type: u8
        -orig-id: recovery_dtbo_offset
        doc: File offset of the recovery DTBO/ACPIO image (v1 and later).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v1
        if: header_version >= 1
      - id: header_size
        type: u4
        -orig-id: header_size
        doc: Size of the boot image header in bytes (1648 for v1, 1660 for v2).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v1
        if: header_version >= 1
      - id: dtb_size
        type: u4
        -orig-id: dtb_size
        doc: Size of the DTB image (v2).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v2
        if: header_version >= 2
      - id: dtb_addr
        type: u8
        -orig-id: dtb_addr
        doc: Physical load address of the DTB image (v2).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v2
        if: header_version >= 2
  hdr_v3_v4:
    doc: boot_img_hdr_v3 after kernel_size, with the v4 addition.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3, boot_img_hdr_v4
    seq:
      - id: ramdisk_size
        type: u4
        -orig-id: ramdisk_size
        doc: Size of the ramdisk in bytes.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: os_version
        type: u4
        -orig-id: os_version
        doc: OS version and patch level, packed as in v0.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: header_size
        type: u4
        -orig-id: header_size
        doc: |
          Size of the header in bytes: sizeof(boot_img_hdr_v3) is 1580, of
          boot_img_hdr_v4 1584; the mkbootimg of Debian's package mkbootimg
          1:29.0.6 writes 1596 into a v3 header.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: reserved
        type: u4
        repeat: expr
        repeat-expr: 4
        -orig-id: reserved
        doc: Reserved, zero.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: header_version
        type: u4
        -orig-id: header_version
        doc: Header version (3 or 4 in this layout).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: cmdline
        type: strz
        size: 1536
        encoding: ISO-8859-1
        -orig-id: cmdline
        doc: Kernel command line (BOOT_ARGS_SIZE + BOOT_EXTRA_ARGS_SIZE, 1536).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v3
      - id: signature_size
        type: u4
        -orig-id: signature_size
        doc: Size of the boot signature after the ramdisk (v4; 0 when unsigned).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h boot_img_hdr_v4
        if: header_version >= 4
