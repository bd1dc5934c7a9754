meta:
  id: fdt
  title: Flattened devicetree blob (DTB), as a FIT image (U-Boot's fitImage) uses it
  application:
    - U-Boot (bootm of a FIT, boot/image-fit.c)
    - libfdt, dtc, fdtdump, fdtget
    - mkimage -f, dumpimage
  file-extension: [dtb, itb, fit]
  license: CC0-1.0
  ks-version: "0.11"
  endian: be
doc: |
  A devicetree blob: a 40-byte header, the memory reservation block, the
  structure block (a sequence of big-endian 32-bit tokens: BEGIN_NODE with the
  node's NUL-terminated name, END_NODE, PROP with its value's length and the
  offset of its name in the strings block, then the value; NOP; END, each
  token and value padded to 4 bytes) and the strings block.

  The structure block is read one token at a time: each token is an instance
  at its own position, and `next` is the token after it. A property's value
  (a FIT image's `data`: a whole kernel) is an instance too, so walking the
  tree reads no value that is not asked for. Names are read from a window of
  at most 256 bytes (a node name is at most 31 characters and a unit address
  by the specification); a name without its NUL there does not parse.
doc-ref:
  - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
  - https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header, FDT_BEGIN_NODE, FDT_PROP
  - https://github.com/u-boot/u-boot/blob/v2023.01/doc/usage/fit/source_file_format.rst
seq:
  - id: magic
    contents: [0xd0, 0x0d, 0xfe, 0xed]
    -orig-id: magic
    doc: FDT_MAGIC, 0xd00dfeed.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h FDT_MAGIC
  - id: totalsize
    type: u4
    -orig-id: totalsize
    doc: Size of the blob in bytes, all blocks included. An external-data FIT (mkimage -E) places the images after it.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: ofs_structure_block
    type: u4
    -orig-id: off_dt_struct
    doc: Offset of the structure block from the start of the blob.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: ofs_strings_block
    type: u4
    -orig-id: off_dt_strings
    doc: Offset of the strings block (property names) from the start of the blob.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: ofs_memory_reservation_block
    type: u4
    -orig-id: off_mem_rsvmap
    doc: Offset of the memory reservation block.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: version
    type: u4
    -orig-id: version
    doc: Format version; dtc and mkimage write 17.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: min_compatible_version
    type: u4
    -orig-id: last_comp_version
    doc: Oldest version this blob is compatible with (16).
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: boot_cpuid_phys
    type: u4
    -orig-id: boot_cpuid_phys
    doc: Physical ID of the boot CPU.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: len_strings_block
    type: u4
    -orig-id: size_dt_strings
    doc: Length of the strings block.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
  - id: len_structure_block
    type: u4
    -orig-id: size_dt_struct
    doc: Length of the structure block.
    doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_header
instances:
  first_token:
    pos: ofs_structure_block
    type: token(ofs_structure_block)
    doc: The first token of the structure block (BEGIN_NODE of the root node).
    doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
types:
  token:
    doc: One structure-block token at `at` (an offset in the blob), and the token after it.
    params:
      - id: at
        type: u4
    seq:
      - id: code
        type: u4
        enum: token_code
        doc: The token.
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h FDT_BEGIN_NODE
      - id: body
        type:
          switch-on: code
          cases:
            'token_code::begin_node': begin_node
            'token_code::prop': prop
        doc: What follows the token code (a node name, or a property's length, name offset and value).
        doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
    instances:
      len_body:
        value: >-
          code == token_code::begin_node ? (body.as<begin_node>.name.length + 1 + 3) / 4 * 4
          : code == token_code::prop ? 8 + (body.as<prop>.len_value + 3) / 4 * 4
          : 0
        doc: Bytes after the 4-byte token code, padded to 4 (FDT_TAGALIGN).
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h FDT_TAGALIGN
      ofs_next:
        value: at + 4 + len_body
        doc: Where the next token starts.
        doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
      next:
        pos: ofs_next
        type: token(ofs_next)
        if: code != token_code::end
        doc: The token after this one; none after END.
        doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
  begin_node:
    doc: The start of a node; its name is "" for the root, else "name" or "name@unit-address".
    seq:
      - id: name
        type: strz
        encoding: ASCII
        size: '_io.size - _io.pos < 256 ? _io.size - _io.pos : 256'
        doc: The node's name, NUL-terminated (read from a window of at most 256 bytes).
        doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
  prop:
    doc: A property of the node being read.
    seq:
      - id: len_value
        type: u4
        -orig-id: len
        doc: Length of the value in bytes (0 for an empty property).
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_property
      - id: ofs_name
        type: u4
        -orig-id: nameoff
        doc: Offset of the property's name in the strings block.
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_property
    instances:
      ofs_value:
        value: _parent.at + 12
        doc: Where the value starts in the blob.
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_property
      name:
        pos: _root.ofs_strings_block + ofs_name
        type: strz
        encoding: ASCII
        size: '_io.size - (_root.ofs_strings_block + ofs_name) < 256 ? _io.size - (_root.ofs_strings_block + ofs_name) : 256'
        doc: The property's name (read from a window of at most 256 bytes).
        doc-ref: https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
      value:
        pos: ofs_value
        size: len_value
        doc: The value; read only when asked for.
        doc-ref: https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h struct fdt_property
enums:
  token_code:
    1: begin_node
    2: end_node
    3: prop
    4: nop
    9: end
