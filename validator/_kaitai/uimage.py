# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Uimage(KaitaiStruct):
    """The 64-byte header mkimage puts before a payload (a kernel Image, often
    compressed): everything in network byte order. U-Boot's bootm and
    kexec-tools check the magic and the header CRC (CRC-32 of the 64 bytes
    with ih_hcrc taken as zero), then the data CRC over ih_size bytes after
    the header, and decompress the payload as ih_comp says. The enum ids
    are U-Boot's short names (mkimage -A/-O/-T/-C), "-" written "_".
    A CRC is not expressible in Kaitai; the check is left to the reader.
    
    .. seealso::
       legacy_img_hdr, IH_OS_*, IH_ARCH_*, IH_TYPE_*, IH_COMP_* - https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h
    
    
    .. seealso::
       uimage_os, uimage_arch, uimage_type, uimage_comp - https://github.com/u-boot/u-boot/blob/v2023.01/boot/image.c
    
    
    .. seealso::
       image_check_hcrc - https://github.com/u-boot/u-boot/blob/v2023.01/boot/image-legacy.c
    
    
    .. seealso::
       uImage_probe - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-uImage.c
    """

    class Arch(IntEnum):
        invalid = 0
        alpha = 1
        arm = 2
        x86 = 3
        ia64 = 4
        mips = 5
        mips64 = 6
        powerpc = 7
        s390 = 8
        sh = 9
        sparc = 10
        sparc64 = 11
        m68k = 12
        nios = 13
        microblaze = 14
        nios2 = 15
        blackfin = 16
        avr32 = 17
        st200 = 18
        sandbox = 19
        nds32 = 20
        or1k = 21
        arm64 = 22
        arc = 23
        x86_64 = 24
        xtensa = 25
        riscv = 26

    class Compression(IntEnum):
        none = 0
        gzip = 1
        bzip2 = 2
        lzma = 3
        lzo = 4
        lz4 = 5
        zstd = 6

    class ImageType(IntEnum):
        invalid = 0
        standalone = 1
        kernel = 2
        ramdisk = 3
        multi = 4
        firmware = 5
        script = 6
        filesystem = 7
        flat_dt = 8
        kwbimage = 9
        imximage = 10
        ublimage = 11
        omapimage = 12
        aisimage = 13
        kernel_noload = 14
        pblimage = 15
        mxsimage = 16
        gpimage = 17
        atmelimage = 18
        socfpgaimage = 19
        x86_setup = 20
        lpc32xximage = 21
        loadable = 22
        rkimage = 23
        rksd = 24
        rkspi = 25
        zynqimage = 26
        zynqmpimage = 27
        zynqmpbif = 28
        fpga = 29
        vybridimage = 30
        tee = 31
        firmware_ivt = 32
        pmmc = 33
        stm32image = 34
        socfpgaimage_v1 = 35
        mtk_image = 36
        imx8mimage = 37
        imx8image = 38

    class Os(IntEnum):
        invalid = 0
        openbsd = 1
        netbsd = 2
        freebsd = 3
        bsd_4_4 = 4
        linux = 5
        svr4 = 6
        esix = 7
        solaris = 8
        irix = 9
        sco = 10
        dell = 11
        ncr = 12
        lynxos = 13
        vxworks = 14
        psos = 15
        qnx = 16
        u_boot = 17
        rtems = 18
        artos = 19
        unity = 20
        integrity = 21
        ose = 22
        plan9 = 23
        openrtos = 24
        arm_trusted_firmware = 25
        tee = 26
    def __init__(self, _io, _parent=None, _root=None):
        super(Uimage, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.ih_magic = self._io.read_bytes(4)
        if not self.ih_magic == b"\x27\x05\x19\x56":
            raise kaitaistruct.ValidationNotEqualError(b"\x27\x05\x19\x56", self.ih_magic, self._io, u"/seq/0")
        self.ih_hcrc = self._io.read_u4be()
        self.ih_time = self._io.read_u4be()
        self.ih_size = self._io.read_u4be()
        self.ih_load = self._io.read_u4be()
        self.ih_ep = self._io.read_u4be()
        self.ih_dcrc = self._io.read_u4be()
        self.ih_os = KaitaiStream.resolve_enum(Uimage.Os, self._io.read_u1())
        self.ih_arch = KaitaiStream.resolve_enum(Uimage.Arch, self._io.read_u1())
        self.ih_type = KaitaiStream.resolve_enum(Uimage.ImageType, self._io.read_u1())
        self.ih_comp = KaitaiStream.resolve_enum(Uimage.Compression, self._io.read_u1())
        self.ih_name = (KaitaiStream.bytes_terminate(self._io.read_bytes(32), 0, False)).decode(u"ISO-8859-1")


    def _fetch_instances(self):
        pass

    @property
    def header_size(self):
        """sizeof(struct legacy_img_hdr); the payload starts here.
        
        .. seealso::
           legacy_img_hdr - https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h
        """
        if hasattr(self, '_m_header_size'):
            return self._m_header_size

        self._m_header_size = 64
        return getattr(self, '_m_header_size', None)

    @property
    def payload_end(self):
        """File offset just past the payload.
        
        .. seealso::
           legacy_img_hdr - https://github.com/u-boot/u-boot/blob/v2023.01/include/image.h
        """
        if hasattr(self, '_m_payload_end'):
            return self._m_payload_end

        self._m_payload_end = 64 + self.ih_size
        return getattr(self, '_m_payload_end', None)
