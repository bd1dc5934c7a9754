meta:
  id: ppc64_head
  title: 64-bit PowerPC Linux kernel head (the first 256 bytes of _stext)
  application:
    - Linux kernel (arch/powerpc, head_64.S)
    - kexec-tools (ppc64 purgatory)
    - kexec_file_load (ppc64 purgatory)
  license: CC0-1.0
  ks-version: "0.11"
  endian: be
doc: |
  The first 0x100 bytes of a 64-bit PowerPC kernel (`_stext`, the start of
  the first PT_LOAD of `vmlinux`). The boot code and kexec copy them to
  physical address 0: the master CPU enters at 0, secondary CPUs spin at
  0x60, and the word at 0x5c (`__run_at_load`) tells a relocatable kernel
  whether to run where it was loaded (1, written by a kdump loader) or to
  relocate itself to 0 ("run0").

  Every word is in the kernel's byte order. Book3S kernels since about 3.13
  start with FIXUP_ENDIAN, `tdi 0,0,0x48` (0x08000048), which is a no-op
  in the kernel's own byte order and `b .+8` into an MSR[LE]-flipping
  trampoline in the other; so the raw bytes `48 00 00 08` mark a
  little-endian kernel and `08 00 00 48` a big-endian one. Older kernels
  and all Book3E kernels start with a plain `b` and are big-endian.

  Three layouts follow from the bytes (`layout`): plain_branch (kernels
  up to 3.12 and every Book3E kernel: main branch at 0, spinloop 0x08,
  acknowledge 0x10, iSeries pointer 0x20), fixup_endian_short (10-word
  FIXUP_ENDIAN, about 3.13 to 4.x: main branch at 0x28) and
  fixup_endian_long (12-word FIXUP_ENDIAN that also clears MSR[RI],
  verified in 6.1: main branch at 0x30). `__run_at_load` at 0x5c and the
  secondary entry at 0x60 are at the same place in all of them.
doc-ref:
  - Linux 6.1 arch/powerpc/kernel/head_64.S, section first_256B
  - Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
  - 'Linux commit 8b8b0cc1c736 "powerpc/ppc64/kdump: Better flag for running relocatable" (2.6.28)'
  - kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c and purgatory/arch/ppc64/v2wrap.S
seq:
  - id: body
    type: body
    size: 0x100
    doc: |
      The head, read in the kernel's byte order: Kaitai picks the byte order
      of `body` from `is_le` (calculated endianness) before reading it.
    doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
instances:
  first_word_be:
    pos: 0
    type: u4be
    doc: The first four bytes read big-endian, to tell the kernel's byte order.
    doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
  is_le:
    value: first_word_be == 0x48000008
    doc: |
      True when the image starts with FIXUP_ENDIAN in little-endian byte
      order (raw bytes 48 00 00 08, i.e. `b .+8` for a big-endian reader).
    doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
  has_fixup_endian:
    value: first_word_be == 0x48000008 or first_word_be == 0x08000048
    doc: True when the head starts with FIXUP_ENDIAN (Book3S, about 3.13 and later).
    doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
types:
  body:
    doc: The first 0x100 bytes of _stext in the kernel's byte order.
    doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S, section first_256B
    meta:
      endian:
        switch-on: _root.is_le
        cases:
          true: le
          false: be
    seq:
      - id: fixup_endian
        type: fixup_endian
        if: _root.has_fixup_endian
        doc: |
          The FIXUP_ENDIAN prologue of Book3S kernels since about 3.13; absent
          in older and Book3E kernels (the macro is empty there).
        doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
      - id: main_branch
        type: u4
        valid:
          expr: (_ & 0xfc000003) == 0x48000000
        doc: |
          `b __start_initialization_multiplatform`, the master CPU's entry. It
          sits in a feature section that the kernel replaces with a no-op once
          it runs at 0, so that a stray jump to 0 reaches the trap below.
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S _stext
      - id: trap
        type: u4
        valid: 0x7fe00008
        doc: "`trap` (tw 31,0,0): catches a later branch to address 0."
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S _stext
      - id: secondary_hold_spinloop
        type: u8
        doc: |
          `__secondary_hold_spinloop`: zero in the file; secondary CPUs spin
          until the master stores a non-zero value (the address to jump to;
          1 in 2.6.2x kernels).
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold_spinloop
      - id: secondary_hold_acknowledge
        type: u8
        doc: |
          `__secondary_hold_acknowledge`: zero in the file; each secondary CPU
          writes its CPU id here when it reaches the hold loop.
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold_acknowledge
      - id: low_fill
        size: 0x5c - _io.pos
        doc: |
          Zero fill up to 0x5c. In plain_branch heads it holds the 2.6.27
          `__kdump_flag` (0x18) and the legacy iSeries pointer (0x20), see the
          instances of those names.
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S (". = 0x5c")
      - id: run_at_load
        type: u4
        enum: run_at_load
        doc: |
          `__run_at_load`, present in relocatable kernels since 2.6.28:
          "run0" (0x72756e30) makes the kernel relocate itself to 0; 1 makes it
          run where it was loaded. kexec-tools replaces "run0" by 1 for a panic
          kernel; kexec_file_load writes 1 for every crash kernel. Zero in a
          non-relocatable kernel (fill). The kernel compares the 32-bit word
          with 1 (`lwz` / `cmplwi`): anything else means relocate to 0.
        doc-ref:
          - Linux 6.1 arch/powerpc/kernel/head_64.S __run_at_load and __after_prom_start
          - 'Linux commit 8b8b0cc1c736 "powerpc/ppc64/kdump: Better flag for running relocatable"'
          - kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c (run_at_load for KEXEC_ON_CRASH)
          - Linux 6.1 arch/powerpc/kexec/file_load_64.c setup_purgatory_ppc64
      - id: secondary_hold
        size: 0xa0
        doc: |
          `__secondary_hold` at 0x60: the code secondary CPUs are released to
          (at physical 0x60) and spin in; on Book3S since about 3.13 it starts
          with FIXUP_ENDIAN again. Followed by zero fill up to 0x100, where the
          Book3S exception vectors begin.
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold
    instances:
      layout:
        value: '_root.has_fixup_endian ? (fixup_endian.skip_branch == 0x4800002c ? 2 : 1) : 0'
        enum: layout
        doc: Which arrangement of the first 0x5c bytes this head has.
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S and ppc_asm.h
      main_branch_offset:
        value: '_root.has_fixup_endian ? 8 + fixup_endian.trampoline.size : 0'
        doc: File offset of main_branch in the head (0, 0x28 or 0x30).
        doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
      main_branch_target:
        value: 'main_branch_offset + ((main_branch & 0x03fffffc) ^ 0x02000000) - 0x02000000'
        doc: Offset from _stext of __start_initialization_multiplatform (the branch target).
        doc-ref: Power ISA v3.1, "Branch" (I-form, LI || 0b00 sign-extended)
      kdump_flag:
        pos: 0x18
        type: u8
        if: not _root.has_fixup_endian
        doc: |
          `__kdump_flag` of 2.6.27 only: purgatory stored 1 here for a kdump
          kernel. Zero fill in every other plain_branch kernel.
        doc-ref:
          - 'Linux commit 54622f10a6aa "powerpc: Support for relocatable kdump kernel" (2.6.27)'
          - kexec-tools commit d9c5b2d "Relocatable kdump kernel support" (2008)
      iseries_pointer:
        pos: 0x20
        type: u8
        if: not _root.has_fixup_endian
        doc: |
          Legacy iSeries: the physical address of hvReleaseData, read by the
          iSeries hypervisor; zero unless CONFIG_PPC_ISERIES (removed about
          3.4). In fixup_endian heads 0x20 holds trampoline code instead.
        doc-ref: Linux 2.6.24 arch/powerpc/kernel/head_64.S (". = 0x20" under CONFIG_PPC_ISERIES)
      secondary_entry:
        pos: 0x60
        type: u4
        doc: The first instruction of __secondary_hold (FIXUP_ENDIAN's tdi on Book3S since about 3.13).
        doc-ref: Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold
    types:
      fixup_endian:
        doc: |
          FIXUP_ENDIAN: `tdi 0,0,0x48`, `b` over a byte-reversed trampoline
          that flips MSR[LE] and returns with rfid to the first instruction
          after it, when the CPU entered in the other byte order.
        doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
        seq:
          - id: tdi
            type: u4
            valid: 0x08000048
            doc: "`tdi 0,0,0x48`: never traps; `b .+8` when read in the other byte order."
            doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
          - id: skip_branch
            type: u4
            valid:
              any-of: [0x48000024, 0x4800002c]
            doc: |
              `b` over the trampoline: 0x48000024 (8-word trampoline, about
              3.13 to 4.x) or 0x4800002c (10 words, also clears MSR[RI]; 6.1).
            doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
          - id: trampoline
            size: (skip_branch & 0x03fffffc) - 4
            doc: |
              The trampoline, stored as pre-swapped words so that it decodes in
              the other byte order (bcl, mflr, addi, mfmsr, xori, [li, mtmsrd,]
              mtsrr0, mtsrr1, rfid).
            doc-ref: Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
enums:
  run_at_load:
    0:
      id: zero
      doc: Zero fill; the kernel is not relocatable (or older than 2.6.28)
    1:
      id: run_where_loaded
      doc: Stay at the load address (written by a kdump loader; or CONFIG_RELOCATABLE_TEST)
    0x72756e30:
      id: run0
      doc: '"run0": relocate to physical 0 unless a loader writes 1'
  layout:
    0:
      id: plain_branch
      doc: No FIXUP_ENDIAN (kernels up to 3.12 and Book3E); main branch at 0
    1:
      id: fixup_endian_short
      doc: 10-word FIXUP_ENDIAN (about 3.13 to 4.x); main branch at 0x28
    2:
      id: fixup_endian_long
      doc: 12-word FIXUP_ENDIAN (verified 6.1); main branch at 0x30
