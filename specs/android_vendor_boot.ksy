meta:
  id: android_vendor_boot
  title: Android vendor boot image header, versions 3 and 4 (vendor_boot.img)
  application:
    - Android bootloaders (ABL, U-Boot abootimg)
    - mkbootimg --vendor_boot, unpack_bootimg
  file-extension: [img]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
doc: |
  "VNDRBOOT", then vendor_boot_img_hdr_v3 (v4 appends the vendor ramdisk
  table and bootconfig sizes). It holds what a v3/v4 boot image leaves
  out: the load addresses, the page size, the vendor command line, the
  vendor ramdisk(s) and the DTB. After the header, each on a page_size
  boundary: the vendor ramdisk, the DTB, (v4) the vendor ramdisk table
  and the bootconfig.
doc-ref:
  - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
  - https://source.android.com/docs/core/architecture/partitions/vendor-boot-partitions
seq:
  - id: magic
    contents: "VNDRBOOT"
    -orig-id: magic
    doc: VENDOR_BOOT_MAGIC, "VNDRBOOT".
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_BOOT_MAGIC
  - id: header_version
    type: u4
    -orig-id: header_version
    doc: Header version, 3 or 4 (the boot image's version it goes with).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: page_size
    type: u4
    -orig-id: page_size
    doc: Flash page size; the header and every section start on a page.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: kernel_addr
    type: u4
    -orig-id: kernel_addr
    doc: Physical load address of the kernel (of the boot image).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: ramdisk_addr
    type: u4
    -orig-id: ramdisk_addr
    doc: Physical load address of the ramdisks (vendor ramdisk, then the generic one).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: vendor_ramdisk_size
    type: u4
    -orig-id: vendor_ramdisk_size
    doc: Size of the vendor ramdisk section (v4 - every fragment of the table).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: cmdline
    type: strz
    size: 2048
    encoding: ISO-8859-1
    -orig-id: cmdline
    doc: Vendor command line (VENDOR_BOOT_ARGS_SIZE 2048), appended to the boot image's.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_BOOT_ARGS_SIZE
  - id: tags_addr
    type: u4
    -orig-id: tags_addr
    doc: Physical address of the kernel tags (the DTB on arm64).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: name
    type: strz
    size: 16
    encoding: ISO-8859-1
    -orig-id: name
    doc: Product name, NUL-terminated (VENDOR_BOOT_NAME_SIZE 16).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_BOOT_NAME_SIZE
  - id: header_size
    type: u4
    -orig-id: header_size
    doc: Size of the header in bytes (sizeof vendor_boot_img_hdr_v3 2112, v4 2128).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: dtb_size
    type: u4
    -orig-id: dtb_size
    doc: Size of the DTB image.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: dtb_addr
    type: u8
    -orig-id: dtb_addr
    doc: Physical load address of the DTB.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v3
  - id: vendor_ramdisk_table_size
    type: u4
    -orig-id: vendor_ramdisk_table_size
    doc: Size of the vendor ramdisk table (v4).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v4
    if: header_version >= 4
  - id: vendor_ramdisk_table_entry_num
    type: u4
    -orig-id: vendor_ramdisk_table_entry_num
    doc: Number of entries in the vendor ramdisk table (v4).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v4
    if: header_version >= 4
  - id: vendor_ramdisk_table_entry_size
    type: u4
    -orig-id: vendor_ramdisk_table_entry_size
    doc: Size of one table entry (sizeof vendor_ramdisk_table_entry_v4, 108) (v4).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v4
    if: header_version >= 4
  - id: bootconfig_size
    type: u4
    -orig-id: bootconfig_size
    doc: Size of the bootconfig section (v4).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v4
    if: header_version >= 4
instances:
  header_pages_end:
    value: 'page_size == 0 ? 0 : page_size * ((2112 + (header_version >= 4 ? 16 : 0) + page_size - 1) / page_size)'
    doc: File offset of the vendor ramdisk, the first page boundary after the header.
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_boot_img_hdr_v4 (layout comment)
types:
  vendor_ramdisk_table_entry:
    doc: vendor_ramdisk_table_entry_v4, one vendor ramdisk fragment (108 bytes).
    doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_ramdisk_table_entry_v4
    seq:
      - id: ramdisk_size
        type: u4
        -orig-id: ramdisk_size
        doc: Size of the fragment.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_ramdisk_table_entry_v4
      - id: ramdisk_offset
        type: u4
        -orig-id: ramdisk_offset
        doc: Offset of the fragment in the vendor ramdisk section.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h vendor_ramdisk_table_entry_v4
      - id: ramdisk_type
        type: u4
        enum: vendor_ramdisk_type
        -orig-id: ramdisk_type
        doc: VENDOR_RAMDISK_TYPE_NONE, _PLATFORM, _RECOVERY or _DLKM.
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_RAMDISK_TYPE_NONE
      - id: ramdisk_name
        type: strz
        size: 32
        encoding: ISO-8859-1
        -orig-id: ramdisk_name
        doc: Fragment name, NUL-terminated (VENDOR_RAMDISK_NAME_SIZE 32).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_RAMDISK_NAME_SIZE
      - id: board_id
        type: u4
        repeat: expr
        repeat-expr: 16
        -orig-id: board_id
        doc: Hardware identifiers the bootloader may match (VENDOR_RAMDISK_TABLE_ENTRY_BOARD_ID_SIZE 16).
        doc-ref: https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h VENDOR_RAMDISK_TABLE_ENTRY_BOARD_ID_SIZE
enums:
  vendor_ramdisk_type:
    0: none
    1: platform
    2: recovery
    3: dlkm
