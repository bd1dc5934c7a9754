# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class PeEfiStub(KaitaiStruct):
    """What an EFI loader reads of a PE/COFF image before it starts it: the DOS
    header's "MZ" and e_lfanew (0x3c), the "PE\0\0" signature there, the COFF
    file header, the optional header (PE32, magic 0x10b, or PE32+, magic
    0x20b), its data directories (the certificate table is the one a
    Secure-Boot loader reads) and the section table. An arm64 EFI-stub Image
    is such a file whose DOS header doubles as the Image header (e_lfanew is
    the Image header's pe_offset); an EFI zboot vmlinuz.efi is another, whose
    DOS header carries the zboot header. The rest of the DOS header, which no
    EFI loader reads, is kept as bytes.
    
    .. seealso::
       "PE Format" (Microsoft) - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
    
    
    .. seealso::
       PeCoffLoaderGetPeHeader - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c
    
    
    .. seealso::
       Source - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
    
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/arch/arm64/kernel/efi-header.S
    """

    class Machine(IntEnum):
        unknown = 0
        i386 = 332
        arm = 448
        thumb = 450
        armnt = 452
        riscv32 = 20530
        riscv64 = 20580
        loongarch32 = 25138
        loongarch64 = 25188
        amd64 = 34404
        arm64 = 43620

    class OptionalMagic(IntEnum):
        pe32 = 267
        pe32_plus = 523

    class Subsystem(IntEnum):
        unknown = 0
        native = 1
        windows_gui = 2
        windows_cui = 3
        efi_application = 10
        efi_boot_service_driver = 11
        efi_runtime_driver = 12
        efi_rom = 13

    class WinCertRevision(IntEnum):
        revision_1_0 = 256
        revision_2_0 = 512

    class WinCertType(IntEnum):
        x509 = 1
        pkcs_signed_data = 2
        reserved_1 = 3
        ts_stack_signed = 4
    def __init__(self, _io, _parent=None, _root=None):
        super(PeEfiStub, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.e_magic = self._io.read_bytes(2)
        if not self.e_magic == b"\x4D\x5A":
            raise kaitaistruct.ValidationNotEqualError(b"\x4D\x5A", self.e_magic, self._io, u"/seq/0")
        self.dos_rest = self._io.read_bytes(58)
        self.e_lfanew = self._io.read_u4le()


    def _fetch_instances(self):
        pass
        _ = self.certificate
        if hasattr(self, '_m_certificate'):
            pass
            self._m_certificate._fetch_instances()

        _ = self.pe
        if hasattr(self, '_m_pe'):
            pass
            self._m_pe._fetch_instances()


    class CoffHeader(KaitaiStruct):
        """EFI_IMAGE_FILE_HEADER, 20 bytes.
        
        .. seealso::
           EFI_IMAGE_FILE_HEADER - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.CoffHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.machine = KaitaiStream.resolve_enum(PeEfiStub.Machine, self._io.read_u2le())
            self.number_of_sections = self._io.read_u2le()
            self.time_date_stamp = self._io.read_u4le()
            self.pointer_to_symbol_table = self._io.read_u4le()
            self.number_of_symbols = self._io.read_u4le()
            self.size_of_optional_header = self._io.read_u2le()
            self.characteristics = self._io.read_u2le()


        def _fetch_instances(self):
            pass


    class DataDirectory(KaitaiStruct):
        """EFI_IMAGE_DATA_DIRECTORY.
        
        .. seealso::
           "Optional Header Data Directories (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.DataDirectory, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.virtual_address = self._io.read_u4le()
            self.size = self._io.read_u4le()


        def _fetch_instances(self):
            pass


    class OptionalHeader(KaitaiStruct):
        """EFI_IMAGE_OPTIONAL_HEADER32 or EFI_IMAGE_OPTIONAL_HEADER64, chosen by magic.
        
        .. seealso::
           EFI_IMAGE_OPTIONAL_HEADER64 - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.OptionalHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.magic = KaitaiStream.resolve_enum(PeEfiStub.OptionalMagic, self._io.read_u2le())
            if not  ((self.magic == PeEfiStub.OptionalMagic.pe32) or (self.magic == PeEfiStub.OptionalMagic.pe32_plus)) :
                raise kaitaistruct.ValidationNotAnyOfError(self.magic, self._io, u"/types/optional_header/seq/0")
            self.major_linker_version = self._io.read_u1()
            self.minor_linker_version = self._io.read_u1()
            self.size_of_code = self._io.read_u4le()
            self.size_of_initialized_data = self._io.read_u4le()
            self.size_of_uninitialized_data = self._io.read_u4le()
            self.address_of_entry_point = self._io.read_u4le()
            self.base_of_code = self._io.read_u4le()
            if self.magic == PeEfiStub.OptionalMagic.pe32:
                pass
                self.base_of_data = self._io.read_u4le()

            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
                self.image_base = self._io.read_u4le()
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
                self.image_base = self._io.read_u8le()
            self.section_alignment = self._io.read_u4le()
            self.file_alignment = self._io.read_u4le()
            self.major_operating_system_version = self._io.read_u2le()
            self.minor_operating_system_version = self._io.read_u2le()
            self.major_image_version = self._io.read_u2le()
            self.minor_image_version = self._io.read_u2le()
            self.major_subsystem_version = self._io.read_u2le()
            self.minor_subsystem_version = self._io.read_u2le()
            self.win32_version_value = self._io.read_u4le()
            self.size_of_image = self._io.read_u4le()
            self.size_of_headers = self._io.read_u4le()
            self.check_sum = self._io.read_u4le()
            self.subsystem = KaitaiStream.resolve_enum(PeEfiStub.Subsystem, self._io.read_u2le())
            self.dll_characteristics = self._io.read_u2le()
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
                self.size_of_stack_reserve = self._io.read_u4le()
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
                self.size_of_stack_reserve = self._io.read_u8le()
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
                self.size_of_stack_commit = self._io.read_u4le()
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
                self.size_of_stack_commit = self._io.read_u8le()
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
                self.size_of_heap_reserve = self._io.read_u4le()
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
                self.size_of_heap_reserve = self._io.read_u8le()
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
                self.size_of_heap_commit = self._io.read_u4le()
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
                self.size_of_heap_commit = self._io.read_u8le()
            self.loader_flags = self._io.read_u4le()
            self.number_of_rva_and_sizes = self._io.read_u4le()
            self.data_directories = []
            for i in range(self.number_of_rva_and_sizes):
                self.data_directories.append(PeEfiStub.DataDirectory(self._io, self, self._root))



        def _fetch_instances(self):
            pass
            if self.magic == PeEfiStub.OptionalMagic.pe32:
                pass

            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
            _on = self.magic
            if _on == PeEfiStub.OptionalMagic.pe32:
                pass
            elif _on == PeEfiStub.OptionalMagic.pe32_plus:
                pass
            for i in range(len(self.data_directories)):
                pass
                self.data_directories[i]._fetch_instances()


        @property
        def directory_count_ok(self):
            """At most 16 data directories, as EDK2 requires.
            
            .. seealso::
               PeCoffLoaderGetPeHeader - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c
            """
            if hasattr(self, '_m_directory_count_ok'):
                return self._m_directory_count_ok

            self._m_directory_count_ok = self.number_of_rva_and_sizes <= 16
            return getattr(self, '_m_directory_count_ok', None)

        @property
        def is_pe32_plus(self):
            """PE32+ (64-bit fields), as every arm64 kernel is.
            
            .. seealso::
               "Optional Header (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
            """
            if hasattr(self, '_m_is_pe32_plus'):
                return self._m_is_pe32_plus

            self._m_is_pe32_plus = self.magic == PeEfiStub.OptionalMagic.pe32_plus
            return getattr(self, '_m_is_pe32_plus', None)


    class PeHeader(KaitaiStruct):
        """"PE\0\0", the COFF file header, the optional header and the section table.
        
        .. seealso::
           EFI_IMAGE_NT_HEADERS64 - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.PeHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.signature = self._io.read_bytes(4)
            if not self.signature == b"\x50\x45\x00\x00":
                raise kaitaistruct.ValidationNotEqualError(b"\x50\x45\x00\x00", self.signature, self._io, u"/types/pe_header/seq/0")
            self.coff = PeEfiStub.CoffHeader(self._io, self, self._root)
            if self.coff.size_of_optional_header != 0:
                pass
                self._raw_optional_header = self._io.read_bytes(self.coff.size_of_optional_header)
                _io__raw_optional_header = KaitaiStream(BytesIO(self._raw_optional_header))
                self.optional_header = PeEfiStub.OptionalHeader(_io__raw_optional_header, self, self._root)

            self.sections = []
            for i in range(self.coff.number_of_sections):
                self.sections.append(PeEfiStub.SectionHeader(self._io, self, self._root))



        def _fetch_instances(self):
            pass
            self.coff._fetch_instances()
            if self.coff.size_of_optional_header != 0:
                pass
                self.optional_header._fetch_instances()

            for i in range(len(self.sections)):
                pass
                self.sections[i]._fetch_instances()


        @property
        def certificate_table(self):
            """The certificate (security) directory, data directory 4.
            
            .. seealso::
               "Optional Header Data Directories (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
            """
            if hasattr(self, '_m_certificate_table'):
                return self._m_certificate_table

            if  ((self.coff.size_of_optional_header != 0) and (self.optional_header.number_of_rva_and_sizes > 4)) :
                pass
                self._m_certificate_table = self.optional_header.data_directories[4]

            return getattr(self, '_m_certificate_table', None)

        @property
        def has_certificate_table(self):
            """The image carries an attribute certificate table (it is signed).
            
            .. seealso::
               "The Attribute Certificate Table (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
            """
            if hasattr(self, '_m_has_certificate_table'):
                return self._m_has_certificate_table

            self._m_has_certificate_table =  ((self.coff.size_of_optional_header != 0) and (self.optional_header.number_of_rva_and_sizes > 4) and (self.optional_header.data_directories[4].size != 0)) 
            return getattr(self, '_m_has_certificate_table', None)


    class SectionHeader(KaitaiStruct):
        """EFI_IMAGE_SECTION_HEADER, 40 bytes.
        
        .. seealso::
           EFI_IMAGE_SECTION_HEADER - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Include/IndustryStandard/PeImage.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.SectionHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.name = self._io.read_bytes(8)
            self.virtual_size = self._io.read_u4le()
            self.virtual_address = self._io.read_u4le()
            self.size_of_raw_data = self._io.read_u4le()
            self.pointer_to_raw_data = self._io.read_u4le()
            self.pointer_to_relocations = self._io.read_u4le()
            self.pointer_to_linenumbers = self._io.read_u4le()
            self.number_of_relocations = self._io.read_u2le()
            self.number_of_linenumbers = self._io.read_u2le()
            self.characteristics = self._io.read_u4le()


        def _fetch_instances(self):
            pass


    class WinCertificate(KaitaiStruct):
        """WIN_CERTIFICATE header; bCertificate (dwLength - 8 bytes) follows.
        
        .. seealso::
           "The Attribute Certificate Table (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(PeEfiStub.WinCertificate, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.length = self._io.read_u4le()
            self.revision = KaitaiStream.resolve_enum(PeEfiStub.WinCertRevision, self._io.read_u2le())
            self.certificate_type = KaitaiStream.resolve_enum(PeEfiStub.WinCertType, self._io.read_u2le())


        def _fetch_instances(self):
            pass


    @property
    def certificate(self):
        """The first WIN_CERTIFICATE of the attribute certificate table. The
        security directory's "VirtualAddress" is a file offset, not an RVA.
        
        .. seealso::
           "The Attribute Certificate Table (Image Only)" - https://learn.microsoft.com/en-us/windows/win32/debug/pe-format
        """
        if hasattr(self, '_m_certificate'):
            return self._m_certificate

        if self.pe.has_certificate_table:
            pass
            _pos = self._io.pos()
            self._io.seek(self.pe.certificate_table.virtual_address)
            self._m_certificate = PeEfiStub.WinCertificate(self._io, self, self._root)
            self._io.seek(_pos)

        return getattr(self, '_m_certificate', None)

    @property
    def pe(self):
        """The NT headers and section table at e_lfanew.
        
        .. seealso::
           PeCoffLoaderGetPeHeader - https://github.com/tianocore/edk2/blob/edk2-stable202302/MdePkg/Library/BasePeCoffLib/BasePeCoff.c
        """
        if hasattr(self, '_m_pe'):
            return self._m_pe

        _pos = self._io.pos()
        self._io.seek(self.e_lfanew)
        self._m_pe = PeEfiStub.PeHeader(self._io, self, self._root)
        self._io.seek(_pos)
        return getattr(self, '_m_pe', None)
