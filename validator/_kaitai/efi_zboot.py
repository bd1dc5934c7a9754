# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from validator._kaitai import pe_efi_stub


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class EfiZboot(KaitaiStruct):
    """An EFI zboot image (Linux 6.1 and later) is a PE/COFF EFI application
    that decompresses the kernel Image it carries. Its DOS header holds the
    zboot header: "MZ" stored as a 32-bit word, the image type "zimg", where
    the compressed payload lies, the name of its compression, and at 0x3c
    the PE header offset that every PE loader reads. A non-EFI loader
    (kexec-tools since 2.0.27, kexec_file_load) reads this header to find
    and decompress the payload without running the stub.
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S
    
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/Makefile.zboot
    
    
    .. seealso::
       Source - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-pe-zboot.c
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(EfiZboot, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.mz_magic = self._io.read_bytes(4)
        if not self.mz_magic == b"\x4D\x5A\x00\x00":
            raise kaitaistruct.ValidationNotEqualError(b"\x4D\x5A\x00\x00", self.mz_magic, self._io, u"/seq/0")
        self.image_type = self._io.read_bytes(4)
        if not self.image_type == b"\x7A\x69\x6D\x67":
            raise kaitaistruct.ValidationNotEqualError(b"\x7A\x69\x6D\x67", self.image_type, self._io, u"/seq/1")
        self.payload_offset = self._io.read_u4le()
        self.payload_size = self._io.read_u4le()
        self.reserved = self._io.read_bytes(8)
        self.compression_type = (KaitaiStream.bytes_terminate(self._io.read_bytes(32), 0, False)).decode(u"ISO-8859-1")
        self.linux_pe_magic = self._io.read_u4le()
        self.pe_offset = self._io.read_u4le()


    def _fetch_instances(self):
        pass
        _ = self.pe
        if hasattr(self, '_m_pe'):
            pass
            self._m_pe._fetch_instances()


    @property
    def payload_end(self):
        """End of the compressed payload, the first byte a loader does not decompress.
        
        .. seealso::
           Source - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-pe-zboot.c
        """
        if hasattr(self, '_m_payload_end'):
            return self._m_payload_end

        self._m_payload_end = self.payload_offset + self.payload_size
        return getattr(self, '_m_payload_end', None)

    @property
    def pe(self):
        """The same file read as the PE/COFF image the firmware starts.
        
        .. seealso::
           .Lpehdr - https://github.com/torvalds/linux/blob/v6.1/drivers/firmware/efi/libstub/zboot-header.S
        """
        if hasattr(self, '_m_pe'):
            return self._m_pe

        _pos = self._io.pos()
        self._io.seek(0)
        self._m_pe = pe_efi_stub.PeEfiStub(self._io)
        self._io.seek(_pos)
        return getattr(self, '_m_pe', None)
