# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class AndroidVendorBoot(KaitaiStruct):
    """"VNDRBOOT", then vendor_boot_img_hdr_v3 (v4 appends the vendor ramdisk
    table and bootconfig sizes). It holds what a v3/v4 boot image leaves
    out: the load addresses, the page size, the vendor command line, the
    vendor ramdisk(s) and the DTB. After the header, each on a page_size
    boundary: the vendor ramdisk, the DTB, (v4) the vendor ramdisk table
    and the bootconfig.
    
    .. seealso::
       Source - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
    
    
    .. seealso::
       Source - https://source.android.com/docs/core/architecture/partitions/vendor-boot-partitions
    """

    class VendorRamdiskType(IntEnum):
        none = 0
        platform = 1
        recovery = 2
        dlkm = 3
    def __init__(self, _io, _parent=None, _root=None):
        super(AndroidVendorBoot, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.magic = self._io.read_bytes(8)
        if not self.magic == b"\x56\x4E\x44\x52\x42\x4F\x4F\x54":
            raise kaitaistruct.ValidationNotEqualError(b"\x56\x4E\x44\x52\x42\x4F\x4F\x54", self.magic, self._io, u"/seq/0")
        self.header_version = self._io.read_u4le()
        self.page_size = self._io.read_u4le()
        self.kernel_addr = self._io.read_u4le()
        self.ramdisk_addr = self._io.read_u4le()
        self.vendor_ramdisk_size = self._io.read_u4le()
        self.cmdline = (KaitaiStream.bytes_terminate(self._io.read_bytes(2048), 0, False)).decode(u"ISO-8859-1")
        self.tags_addr = self._io.read_u4le()
        self.name = (KaitaiStream.bytes_terminate(self._io.read_bytes(16), 0, False)).decode(u"ISO-8859-1")
        self.header_size = self._io.read_u4le()
        self.dtb_size = self._io.read_u4le()
        self.dtb_addr = self._io.read_u8le()
        if self.header_version >= 4:
            pass
            self.vendor_ramdisk_table_size = self._io.read_u4le()

        if self.header_version >= 4:
            pass
            self.vendor_ramdisk_table_entry_num = self._io.read_u4le()

        if self.header_version >= 4:
            pass
            self.vendor_ramdisk_table_entry_size = self._io.read_u4le()

        if self.header_version >= 4:
            pass
            self.bootconfig_size = self._io.read_u4le()



    def _fetch_instances(self):
        pass
        if self.header_version >= 4:
            pass

        if self.header_version >= 4:
            pass

        if self.header_version >= 4:
            pass

        if self.header_version >= 4:
            pass


    class VendorRamdiskTableEntry(KaitaiStruct):
        """vendor_ramdisk_table_entry_v4, one vendor ramdisk fragment (108 bytes).
        
        .. seealso::
           vendor_ramdisk_table_entry_v4 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(AndroidVendorBoot.VendorRamdiskTableEntry, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.ramdisk_size = self._io.read_u4le()
            self.ramdisk_offset = self._io.read_u4le()
            self.ramdisk_type = KaitaiStream.resolve_enum(AndroidVendorBoot.VendorRamdiskType, self._io.read_u4le())
            self.ramdisk_name = (KaitaiStream.bytes_terminate(self._io.read_bytes(32), 0, False)).decode(u"ISO-8859-1")
            self.board_id = []
            for i in range(16):
                self.board_id.append(self._io.read_u4le())



        def _fetch_instances(self):
            pass
            for i in range(len(self.board_id)):
                pass



    @property
    def header_pages_end(self):
        """File offset of the vendor ramdisk, the first page boundary after the header.
        
        .. seealso::
           vendor_boot_img_hdr_v4 (layout comment) - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        if hasattr(self, '_m_header_pages_end'):
            return self._m_header_pages_end

        self._m_header_pages_end = (0 if self.page_size == 0 else self.page_size * ((((2112 + (16 if self.header_version >= 4 else 0)) + self.page_size) - 1) // self.page_size))
        return getattr(self, '_m_header_pages_end', None)
