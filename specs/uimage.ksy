meta:
  id: uimage
  title: U-Boot legacy image header (uImage)
  application:
    - U-Boot (bootm)
    - kexec-tools (kexec/kexec-uImage.c)
    - mkimage, dumpimage
  file-extension: [uimage, ub]
  license: CC0-1.0
  ks-version: "0.11"
  endian: be
doc: |
  The 64-byte header mkimage puts before a payload (a kernel Image, often
  compressed): everything in network byte order. U-Boot's bootm and
  kexec-tools check the magic and the header CRC (CRC-32 of the 64 bytes
  with ih_hcrc taken as zero), then the data CRC over ih_size bytes after
  the header, and decompress the payload as ih_comp says. The enum ids
  are U-Boot's short names (mkimage -A/-O/-T/-C), "-" written "_".
  A CRC is not expressible in Kaitai; the check is left to the reader.
doc-ref:
  - https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr, IH_OS_*, IH_ARCH_*, IH_TYPE_*, IH_COMP_*
  - https://github.com/u-boot/u-boot/blob/v2023.01/boot/image.c uimage_os, uimage_arch, uimage_type, uimage_comp
  - https://github.com/u-boot/u-boot/blob/v2023.01/boot/image-legacy.c image_check_hcrc
  - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-uImage.c uImage_probe
seq:
  - id: ih_magic
    contents: [0x27, 0x05, 0x19, 0x56]
    -orig-id: ih_magic
    doc: IH_MAGIC, 0x27051956.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h IH_MAGIC
  - id: ih_hcrc
    type: u4
    -orig-id: ih_hcrc
    doc: CRC-32 of the 64-byte header with this field zeroed; bootm says "Bad Header Checksum" otherwise.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_time
    type: u4
    -orig-id: ih_time
    doc: Creation time, seconds since 1970 (mkimage writes the current time or SOURCE_DATE_EPOCH).
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_size
    type: u4
    -orig-id: ih_size
    doc: Size of the payload that follows the header.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_load
    type: u4
    -orig-id: ih_load
    doc: Load address of the payload.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_ep
    type: u4
    -orig-id: ih_ep
    doc: Entry point address.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_dcrc
    type: u4
    -orig-id: ih_dcrc
    doc: CRC-32 of the ih_size payload bytes.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_os
    type: u1
    enum: os
    -orig-id: ih_os
    doc: Operating system (IH_OS_*); linux is 5.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_arch
    type: u1
    enum: arch
    -orig-id: ih_arch
    doc: CPU architecture (IH_ARCH_*); arm64 is 22, powerpc 7.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_type
    type: u1
    enum: image_type
    -orig-id: ih_type
    doc: Image type (IH_TYPE_*); kernel is 2, kernel_noload 14.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_comp
    type: u1
    enum: compression
    -orig-id: ih_comp
    doc: Compression of the payload (IH_COMP_*).
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  - id: ih_name
    type: strz
    size: 32
    encoding: ISO-8859-1
    -orig-id: ih_name
    doc: Image name, NUL-terminated within IH_NMLEN (32) bytes.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
instances:
  header_size:
    value: 64
    doc: sizeof(struct legacy_img_hdr); the payload starts here.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
  payload_end:
    value: 64 + ih_size
    doc: File offset just past the payload.
    doc-ref: https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h legacy_img_hdr
enums:
  os:
    0: invalid
    1: openbsd
    2: netbsd
    3: freebsd
    4: bsd_4_4
    5: linux
    6: svr4
    7: esix
    8: solaris
    9: irix
    10: sco
    11: dell
    12: ncr
    13: lynxos
    14: vxworks
    15: psos
    16: qnx
    17: u_boot
    18: rtems
    19: artos
    20: unity
    21: integrity
    22: ose
    23: plan9
    24: openrtos
    25: arm_trusted_firmware
    26: tee
  arch:
    0: invalid
    1: alpha
    2: arm
    3: x86
    4: ia64
    5: mips
    6: mips64
    7: powerpc
    8: s390
    9: sh
    10: sparc
    11: sparc64
    12: m68k
    13: nios
    14: microblaze
    15: nios2
    16: blackfin
    17: avr32
    18: st200
    19: sandbox
    20: nds32
    21: or1k
    22: arm64
    23: arc
    24: x86_64
    25: xtensa
    26: riscv
  image_type:
    0: invalid
    1: standalone
    2: kernel
    3: ramdisk
    4: multi
    5: firmware
    6: script
    7: filesystem
    8: flat_dt
    9: kwbimage
    10: imximage
    11: ublimage
    12: omapimage
    13: aisimage
    14: kernel_noload
    15: pblimage
    16: mxsimage
    17: gpimage
    18: atmelimage
    19: socfpgaimage
    20: x86_setup
    21: lpc32xximage
    22: loadable
    23: rkimage
    24: rksd
    25: rkspi
    26: zynqimage
    27: zynqmpimage
    28: zynqmpbif
    29: fpga
    30: vybridimage
    31: tee
    32: firmware_ivt
    33: pmmc
    34: stm32image
    35: socfpgaimage_v1
    36: mtk_image
    37: imx8mimage
    38: imx8image
  compression:
    0: none
    1: gzip
    2: bzip2
    3: lzma
    4: lzo
    5: lz4
    6: zstd
