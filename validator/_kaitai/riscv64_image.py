# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Riscv64Image(KaitaiStruct):
    """The 64-byte header at the start of a flat RISC-V kernel `Image` (Linux 5.0
    and later). A loader reads it to learn how much memory the kernel needs
    (`image_size`) and at which alignment it must be placed (`text_offset`).
    Every field is little-endian. With the EFI stub, `code0` begins with the
    "MZ" signature of a PE/COFF image whose PE header starts at `res3`
    (`pe_offset`, the DOS header's e_lfanew at 0x3c).
    
    Versions: header version 0.1 (Linux 5.0) had only the `magic` "RISCV\0\0\0"
    at 0x30; version 0.2 (Linux 5.5) moved the identification to `magic2`
    "RSC\x05" at 0x38 and deprecated `magic`, whose place the EFI stub needs
    (it still holds "RISCV"). kexec-tools, kexec_file_load and U-Boot test
    `magic2`, GRUB 2.12 none of them.
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
    
    
    .. seealso::
       Source - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
    
    
    .. seealso::
       Source - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(Riscv64Image, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.code0 = self._io.read_u4le()
        self.code1 = self._io.read_u4le()
        self.text_offset = self._io.read_u8le()
        self.image_size = self._io.read_u8le()
        self.flags = self._io.read_u8le()
        self.version = Riscv64Image.HeaderVersion(self._io, self, self._root)
        self.res1 = self._io.read_u4le()
        self.res2 = self._io.read_u8le()
        self.magic = self._io.read_bytes(8)
        self.magic2 = self._io.read_bytes(4)
        if not self.magic2 == b"\x52\x53\x43\x05":
            raise kaitaistruct.ValidationNotEqualError(b"\x52\x53\x43\x05", self.magic2, self._io, u"/seq/9")
        self.pe_offset = self._io.read_u4le()


    def _fetch_instances(self):
        pass
        self.version._fetch_instances()

    class HeaderVersion(KaitaiStruct):
        """The u32 version word, read as one word; major and minor are values
        over it.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Riscv64Image.HeaderVersion, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def major(self):
            """Bits 16-31, the major version.
            
            .. seealso::
               Source - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
            """
            if hasattr(self, '_m_major'):
                return self._m_major

            self._m_major = self.raw >> 16
            return getattr(self, '_m_major', None)

        @property
        def minor(self):
            """Bits 0-15, the minor version.
            
            .. seealso::
               Source - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
            """
            if hasattr(self, '_m_minor'):
                return self._m_minor

            self._m_minor = self.raw & 65535
            return getattr(self, '_m_minor', None)


    @property
    def has_efi_stub(self):
        """The low two bytes of code0 are "MZ", the DOS/PE signature the EFI stub needs.
        
        .. seealso::
           Source - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/kernel/head.S?h=v6.12
        """
        if hasattr(self, '_m_has_efi_stub'):
            return self._m_has_efi_stub

        self._m_has_efi_stub = self.code0 & 65535 == 23117
        return getattr(self, '_m_has_efi_stub', None)

    @property
    def has_magic(self):
        """The deprecated magic "RISCV\0\0\0" is in place.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/arch/riscv/boot-image-header.html
        """
        if hasattr(self, '_m_has_magic'):
            return self._m_has_magic

        self._m_has_magic = self.magic == b"\x52\x49\x53\x43\x56\x00\x00\x00"
        return getattr(self, '_m_has_magic', None)

    @property
    def is_big_endian(self):
        """flags bit 0 (RISCV_IMAGE_FLAG_BE).
        
        .. seealso::
           Source - https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/riscv/include/asm/image.h?h=v6.12
        """
        if hasattr(self, '_m_is_big_endian'):
            return self._m_is_big_endian

        self._m_is_big_endian = self.flags & 1 != 0
        return getattr(self, '_m_is_big_endian', None)
