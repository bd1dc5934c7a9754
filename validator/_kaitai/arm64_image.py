# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Arm64Image(KaitaiStruct):
    """The 64-byte header at the start of an uncompressed arm64 kernel `Image`
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
    
    .. seealso::
       "3. Decompress the kernel image" and "4. Call the kernel image" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
    
    
    .. seealso::
       Linux 6.1 arch/arm64/include/asm/image.h
    
    
    .. seealso::
       Linux 6.1 arch/arm64/kernel/head.S and arch/arm64/kernel/efi-header.S
    
    
    .. seealso::
       Linux commit a2c1d73b94ed "arm64: Update the Image header" (3.17)
    """

    class PageSize(IntEnum):
        unspecified = 0
        size_4k = 1
        size_16k = 2
        size_64k = 3
    def __init__(self, _io, _parent=None, _root=None):
        super(Arm64Image, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.code0 = self._io.read_u4le()
        self.code1 = self._io.read_u4le()
        self.text_offset = self._io.read_u8le()
        self.image_size = self._io.read_u8le()
        self.flags = Arm64Image.ImageFlags(self._io, self, self._root)
        self.res2 = self._io.read_u8le()
        self.res3 = self._io.read_u8le()
        self.res4 = self._io.read_u8le()
        self.magic = self._io.read_bytes(4)
        if not self.magic == b"\x41\x52\x4D\x64":
            raise kaitaistruct.ValidationNotEqualError(b"\x41\x52\x4D\x64", self.magic, self._io, u"/seq/8")
        self.pe_offset = self._io.read_u4le()


    def _fetch_instances(self):
        pass
        self.flags._fetch_instances()

    class ImageFlags(KaitaiStruct):
        """The 64-bit flags word, little-endian, least significant bit first.
        Read as one word; each flag is a value over it (bit-typed fields
        would cost the parser a sub-stream and a read per flag).
        
        .. seealso::
           Linux 6.1 arch/arm64/include/asm/image.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Arm64Image.ImageFlags, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u8le()


        def _fetch_instances(self):
            pass

        @property
        def be(self):
            """Bit 0, kernel endianness. 1 = big-endian, 0 = little-endian.
            
            .. seealso::
               "Bit 0" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
            """
            if hasattr(self, '_m_be'):
                return self._m_be

            self._m_be = self.raw & 1 != 0
            return getattr(self, '_m_be', None)

        @property
        def page_size(self):
            """Bits 1-2, kernel page size (PAGE_SHIFT - 10) / 2.
            
            .. seealso::
               "Bits 1-2" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
            """
            if hasattr(self, '_m_page_size'):
                return self._m_page_size

            self._m_page_size = KaitaiStream.resolve_enum(Arm64Image.PageSize, self.raw >> 1 & 3)
            return getattr(self, '_m_page_size', None)

        @property
        def page_size_bytes(self):
            """Page size in bytes, 1 << (10 + 2 * bits 1-2): 4096, 16384 or 65536;
            0 when unspecified.
            
            .. seealso::
               "Bits 1-2" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
            """
            if hasattr(self, '_m_page_size_bytes'):
                return self._m_page_size_bytes

            self._m_page_size_bytes = (0 if self.raw >> 1 & 3 == 0 else 1 << 10 + 2 * (self.raw >> 1 & 3))
            return getattr(self, '_m_page_size_bytes', None)

        @property
        def phys_base(self):
            """Bit 3, physical placement. 0 = the 2 MiB-aligned base should be
            as close as possible to the base of DRAM, memory below it is not
            accessible; 1 = the 2 MiB-aligned base may be anywhere in
            physical memory (since 4.6).
            
            .. seealso::
               "Bit 3" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
            
            
            .. seealso::
               Linux commit a7f8de168ace "arm64: allow kernel Image to be loaded anywhere in physical memory"
            """
            if hasattr(self, '_m_phys_base'):
                return self._m_phys_base

            self._m_phys_base = self.raw >> 3 & 1 != 0
            return getattr(self, '_m_phys_base', None)

        @property
        def reserved(self):
            """Bits 4-63, reserved; booting.rst does not require zero and no loader reads them.
            
            .. seealso::
               "Bits 4-63" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
            """
            if hasattr(self, '_m_reserved'):
                return self._m_reserved

            self._m_reserved = self.raw >> 4
            return getattr(self, '_m_reserved', None)


    @property
    def code1_branch_target(self):
        """Byte offset in the image that code1 branches to when it is an
        unconditional `b` (sign-extended imm26 times 4, relative to offset
        4); -1 when code1 is not a `b`.
        
        .. seealso::
           Arm Architecture Reference Manual, A64 "B" (opcode 0b000101)
        """
        if hasattr(self, '_m_code1_branch_target'):
            return self._m_code1_branch_target

        self._m_code1_branch_target = ((4 + (self.code1 & 67108863 ^ 33554432) * 4) - 134217728 if self.code1 & 4227858432 == 335544320 else -1)
        return getattr(self, '_m_code1_branch_target', None)

    @property
    def effective_text_offset(self):
        """The text offset a loader uses: 0x80000 when image_size is zero,
        as booting.rst prescribes, else text_offset.
        
        .. seealso::
           "Header notes" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
        """
        if hasattr(self, '_m_effective_text_offset'):
            return self._m_effective_text_offset

        self._m_effective_text_offset = (524288 if self.image_size == 0 else self.text_offset)
        return getattr(self, '_m_effective_text_offset', None)

    @property
    def has_efi_stub(self):
        """The low two bytes of code0 are "MZ", the DOS/PE signature the EFI stub needs.
        
        .. seealso::
           Linux 6.1 arch/arm64/kernel/efi-header.S
        """
        if hasattr(self, '_m_has_efi_stub'):
            return self._m_has_efi_stub

        self._m_has_efi_stub = self.code0 & 65535 == 23117
        return getattr(self, '_m_has_efi_stub', None)

    @property
    def is_pre_3_17(self):
        """An image_size of zero marks a kernel older than 3.17: `flags` is
        absent (reserved) and `text_offset` is in the kernel's byte order.
        
        .. seealso::
           "Header notes" - https://www.kernel.org/doc/html/latest/arch/arm64/booting.html
        """
        if hasattr(self, '_m_is_pre_3_17'):
            return self._m_is_pre_3_17

        self._m_is_pre_3_17 = self.image_size == 0
        return getattr(self, '_m_is_pre_3_17', None)
