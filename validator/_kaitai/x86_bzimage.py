# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class X86Bzimage(KaitaiStruct):
    """The start of an x86 bzImage: the legacy boot sector (one 512-byte
    sector whose first bytes are the DOS header "MZ" and e_lfanew when the
    kernel has the EFI stub) and, at 0x1f1, the real-mode kernel header a
    boot loader reads and fills in ("setup header", struct setup_header).
    The fields up to 0x224 exist in every image with "HdrS" (protocol 2.00
    and later); every later field exists from the protocol version the boot
    protocol names for it, and reads as null in an older image (its bytes
    are setup code there). The header ends at 0x202 plus the jump's offset
    (0x26c in protocol 2.15). Images without "HdrS" (before protocol 2.00,
    Linux 1.3.73) are not described. Every field is little-endian.
    
    .. seealso::
       "The Real-Mode Kernel Header" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
    
    
    .. seealso::
       struct setup_header - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h
    
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S
    """

    class HardwareSubarch(IntEnum):
        pc = 0
        lguest = 1
        xen = 2
        intel_mid = 3
        ce4100 = 4
    def __init__(self, _io, _parent=None, _root=None):
        super(X86Bzimage, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.dos_magic = self._io.read_u2le()
        self.boot_sector_head = self._io.read_bytes(58)
        self.pe_offset = self._io.read_u4le()
        self.boot_sector_tail = self._io.read_bytes(433)
        self.setup_sects = self._io.read_u1()
        self.root_flags = self._io.read_u2le()
        self.syssize = self._io.read_u4le()
        self.ram_size = self._io.read_u2le()
        self.vid_mode = self._io.read_u2le()
        self.root_dev = self._io.read_u2le()
        self.boot_flag = self._io.read_u2le()
        if not self.boot_flag == 43605:
            raise kaitaistruct.ValidationNotEqualError(43605, self.boot_flag, self._io, u"/seq/10")
        self.jump = self._io.read_u2le()
        self.header = self._io.read_bytes(4)
        if not self.header == b"\x48\x64\x72\x53":
            raise kaitaistruct.ValidationNotEqualError(b"\x48\x64\x72\x53", self.header, self._io, u"/seq/12")
        self.version = self._io.read_u2le()
        self.realmode_swtch = self._io.read_u4le()
        self.start_sys_seg = self._io.read_u2le()
        self.kernel_version = self._io.read_u2le()
        self.type_of_loader = self._io.read_u1()
        self.loadflags = self._io.read_u1()
        self.setup_move_size = self._io.read_u2le()
        self.code32_start = self._io.read_u4le()
        self.ramdisk_image = self._io.read_u4le()
        self.ramdisk_size = self._io.read_u4le()
        self.bootsect_kludge = self._io.read_u4le()
        self.later_fields = self._io.read_bytes(72)


    def _fetch_instances(self):
        pass
        _ = self.cmd_line_ptr
        if hasattr(self, '_m_cmd_line_ptr'):
            pass

        _ = self.cmdline_size
        if hasattr(self, '_m_cmdline_size'):
            pass

        _ = self.ext_loader_type
        if hasattr(self, '_m_ext_loader_type'):
            pass

        _ = self.ext_loader_ver
        if hasattr(self, '_m_ext_loader_ver'):
            pass

        _ = self.handover_offset
        if hasattr(self, '_m_handover_offset'):
            pass

        _ = self.hardware_subarch
        if hasattr(self, '_m_hardware_subarch'):
            pass

        _ = self.hardware_subarch_data
        if hasattr(self, '_m_hardware_subarch_data'):
            pass

        _ = self.heap_end_ptr
        if hasattr(self, '_m_heap_end_ptr'):
            pass

        _ = self.init_size
        if hasattr(self, '_m_init_size'):
            pass

        _ = self.initrd_addr_max
        if hasattr(self, '_m_initrd_addr_max'):
            pass

        _ = self.kernel_alignment
        if hasattr(self, '_m_kernel_alignment'):
            pass

        _ = self.kernel_info_offset
        if hasattr(self, '_m_kernel_info_offset'):
            pass

        _ = self.kernel_version_string
        if hasattr(self, '_m_kernel_version_string'):
            pass

        _ = self.min_alignment
        if hasattr(self, '_m_min_alignment'):
            pass

        _ = self.payload_length
        if hasattr(self, '_m_payload_length'):
            pass

        _ = self.payload_offset
        if hasattr(self, '_m_payload_offset'):
            pass

        _ = self.pref_address
        if hasattr(self, '_m_pref_address'):
            pass

        _ = self.relocatable_kernel
        if hasattr(self, '_m_relocatable_kernel'):
            pass

        _ = self.setup_data
        if hasattr(self, '_m_setup_data'):
            pass

        _ = self.xloadflags
        if hasattr(self, '_m_xloadflags'):
            pass


    @property
    def cmd_line_ptr(self):
        """32-bit address of the kernel command line, written by the loader.
        
        .. seealso::
           "Field name: cmd_line_ptr" (2.02+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_cmd_line_ptr'):
            return self._m_cmd_line_ptr

        if self.version >= 514:
            pass
            _pos = self._io.pos()
            self._io.seek(552)
            self._m_cmd_line_ptr = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_cmd_line_ptr', None)

    @property
    def cmdline_size(self):
        """Maximum length of the command line without its NUL (255 assumed before 2.06).
        
        .. seealso::
           "Field name: cmdline_size" (2.06+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_cmdline_size'):
            return self._m_cmdline_size

        if self.version >= 518:
            pass
            _pos = self._io.pos()
            self._io.seek(568)
            self._m_cmdline_size = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_cmdline_size', None)

    @property
    def ext_loader_type(self):
        """Extended boot loader type, written by the loader.
        
        .. seealso::
           "Field name: ext_loader_type" (2.02+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_ext_loader_type'):
            return self._m_ext_loader_type

        if self.version >= 514:
            pass
            _pos = self._io.pos()
            self._io.seek(551)
            self._m_ext_loader_type = self._io.read_u1()
            self._io.seek(_pos)

        return getattr(self, '_m_ext_loader_type', None)

    @property
    def ext_loader_ver(self):
        """Extended boot loader version, written by the loader.
        
        .. seealso::
           "Field name: ext_loader_ver" (2.02+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_ext_loader_ver'):
            return self._m_ext_loader_ver

        if self.version >= 514:
            pass
            _pos = self._io.pos()
            self._io.seek(550)
            self._m_ext_loader_ver = self._io.read_u1()
            self._io.seek(_pos)

        return getattr(self, '_m_ext_loader_ver', None)

    @property
    def handover_offset(self):
        """Offset from the protected-mode start of the EFI handover entry point (0 = none).
        
        .. seealso::
           "Field name: handover_offset" (2.11+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_handover_offset'):
            return self._m_handover_offset

        if self.version >= 523:
            pass
            _pos = self._io.pos()
            self._io.seek(612)
            self._m_handover_offset = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_handover_offset', None)

    @property
    def hardware_subarch(self):
        """The paravirtualized environment the kernel runs in (0 = a normal PC).
        
        .. seealso::
           "Field name: hardware_subarch" (2.07+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_hardware_subarch'):
            return self._m_hardware_subarch

        if self.version >= 519:
            pass
            _pos = self._io.pos()
            self._io.seek(572)
            self._m_hardware_subarch = KaitaiStream.resolve_enum(X86Bzimage.HardwareSubarch, self._io.read_u4le())
            self._io.seek(_pos)

        return getattr(self, '_m_hardware_subarch', None)

    @property
    def hardware_subarch_data(self):
        """Pointer to data for hardware_subarch (unused by the normal PC one).
        
        .. seealso::
           "Field name: hardware_subarch_data" (2.07+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_hardware_subarch_data'):
            return self._m_hardware_subarch_data

        if self.version >= 519:
            pass
            _pos = self._io.pos()
            self._io.seek(576)
            self._m_hardware_subarch_data = self._io.read_u8le()
            self._io.seek(_pos)

        return getattr(self, '_m_hardware_subarch_data', None)

    @property
    def has_efi_stub(self):
        """The file starts with "MZ", the DOS header of the EFI stub's PE/COFF image.
        
        .. seealso::
           "MZ" (CONFIG_EFI_STUB) - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S
        """
        if hasattr(self, '_m_has_efi_stub'):
            return self._m_has_efi_stub

        self._m_has_efi_stub = self.dos_magic == 23117
        return getattr(self, '_m_has_efi_stub', None)

    @property
    def header_end(self):
        """File offset where the header ends, from the jump's signed offset (0x26c in 2.15).
        
        .. seealso::
           "Field name: jump" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_header_end'):
            return self._m_header_end

        self._m_header_end = 514 + ((self.jump >> 8) - 256 if self.jump >> 8 >= 128 else self.jump >> 8)
        return getattr(self, '_m_header_end', None)

    @property
    def heap_end_ptr(self):
        """End of the real-mode setup stack/heap, less 0x200, written by the loader.
        
        .. seealso::
           "Field name: heap_end_ptr" (2.01+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_heap_end_ptr'):
            return self._m_heap_end_ptr

        if self.version >= 513:
            pass
            _pos = self._io.pos()
            self._io.seek(548)
            self._m_heap_end_ptr = self._io.read_u2le()
            self._io.seek(_pos)

        return getattr(self, '_m_heap_end_ptr', None)

    @property
    def init_size(self):
        """Bytes of contiguous memory from the load address that the kernel
        needs until it is running (decompression included): what a loader
        reserves for it.
        
        .. seealso::
           "Field name: init_size" (2.10+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_init_size'):
            return self._m_init_size

        if self.version >= 522:
            pass
            _pos = self._io.pos()
            self._io.seek(608)
            self._m_init_size = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_init_size', None)

    @property
    def initrd_addr_max(self):
        """Highest address the initrd may occupy (0x37ffffff assumed before 2.03).
        
        .. seealso::
           "Field name: initrd_addr_max" (2.03+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_initrd_addr_max'):
            return self._m_initrd_addr_max

        if self.version >= 515:
            pass
            _pos = self._io.pos()
            self._io.seek(556)
            self._m_initrd_addr_max = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_initrd_addr_max', None)

    @property
    def is_relocatable(self):
        """relocatable_kernel set (false before 2.05, when the field did not exist).
        
        .. seealso::
           "Field name: relocatable_kernel" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_is_relocatable'):
            return self._m_is_relocatable

        self._m_is_relocatable = (self.relocatable_kernel != 0 if self.version >= 517 else False)
        return getattr(self, '_m_is_relocatable', None)

    @property
    def kernel_alignment(self):
        """Alignment the protected-mode kernel needs when relocatable
        (CONFIG_PHYSICAL_ALIGN); kexec-tools and kexec_file_load place the
        kernel at a multiple of it.
        
        .. seealso::
           "Field name: kernel_alignment" (2.05+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        .. seealso::
           kernel_alignment = CONFIG_PHYSICAL_ALIGN - https://github.com/torvalds/linux/blob/v6.1/arch/x86/boot/header.S
        """
        if hasattr(self, '_m_kernel_alignment'):
            return self._m_kernel_alignment

        if self.version >= 517:
            pass
            _pos = self._io.pos()
            self._io.seek(560)
            self._m_kernel_alignment = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_kernel_alignment', None)

    @property
    def kernel_info_offset(self):
        """Offset of the kernel_info ("LToP") from the protected-mode start.
        
        .. seealso::
           "Field name: kernel_info_offset" (2.15+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_kernel_info_offset'):
            return self._m_kernel_info_offset

        if self.version >= 527:
            pass
            _pos = self._io.pos()
            self._io.seek(616)
            self._m_kernel_info_offset = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_kernel_info_offset', None)

    @property
    def kernel_version_string(self):
        """The kernel version string the kernel_version field points at (e.g. "6.1.0-50-amd64 (debian-kernel@...).
        
        .. seealso::
           "Field name: kernel_version" (2.00+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_kernel_version_string'):
            return self._m_kernel_version_string

        if self.kernel_version != 0:
            pass
            _pos = self._io.pos()
            self._io.seek(512 + self.kernel_version)
            self._m_kernel_version_string = (self._io.read_bytes_term(0, False, True, True)).decode(u"ASCII")
            self._io.seek(_pos)

        return getattr(self, '_m_kernel_version_string', None)

    @property
    def loaded_high(self):
        """LOADED_HIGH, a bzImage (protected-mode code at 0x100000); every bzImage probe requires it.
        
        .. seealso::
           "Bit 0 (read): LOADED_HIGH" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        
        .. seealso::
           kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c bzImage_probe "zImage not a bzImage"
        """
        if hasattr(self, '_m_loaded_high'):
            return self._m_loaded_high

        self._m_loaded_high = self.loadflags & 1 != 0
        return getattr(self, '_m_loaded_high', None)

    @property
    def min_alignment(self):
        """Smallest alignment the kernel accepts, as a power of two (kernel_alignment is the preferred one).
        
        .. seealso::
           "Field name: min_alignment" (2.10+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_min_alignment'):
            return self._m_min_alignment

        if self.version >= 522:
            pass
            _pos = self._io.pos()
            self._io.seek(565)
            self._m_min_alignment = self._io.read_u1()
            self._io.seek(_pos)

        return getattr(self, '_m_min_alignment', None)

    @property
    def payload_length(self):
        """Length of the compressed kernel.
        
        .. seealso::
           "Field name: payload_length" (2.08+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_payload_length'):
            return self._m_payload_length

        if self.version >= 520:
            pass
            _pos = self._io.pos()
            self._io.seek(588)
            self._m_payload_length = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_payload_length', None)

    @property
    def payload_offset(self):
        """Offset of the compressed kernel from the start of the protected-mode code.
        
        .. seealso::
           "Field name: payload_offset" (2.08+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_payload_offset'):
            return self._m_payload_offset

        if self.version >= 520:
            pass
            _pos = self._io.pos()
            self._io.seek(584)
            self._m_payload_offset = self._io.read_u4le()
            self._io.seek(_pos)

        return getattr(self, '_m_payload_offset', None)

    @property
    def pref_address(self):
        """Preferred load address of a relocatable kernel (LOAD_PHYSICAL_ADDR);
        kexec-tools and kexec_file_load place the kernel at or above it.
        
        .. seealso::
           "Field name: pref_address" (2.10+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        .. seealso::
           bzImage64_load buf_min - https://github.com/torvalds/linux/blob/v6.1/arch/x86/kernel/kexec-bzimage64.c
        """
        if hasattr(self, '_m_pref_address'):
            return self._m_pref_address

        if self.version >= 522:
            pass
            _pos = self._io.pos()
            self._io.seek(600)
            self._m_pref_address = self._io.read_u8le()
            self._io.seek(_pos)

        return getattr(self, '_m_pref_address', None)

    @property
    def relocatable_kernel(self):
        """Non-zero when the protected-mode kernel may be loaded at any address
        aligned to kernel_alignment (CONFIG_RELOCATABLE). kexec-tools refuses
        a non-relocatable bzImage as a crash kernel.
        
        .. seealso::
           "Field name: relocatable_kernel" (2.05+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        .. seealso::
           kexec-tools v2.0.32 kexec/arch/i386/kexec-bzImage.c do_bzImage_load "BzImage is not relocatable"
        """
        if hasattr(self, '_m_relocatable_kernel'):
            return self._m_relocatable_kernel

        if self.version >= 517:
            pass
            _pos = self._io.pos()
            self._io.seek(564)
            self._m_relocatable_kernel = self._io.read_u1()
            self._io.seek(_pos)

        return getattr(self, '_m_relocatable_kernel', None)

    @property
    def setup_data(self):
        """64-bit physical address of the setup_data list, written by the loader.
        
        .. seealso::
           "Field name: setup_data" (2.09+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_setup_data'):
            return self._m_setup_data

        if self.version >= 521:
            pass
            _pos = self._io.pos()
            self._io.seek(592)
            self._m_setup_data = self._io.read_u8le()
            self._io.seek(_pos)

        return getattr(self, '_m_setup_data', None)

    @property
    def setup_sects_effective(self):
        """setup_sects, with 0 read as 4.
        
        .. seealso::
           "Field name: setup_sects" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_setup_sects_effective'):
            return self._m_setup_sects_effective

        self._m_setup_sects_effective = (4 if self.setup_sects == 0 else self.setup_sects)
        return getattr(self, '_m_setup_sects_effective', None)

    @property
    def setup_size(self):
        """Bytes of the real-mode part (boot sector and setup): the protected-mode
        kernel starts at this file offset (kexec's kern16_size).
        
        .. seealso::
           "Loading The Rest of The Kernel" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        .. seealso::
           kern16_size - https://github.com/torvalds/linux/blob/v6.1/arch/x86/kernel/kexec-bzimage64.c
        """
        if hasattr(self, '_m_setup_size'):
            return self._m_setup_size

        self._m_setup_size = (self.setup_sects_effective + 1) * 512
        return getattr(self, '_m_setup_size', None)

    @property
    def syssize_effective(self):
        """syssize as the protocol defines it (two bytes before 2.04).
        
        .. seealso::
           "Field name: syssize" - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_syssize_effective'):
            return self._m_syssize_effective

        self._m_syssize_effective = (self.syssize if self.version >= 516 else self.syssize & 65535)
        return getattr(self, '_m_syssize_effective', None)

    @property
    def xlf_5level(self):
        """XLF_5LEVEL, the kernel can be started with 5-level paging enabled.
        
        .. seealso::
           XLF_5LEVEL - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h
        """
        if hasattr(self, '_m_xlf_5level'):
            return self._m_xlf_5level

        self._m_xlf_5level = (self.xloadflags & 32 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_5level', None)

    @property
    def xlf_5level_enabled(self):
        """XLF_5LEVEL_ENABLED, the kernel has 5-level paging enabled.
        
        .. seealso::
           XLF_5LEVEL_ENABLED - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h
        """
        if hasattr(self, '_m_xlf_5level_enabled'):
            return self._m_xlf_5level_enabled

        self._m_xlf_5level_enabled = (self.xloadflags & 64 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_5level_enabled', None)

    @property
    def xlf_can_be_loaded_above_4g(self):
        """XLF_CAN_BE_LOADED_ABOVE_4G, kernel, boot_params, command line and ramdisk may sit above 4 GiB.
        
        .. seealso::
           "Field name: xloadflags" bit 1 - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_xlf_can_be_loaded_above_4g'):
            return self._m_xlf_can_be_loaded_above_4g

        self._m_xlf_can_be_loaded_above_4g = (self.xloadflags & 2 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_can_be_loaded_above_4g', None)

    @property
    def xlf_efi_handover_32(self):
        """XLF_EFI_HANDOVER_32, the 32-bit EFI handover entry at handover_offset.
        
        .. seealso::
           "Field name: xloadflags" bit 2 - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_xlf_efi_handover_32'):
            return self._m_xlf_efi_handover_32

        self._m_xlf_efi_handover_32 = (self.xloadflags & 4 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_efi_handover_32', None)

    @property
    def xlf_efi_handover_64(self):
        """XLF_EFI_HANDOVER_64, the 64-bit EFI handover entry at handover_offset + 0x200.
        
        .. seealso::
           "Field name: xloadflags" bit 3 - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_xlf_efi_handover_64'):
            return self._m_xlf_efi_handover_64

        self._m_xlf_efi_handover_64 = (self.xloadflags & 8 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_efi_handover_64', None)

    @property
    def xlf_efi_kexec(self):
        """XLF_EFI_KEXEC, the kernel supports kexec EFI boot with EFI runtime support.
        
        .. seealso::
           "Field name: xloadflags" bit 4 - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_xlf_efi_kexec'):
            return self._m_xlf_efi_kexec

        self._m_xlf_efi_kexec = (self.xloadflags & 16 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_efi_kexec', None)

    @property
    def xlf_kernel_64(self):
        """XLF_KERNEL_64, the kernel has the legacy 64-bit entry point at 0x200.
        
        .. seealso::
           "Field name: xloadflags" bit 0 - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        """
        if hasattr(self, '_m_xlf_kernel_64'):
            return self._m_xlf_kernel_64

        self._m_xlf_kernel_64 = (self.xloadflags & 1 != 0 if self.version >= 524 else False)
        return getattr(self, '_m_xlf_kernel_64', None)

    @property
    def xloadflags(self):
        """Bit 0 XLF_KERNEL_64 (a 64-bit entry at +0x200), bit 1
        XLF_CAN_BE_LOADED_ABOVE_4G, bit 2 XLF_EFI_HANDOVER_32, bit 3
        XLF_EFI_HANDOVER_64, bit 4 XLF_EFI_KEXEC, bit 5 XLF_5LEVEL, bit 6
        XLF_5LEVEL_ENABLED.
        
        .. seealso::
           "Field name: xloadflags" (2.12+) - https://github.com/torvalds/linux/blob/v6.6/Documentation/arch/x86/boot.rst
        
        
        .. seealso::
           XLF_* - https://github.com/torvalds/linux/blob/v6.1/arch/x86/include/uapi/asm/bootparam.h
        """
        if hasattr(self, '_m_xloadflags'):
            return self._m_xloadflags

        if self.version >= 524:
            pass
            _pos = self._io.pos()
            self._io.seek(566)
            self._m_xloadflags = self._io.read_u2le()
            self._io.seek(_pos)

        return getattr(self, '_m_xloadflags', None)
