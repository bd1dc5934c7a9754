# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class AndroidBoot(KaitaiStruct):
    """"ANDROID!", then a header whose layout depends on header_version (at
    offset 40 in every version): versions 0-2 (boot_img_hdr_v0 and the
    fields v1 and v2 append) have load addresses and a page_size; versions
    3-4 (boot_img_hdr_v3, v4 appends signature_size) have no addresses, a
    fixed 4096-byte page and a 1536-byte command line. The kernel starts
    one page into the image; the ramdisk on the next page boundary after it.
    
    .. seealso::
       Source - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
    
    
    .. seealso::
       Source - https://source.android.com/docs/core/architecture/bootloader/boot-image-header
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(AndroidBoot, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.magic = self._io.read_bytes(8)
        if not self.magic == b"\x41\x4E\x44\x52\x4F\x49\x44\x21":
            raise kaitaistruct.ValidationNotEqualError(b"\x41\x4E\x44\x52\x4F\x49\x44\x21", self.magic, self._io, u"/seq/0")
        self.kernel_size = self._io.read_u4le()
        _on = self.header_version
        if _on == 0:
            pass
            self.header = AndroidBoot.HdrV0V2(self._io, self, self._root)
        elif _on == 1:
            pass
            self.header = AndroidBoot.HdrV0V2(self._io, self, self._root)
        elif _on == 2:
            pass
            self.header = AndroidBoot.HdrV0V2(self._io, self, self._root)
        elif _on == 3:
            pass
            self.header = AndroidBoot.HdrV3V4(self._io, self, self._root)
        elif _on == 4:
            pass
            self.header = AndroidBoot.HdrV3V4(self._io, self, self._root)


    def _fetch_instances(self):
        pass
        _on = self.header_version
        if _on == 0:
            pass
            self.header._fetch_instances()
        elif _on == 1:
            pass
            self.header._fetch_instances()
        elif _on == 2:
            pass
            self.header._fetch_instances()
        elif _on == 3:
            pass
            self.header._fetch_instances()
        elif _on == 4:
            pass
            self.header._fetch_instances()
        _ = self.header_version
        if hasattr(self, '_m_header_version'):
            pass


    class HdrV0V2(KaitaiStruct):
        """boot_img_hdr_v0 after kernel_size, with the v1 and v2 additions.
        
        .. seealso::
           boot_img_hdr_v0, boot_img_hdr_v1, boot_img_hdr_v2 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(AndroidBoot.HdrV0V2, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.kernel_addr = self._io.read_u4le()
            self.ramdisk_size = self._io.read_u4le()
            self.ramdisk_addr = self._io.read_u4le()
            self.second_size = self._io.read_u4le()
            self.second_addr = self._io.read_u4le()
            self.tags_addr = self._io.read_u4le()
            self.page_size = self._io.read_u4le()
            self.header_version = self._io.read_u4le()
            self.os_version = self._io.read_u4le()
            self.name = (KaitaiStream.bytes_terminate(self._io.read_bytes(16), 0, False)).decode(u"ISO-8859-1")
            self.cmdline = (KaitaiStream.bytes_terminate(self._io.read_bytes(512), 0, False)).decode(u"ISO-8859-1")
            self.id = []
            for i in range(8):
                self.id.append(self._io.read_u4le())

            self.extra_cmdline = (KaitaiStream.bytes_terminate(self._io.read_bytes(1024), 0, False)).decode(u"ISO-8859-1")
            if self.header_version >= 1:
                pass
                self.recovery_dtbo_size = self._io.read_u4le()

            if self.header_version >= 1:
                pass
                self.recovery_dtbo_offset = self._io.read_u8le()

            if self.header_version >= 1:
                pass
                self.header_size = self._io.read_u4le()

            if self.header_version >= 2:
                pass
                self.dtb_size = self._io.read_u4le()

            if self.header_version >= 2:
                pass
                self.dtb_addr = self._io.read_u8le()



        def _fetch_instances(self):
            pass
            for i in range(len(self.id)):
                pass

            if self.header_version >= 1:
                pass

            if self.header_version >= 1:
                pass

            if self.header_version >= 1:
                pass

            if self.header_version >= 2:
                pass

            if self.header_version >= 2:
                pass



    class HdrV3V4(KaitaiStruct):
        """boot_img_hdr_v3 after kernel_size, with the v4 addition.
        
        .. seealso::
           boot_img_hdr_v3, boot_img_hdr_v4 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(AndroidBoot.HdrV3V4, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.ramdisk_size = self._io.read_u4le()
            self.os_version = self._io.read_u4le()
            self.header_size = self._io.read_u4le()
            self.reserved = []
            for i in range(4):
                self.reserved.append(self._io.read_u4le())

            self.header_version = self._io.read_u4le()
            self.cmdline = (KaitaiStream.bytes_terminate(self._io.read_bytes(1536), 0, False)).decode(u"ISO-8859-1")
            if self.header_version >= 4:
                pass
                self.signature_size = self._io.read_u4le()



        def _fetch_instances(self):
            pass
            for i in range(len(self.reserved)):
                pass

            if self.header_version >= 4:
                pass



    @property
    def effective_page_size(self):
        """The page size a loader uses, 4096 for v3/v4, page_size before.
        
        .. seealso::
           boot_img_hdr_v3 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        if hasattr(self, '_m_effective_page_size'):
            return self._m_effective_page_size

        self._m_effective_page_size = (4096 if self.header_version >= 3 else self.header.page_size)
        return getattr(self, '_m_effective_page_size', None)

    @property
    def header_version(self):
        """The header version, at offset 40 in both layouts.
        
        .. seealso::
           boot_img_hdr_v0, boot_img_hdr_v3 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        if hasattr(self, '_m_header_version'):
            return self._m_header_version

        _pos = self._io.pos()
        self._io.seek(40)
        self._m_header_version = self._io.read_u4le()
        self._io.seek(_pos)
        return getattr(self, '_m_header_version', None)

    @property
    def is_v3_layout(self):
        """Versions 3 and 4 have the boot_img_hdr_v3 layout and a fixed 4096-byte page.
        
        .. seealso::
           boot_img_hdr_v3 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        if hasattr(self, '_m_is_v3_layout'):
            return self._m_is_v3_layout

        self._m_is_v3_layout = self.header_version >= 3
        return getattr(self, '_m_is_v3_layout', None)

    @property
    def kernel_offset(self):
        """File offset of the kernel, one page in.
        
        .. seealso::
           Source - https://source.android.com/docs/core/architecture/bootloader/boot-image-header
        """
        if hasattr(self, '_m_kernel_offset'):
            return self._m_kernel_offset

        self._m_kernel_offset = self.effective_page_size
        return getattr(self, '_m_kernel_offset', None)

    @property
    def ramdisk_offset(self):
        """File offset of the ramdisk, the first page boundary after the kernel.
        
        .. seealso::
           boot_img_hdr_v0 - https://android.googlesource.com/platform/system/tools/mkbootimg/+/refs/tags/android-13.0.0_r1/include/bootimg/bootimg.h
        """
        if hasattr(self, '_m_ramdisk_offset'):
            return self._m_ramdisk_offset

        self._m_ramdisk_offset = self.effective_page_size * (1 + ((self.kernel_size + self.effective_page_size) - 1) // self.effective_page_size)
        return getattr(self, '_m_ramdisk_offset', None)
