# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ppc64Head(KaitaiStruct):
    """The first 0x100 bytes of a 64-bit PowerPC kernel (`_stext`, the start of
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
    
    .. seealso::
       Linux 6.1 arch/powerpc/kernel/head_64.S, section first_256B
    
    
    .. seealso::
       Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
    
    
    .. seealso::
       Linux commit 8b8b0cc1c736 "powerpc/ppc64/kdump: Better flag for running relocatable" (2.6.28)
    
    
    .. seealso::
       kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c and purgatory/arch/ppc64/v2wrap.S
    """

    class Layout(IntEnum):
        plain_branch = 0
        fixup_endian_short = 1
        fixup_endian_long = 2

    class RunAtLoad(IntEnum):
        zero = 0
        run_where_loaded = 1
        run0 = 1920298544
    def __init__(self, _io, _parent=None, _root=None):
        super(Ppc64Head, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self._raw_body = self._io.read_bytes(256)
        _io__raw_body = KaitaiStream(BytesIO(self._raw_body))
        self.body = Ppc64Head.Body(_io__raw_body, self, self._root)


    def _fetch_instances(self):
        pass
        self.body._fetch_instances()
        _ = self.first_word_be
        if hasattr(self, '_m_first_word_be'):
            pass


    class Body(KaitaiStruct):
        """The first 0x100 bytes of _stext in the kernel's byte order.
        
        .. seealso::
           Linux 6.1 arch/powerpc/kernel/head_64.S, section first_256B
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ppc64Head.Body, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            _on = self._root.is_le
            if _on == True:
                pass
                self._is_le = True
            elif _on == False:
                pass
                self._is_le = False
            if not hasattr(self, '_is_le'):
                raise kaitaistruct.UndecidedEndiannessError("/types/body")
            elif self._is_le == True:
                self._read_le()
            elif self._is_le == False:
                self._read_be()

        def _read_le(self):
            if self._root.has_fixup_endian:
                pass
                self.fixup_endian = Ppc64Head.Body.FixupEndian(self._io, self, self._root, self._is_le)

            self.main_branch = self._io.read_u4le()
            _ = self.main_branch
            if not _ & 4227858435 == 1207959552:
                raise kaitaistruct.ValidationExprError(self.main_branch, self._io, u"/types/body/seq/1")
            self.trap = self._io.read_u4le()
            if not self.trap == 2145386504:
                raise kaitaistruct.ValidationNotEqualError(2145386504, self.trap, self._io, u"/types/body/seq/2")
            self.secondary_hold_spinloop = self._io.read_u8le()
            self.secondary_hold_acknowledge = self._io.read_u8le()
            self.low_fill = self._io.read_bytes(92 - self._io.pos())
            self.run_at_load = KaitaiStream.resolve_enum(Ppc64Head.RunAtLoad, self._io.read_u4le())
            self.secondary_hold = self._io.read_bytes(160)

        def _read_be(self):
            if self._root.has_fixup_endian:
                pass
                self.fixup_endian = Ppc64Head.Body.FixupEndian(self._io, self, self._root, self._is_le)

            self.main_branch = self._io.read_u4be()
            _ = self.main_branch
            if not _ & 4227858435 == 1207959552:
                raise kaitaistruct.ValidationExprError(self.main_branch, self._io, u"/types/body/seq/1")
            self.trap = self._io.read_u4be()
            if not self.trap == 2145386504:
                raise kaitaistruct.ValidationNotEqualError(2145386504, self.trap, self._io, u"/types/body/seq/2")
            self.secondary_hold_spinloop = self._io.read_u8be()
            self.secondary_hold_acknowledge = self._io.read_u8be()
            self.low_fill = self._io.read_bytes(92 - self._io.pos())
            self.run_at_load = KaitaiStream.resolve_enum(Ppc64Head.RunAtLoad, self._io.read_u4be())
            self.secondary_hold = self._io.read_bytes(160)


        def _fetch_instances(self):
            pass
            if self._root.has_fixup_endian:
                pass
                self.fixup_endian._fetch_instances()

            _ = self.iseries_pointer
            if hasattr(self, '_m_iseries_pointer'):
                pass

            _ = self.kdump_flag
            if hasattr(self, '_m_kdump_flag'):
                pass

            _ = self.secondary_entry
            if hasattr(self, '_m_secondary_entry'):
                pass


        class FixupEndian(KaitaiStruct):
            """FIXUP_ENDIAN: `tdi 0,0,0x48`, `b` over a byte-reversed trampoline
            that flips MSR[LE] and returns with rfid to the first instruction
            after it, when the CPU entered in the other byte order.
            
            .. seealso::
               Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
            """
            def __init__(self, _io, _parent=None, _root=None, _is_le=None):
                super(Ppc64Head.Body.FixupEndian, self).__init__(_io)
                self._parent = _parent
                self._root = _root
                self._is_le = _is_le
                self._read()

            def _read(self):
                if not hasattr(self, '_is_le'):
                    raise kaitaistruct.UndecidedEndiannessError("/types/body/types/fixup_endian")
                elif self._is_le == True:
                    self._read_le()
                elif self._is_le == False:
                    self._read_be()

            def _read_le(self):
                self.tdi = self._io.read_u4le()
                if not self.tdi == 134217800:
                    raise kaitaistruct.ValidationNotEqualError(134217800, self.tdi, self._io, u"/types/body/types/fixup_endian/seq/0")
                self.skip_branch = self._io.read_u4le()
                if not  ((self.skip_branch == 1207959588) or (self.skip_branch == 1207959596)) :
                    raise kaitaistruct.ValidationNotAnyOfError(self.skip_branch, self._io, u"/types/body/types/fixup_endian/seq/1")
                self.trampoline = self._io.read_bytes((self.skip_branch & 67108860) - 4)

            def _read_be(self):
                self.tdi = self._io.read_u4be()
                if not self.tdi == 134217800:
                    raise kaitaistruct.ValidationNotEqualError(134217800, self.tdi, self._io, u"/types/body/types/fixup_endian/seq/0")
                self.skip_branch = self._io.read_u4be()
                if not  ((self.skip_branch == 1207959588) or (self.skip_branch == 1207959596)) :
                    raise kaitaistruct.ValidationNotAnyOfError(self.skip_branch, self._io, u"/types/body/types/fixup_endian/seq/1")
                self.trampoline = self._io.read_bytes((self.skip_branch & 67108860) - 4)


            def _fetch_instances(self):
                pass


        @property
        def iseries_pointer(self):
            """Legacy iSeries: the physical address of hvReleaseData, read by the
            iSeries hypervisor; zero unless CONFIG_PPC_ISERIES (removed about
            3.4). In fixup_endian heads 0x20 holds trampoline code instead.
            
            .. seealso::
               Linux 2.6.24 arch/powerpc/kernel/head_64.S (". = 0x20" under CONFIG_PPC_ISERIES)
            """
            if hasattr(self, '_m_iseries_pointer'):
                return self._m_iseries_pointer

            if (not (self._root.has_fixup_endian)):
                pass
                _pos = self._io.pos()
                self._io.seek(32)
                if self._is_le:
                    self._m_iseries_pointer = self._io.read_u8le()
                else:
                    self._m_iseries_pointer = self._io.read_u8be()
                self._io.seek(_pos)

            return getattr(self, '_m_iseries_pointer', None)

        @property
        def kdump_flag(self):
            """`__kdump_flag` of 2.6.27 only: purgatory stored 1 here for a kdump
            kernel. Zero fill in every other plain_branch kernel.
            
            .. seealso::
               Linux commit 54622f10a6aa "powerpc: Support for relocatable kdump kernel" (2.6.27)
            
            
            .. seealso::
               kexec-tools commit d9c5b2d "Relocatable kdump kernel support" (2008)
            """
            if hasattr(self, '_m_kdump_flag'):
                return self._m_kdump_flag

            if (not (self._root.has_fixup_endian)):
                pass
                _pos = self._io.pos()
                self._io.seek(24)
                if self._is_le:
                    self._m_kdump_flag = self._io.read_u8le()
                else:
                    self._m_kdump_flag = self._io.read_u8be()
                self._io.seek(_pos)

            return getattr(self, '_m_kdump_flag', None)

        @property
        def layout(self):
            """Which arrangement of the first 0x5c bytes this head has.
            
            .. seealso::
               Linux 6.1 arch/powerpc/kernel/head_64.S and ppc_asm.h
            """
            if hasattr(self, '_m_layout'):
                return self._m_layout

            self._m_layout = KaitaiStream.resolve_enum(Ppc64Head.Layout, ((2 if self.fixup_endian.skip_branch == 1207959596 else 1) if self._root.has_fixup_endian else 0))
            return getattr(self, '_m_layout', None)

        @property
        def main_branch_offset(self):
            """File offset of main_branch in the head (0, 0x28 or 0x30).
            
            .. seealso::
               Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
            """
            if hasattr(self, '_m_main_branch_offset'):
                return self._m_main_branch_offset

            self._m_main_branch_offset = (8 + len(self.fixup_endian.trampoline) if self._root.has_fixup_endian else 0)
            return getattr(self, '_m_main_branch_offset', None)

        @property
        def main_branch_target(self):
            """Offset from _stext of __start_initialization_multiplatform (the branch target).
            
            .. seealso::
               Power ISA v3.1, "Branch" (I-form, LI || 0b00 sign-extended)
            """
            if hasattr(self, '_m_main_branch_target'):
                return self._m_main_branch_target

            self._m_main_branch_target = (self.main_branch_offset + (self.main_branch & 67108860 ^ 33554432)) - 33554432
            return getattr(self, '_m_main_branch_target', None)

        @property
        def secondary_entry(self):
            """The first instruction of __secondary_hold (FIXUP_ENDIAN's tdi on Book3S since about 3.13).
            
            .. seealso::
               Linux 6.1 arch/powerpc/kernel/head_64.S __secondary_hold
            """
            if hasattr(self, '_m_secondary_entry'):
                return self._m_secondary_entry

            _pos = self._io.pos()
            self._io.seek(96)
            if self._is_le:
                self._m_secondary_entry = self._io.read_u4le()
            else:
                self._m_secondary_entry = self._io.read_u4be()
            self._io.seek(_pos)
            return getattr(self, '_m_secondary_entry', None)


    @property
    def first_word_be(self):
        """The first four bytes read big-endian, to tell the kernel's byte order.
        
        .. seealso::
           Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
        """
        if hasattr(self, '_m_first_word_be'):
            return self._m_first_word_be

        _pos = self._io.pos()
        self._io.seek(0)
        self._m_first_word_be = self._io.read_u4be()
        self._io.seek(_pos)
        return getattr(self, '_m_first_word_be', None)

    @property
    def has_fixup_endian(self):
        """True when the head starts with FIXUP_ENDIAN (Book3S, about 3.13 and later).
        
        .. seealso::
           Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
        """
        if hasattr(self, '_m_has_fixup_endian'):
            return self._m_has_fixup_endian

        self._m_has_fixup_endian =  ((self.first_word_be == 1207959560) or (self.first_word_be == 134217800)) 
        return getattr(self, '_m_has_fixup_endian', None)

    @property
    def is_le(self):
        """True when the image starts with FIXUP_ENDIAN in little-endian byte
        order (raw bytes 48 00 00 08, i.e. `b .+8` for a big-endian reader).
        
        .. seealso::
           Linux 6.1 arch/powerpc/include/asm/ppc_asm.h FIXUP_ENDIAN
        """
        if hasattr(self, '_m_is_le'):
            return self._m_is_le

        self._m_is_le = self.first_word_be == 1207959560
        return getattr(self, '_m_is_le', None)
