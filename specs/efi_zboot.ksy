meta:
  id: efi_zboot
  title: Linux EFI zboot header (vmlinuz.efi, CONFIG_EFI_ZBOOT)
  application:
    - Linux EFI stub (drivers/firmware/efi/libstub/zboot.c)
    - kexec-tools (kexec/kexec-pe-zboot.c)
    - kexec_file_load
  file-extension: [efi]
  license: CC0-1.0
  ks-version: "0.11"
  endian: le
  imports:
    - pe_efi_stub
doc: |
  An EFI zboot image (Linux 6.1 and later) is a PE/COFF EFI application
  that decompresses the kernel Image it carries. Its DOS header holds the
  zboot header: "MZ" stored as a 32-bit word, the image type "zimg", where
  the compressed payload lies, the name of its compression, and at 0x3c
  the PE header offset that every PE loader reads. A non-EFI loader
  (kexec-tools since 2.0.27, kexec_file_load) reads this header to find
  and decompress the payload without running the stub.
doc-ref:
  - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S
  - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/Makefile.zboot
  - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-pe-zboot.c
seq:
  - id: mz_magic
    contents: ["MZ", 0, 0]
    -orig-id: MZ_MAGIC
    doc: MZ_MAGIC (0x5a4d) stored as a 32-bit word (`.long MZ_MAGIC`).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
  - id: image_type
    contents: "zimg"
    -orig-id: image type
    doc: The zboot image type, "zimg".
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
  - id: payload_offset
    type: u4
    -orig-id: payload offset
    doc: File offset of the compressed payload (__efistub__gzdata_start - .Ldoshdr).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
  - id: payload_size
    type: u4
    -orig-id: payload size
    doc: |
      Size of the compressed payload (__efistub__gzdata_size -
      ZBOOT_SIZE_LEN: without the 4-byte size that Makefile.zboot appends
      after a non-gzip payload).
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
      - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/Makefile.zboot
  - id: reserved
    size: 8
    -orig-id: reserved
    doc: Two reserved words, zero (`.long 0, 0`).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
  - id: compression_type
    type: strz
    size: 0x20
    encoding: ISO-8859-1
    -orig-id: COMP_TYPE
    doc: |
      The compression name, NUL-terminated, in the 32 bytes up to 0x38:
      gzip, lz4, lzma, lzo, xzkern or zstd22 (6.1 to 6.12), gzip or zstd
      (6.13 and later). kexec-tools compares its first four bytes.
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/Makefile.zboot comp-type-y
      - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-pe-zboot.c
  - id: linux_pe_magic
    type: u4
    -orig-id: LINUX_PE_MAGIC (later kernels)
    doc: |
      Zero in 6.1 (the `.org .Ldoshdr + 0x38` padding); later kernels store
      LINUX_PE_MAGIC (0x818223cd) here, at the same offset as the arm64
      Image header's magic.
    doc-ref:
      - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Ldoshdr
      - https://github.com/torvalds/linux/blob/1ac731c529cd4d6adbce134754b51ff7d822b145/drivers/firmware/efi/libstub/zboot-header.S LINUX_PE_MAGIC
  - id: pe_offset
    type: u4
    -orig-id: e_lfanew
    doc: File offset of the "PE\0\0" header (.Lpehdr - .Ldoshdr, 0x40 in 6.1).
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Lpehdr
instances:
  payload_end:
    value: payload_offset + payload_size
    doc: End of the compressed payload, the first byte a loader does not decompress.
    doc-ref: https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-pe-zboot.c
  pe:
    pos: 0
    type: pe_efi_stub
    doc: The same file read as the PE/COFF image the firmware starts.
    doc-ref: https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S .Lpehdr
