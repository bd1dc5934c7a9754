# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class ElfHeader(KaitaiStruct):
    """The part of an ELF file a kernel loader reads before it places segments:
    the 16-byte identification, the ELF header in the class (ELFCLASS32 or
    ELFCLASS64) and byte order (ELFDATA2LSB or ELFDATA2MSB) the
    identification names, and the program-header table at e_phoff
    (e_phnum entries). kexec-tools' build_elf_info and the kernel's
    kexec_build_elf_info read exactly these; a ppc64 vmlinux carries its
    kernel head at the start of the first PT_LOAD. Section headers, which no
    kernel loader reads, are not described.
    
    .. seealso::
       Source - https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
    
    
    .. seealso::
       Source - https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
    
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
    
    
    .. seealso::
       Source - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
    
    
    .. seealso::
       Source - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-elf.c
    """

    class EMachine(IntEnum):
        em_none = 0
        em_386 = 3
        em_ppc = 20
        em_ppc64 = 21
        em_arm = 40
        em_x86_64 = 62
        em_aarch64 = 183
        em_riscv = 243
        em_loongarch = 258

    class EType(IntEnum):
        et_none = 0
        et_rel = 1
        et_exec = 2
        et_dyn = 3
        et_core = 4

    class EiClass(IntEnum):
        elfclassnone = 0
        elfclass32 = 1
        elfclass64 = 2

    class EiData(IntEnum):
        elfdatanone = 0
        elfdata2lsb = 1
        elfdata2msb = 2

    class PType(IntEnum):
        pt_null = 0
        pt_load = 1
        pt_dynamic = 2
        pt_interp = 3
        pt_note = 4
        pt_shlib = 5
        pt_phdr = 6
        pt_tls = 7
        pt_gnu_eh_frame = 1685382480
        pt_gnu_stack = 1685382481
        pt_gnu_relro = 1685382482
        pt_gnu_property = 1685382483
    def __init__(self, _io, _parent=None, _root=None):
        super(ElfHeader, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.magic = self._io.read_bytes(4)
        if not self.magic == b"\x7F\x45\x4C\x46":
            raise kaitaistruct.ValidationNotEqualError(b"\x7F\x45\x4C\x46", self.magic, self._io, u"/seq/0")
        self.ei_class = KaitaiStream.resolve_enum(ElfHeader.EiClass, self._io.read_u1())
        if not  ((self.ei_class == ElfHeader.EiClass.elfclass32) or (self.ei_class == ElfHeader.EiClass.elfclass64)) :
            raise kaitaistruct.ValidationNotAnyOfError(self.ei_class, self._io, u"/seq/1")
        self.ei_data = KaitaiStream.resolve_enum(ElfHeader.EiData, self._io.read_u1())
        if not  ((self.ei_data == ElfHeader.EiData.elfdata2lsb) or (self.ei_data == ElfHeader.EiData.elfdata2msb)) :
            raise kaitaistruct.ValidationNotAnyOfError(self.ei_data, self._io, u"/seq/2")
        self.ei_version = self._io.read_u1()
        self.ei_osabi = self._io.read_u1()
        self.ei_abiversion = self._io.read_u1()
        self.ei_pad = self._io.read_bytes(7)
        self.header = ElfHeader.FileHeader(self._io, self, self._root)


    def _fetch_instances(self):
        pass
        self.header._fetch_instances()
        _ = self.program_headers
        if hasattr(self, '_m_program_headers'):
            pass
            for i in range(len(self._m_program_headers)):
                pass
                self._m_program_headers[i]._fetch_instances()



    class FileHeader(KaitaiStruct):
        """Elf32_Ehdr / Elf64_Ehdr after e_ident.
        
        .. seealso::
           Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(ElfHeader.FileHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            _on = self._root.ei_data
            if _on == ElfHeader.EiData.elfdata2lsb:
                pass
                self._is_le = True
            elif _on == ElfHeader.EiData.elfdata2msb:
                pass
                self._is_le = False
            if not hasattr(self, '_is_le'):
                raise kaitaistruct.UndecidedEndiannessError("/types/file_header")
            elif self._is_le == True:
                self._read_le()
            elif self._is_le == False:
                self._read_be()

        def _read_le(self):
            self.e_type = KaitaiStream.resolve_enum(ElfHeader.EType, self._io.read_u2le())
            self.e_machine = KaitaiStream.resolve_enum(ElfHeader.EMachine, self._io.read_u2le())
            self.e_version = self._io.read_u4le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_entry = self._io.read_u4le()
            elif _on == True:
                pass
                self.e_entry = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_phoff = self._io.read_u4le()
            elif _on == True:
                pass
                self.e_phoff = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_shoff = self._io.read_u4le()
            elif _on == True:
                pass
                self.e_shoff = self._io.read_u8le()
            self.e_flags = self._io.read_u4le()
            self.e_ehsize = self._io.read_u2le()
            self.e_phentsize = self._io.read_u2le()
            self.e_phnum = self._io.read_u2le()
            self.e_shentsize = self._io.read_u2le()
            self.e_shnum = self._io.read_u2le()
            self.e_shstrndx = self._io.read_u2le()

        def _read_be(self):
            self.e_type = KaitaiStream.resolve_enum(ElfHeader.EType, self._io.read_u2be())
            self.e_machine = KaitaiStream.resolve_enum(ElfHeader.EMachine, self._io.read_u2be())
            self.e_version = self._io.read_u4be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_entry = self._io.read_u4be()
            elif _on == True:
                pass
                self.e_entry = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_phoff = self._io.read_u4be()
            elif _on == True:
                pass
                self.e_phoff = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.e_shoff = self._io.read_u4be()
            elif _on == True:
                pass
                self.e_shoff = self._io.read_u8be()
            self.e_flags = self._io.read_u4be()
            self.e_ehsize = self._io.read_u2be()
            self.e_phentsize = self._io.read_u2be()
            self.e_phnum = self._io.read_u2be()
            self.e_shentsize = self._io.read_u2be()
            self.e_shnum = self._io.read_u2be()
            self.e_shstrndx = self._io.read_u2be()


        def _fetch_instances(self):
            pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass

        @property
        def phentsize_ok(self):
            """e_phentsize is sizeof(Elf64_Phdr) (56) or sizeof(Elf32_Phdr) (32);
            kexec-tools ("ELF bad program header size") and kexec_file_load
            ("Bad program header size") refuse any other value.
            
            .. seealso::
               Source - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
            
            
            .. seealso::
               Source - https://github.com/horms/kexec-tools/blob/v2.0.27/kexec/kexec-elf.c
            """
            if hasattr(self, '_m_phentsize_ok'):
                return self._m_phentsize_ok

            self._m_phentsize_ok = self.e_phentsize == (56 if self._root.is_64 else 32)
            return getattr(self, '_m_phentsize_ok', None)


    class ProgramHeader(KaitaiStruct):
        """One Elf32_Phdr or Elf64_Phdr. The field order differs: ELF64 puts
        p_flags second (for alignment), ELF32 puts it seventh.
        
        .. seealso::
           Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(ElfHeader.ProgramHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            _on = self._root.ei_data
            if _on == ElfHeader.EiData.elfdata2lsb:
                pass
                self._is_le = True
            elif _on == ElfHeader.EiData.elfdata2msb:
                pass
                self._is_le = False
            if not hasattr(self, '_is_le'):
                raise kaitaistruct.UndecidedEndiannessError("/types/program_header")
            elif self._is_le == True:
                self._read_le()
            elif self._is_le == False:
                self._read_be()

        def _read_le(self):
            self.p_type = KaitaiStream.resolve_enum(ElfHeader.PType, self._io.read_u4le())
            if self._root.is_64:
                pass
                self.p_flags64 = self._io.read_u4le()

            _on = self._root.is_64
            if _on == False:
                pass
                self.p_offset = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_offset = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_vaddr = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_vaddr = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_paddr = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_paddr = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_filesz = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_filesz = self._io.read_u8le()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_memsz = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_memsz = self._io.read_u8le()
            if (not (self._root.is_64)):
                pass
                self.p_flags32 = self._io.read_u4le()

            _on = self._root.is_64
            if _on == False:
                pass
                self.p_align = self._io.read_u4le()
            elif _on == True:
                pass
                self.p_align = self._io.read_u8le()

        def _read_be(self):
            self.p_type = KaitaiStream.resolve_enum(ElfHeader.PType, self._io.read_u4be())
            if self._root.is_64:
                pass
                self.p_flags64 = self._io.read_u4be()

            _on = self._root.is_64
            if _on == False:
                pass
                self.p_offset = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_offset = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_vaddr = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_vaddr = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_paddr = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_paddr = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_filesz = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_filesz = self._io.read_u8be()
            _on = self._root.is_64
            if _on == False:
                pass
                self.p_memsz = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_memsz = self._io.read_u8be()
            if (not (self._root.is_64)):
                pass
                self.p_flags32 = self._io.read_u4be()

            _on = self._root.is_64
            if _on == False:
                pass
                self.p_align = self._io.read_u4be()
            elif _on == True:
                pass
                self.p_align = self._io.read_u8be()


        def _fetch_instances(self):
            pass
            if self._root.is_64:
                pass

            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass
            if (not (self._root.is_64)):
                pass

            _on = self._root.is_64
            if _on == False:
                pass
            elif _on == True:
                pass

        @property
        def is_load(self):
            """A PT_LOAD segment, one a loader places.
            
            .. seealso::
               Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
            """
            if hasattr(self, '_m_is_load'):
                return self._m_is_load

            self._m_is_load = self.p_type == ElfHeader.PType.pt_load
            return getattr(self, '_m_is_load', None)

        @property
        def p_flags(self):
            """p_flags wherever the class puts it.
            
            .. seealso::
               Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
            """
            if hasattr(self, '_m_p_flags'):
                return self._m_p_flags

            self._m_p_flags = (self.p_flags64 if self._root.is_64 else self.p_flags32)
            return getattr(self, '_m_p_flags', None)


    @property
    def is_64(self):
        """True for ELFCLASS64 (Elf64_* structures), false for ELFCLASS32.
        
        .. seealso::
           Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
        """
        if hasattr(self, '_m_is_64'):
            return self._m_is_64

        self._m_is_64 = self.ei_class == ElfHeader.EiClass.elfclass64
        return getattr(self, '_m_is_64', None)

    @property
    def is_le(self):
        """True for ELFDATA2LSB (little-endian), false for ELFDATA2MSB.
        
        .. seealso::
           Source - https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/elf.h
        """
        if hasattr(self, '_m_is_le'):
            return self._m_is_le

        self._m_is_le = self.ei_data == ElfHeader.EiData.elfdata2lsb
        return getattr(self, '_m_is_le', None)

    @property
    def program_headers(self):
        """The program-header table, e_phnum entries at file offset e_phoff.
        kexec-tools and kexec_file_load read e_phnum * e_phentsize bytes and
        require e_phentsize to be sizeof(Elf_Phdr) (see phentsize_ok).
        
        .. seealso::
           Source - https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.pheader.html
        
        
        .. seealso::
           Source - https://github.com/torvalds/linux/blob/v6.1/kernel/kexec_elf.c
        """
        if hasattr(self, '_m_program_headers'):
            return self._m_program_headers

        if self.header.e_phnum != 0:
            pass
            io = self._root._io
            _pos = io.pos()
            io.seek(self.header.e_phoff)
            self._m_program_headers = []
            for i in range(self.header.e_phnum):
                self._m_program_headers.append(ElfHeader.ProgramHeader(io, self, self._root))

            io.seek(_pos)

        return getattr(self, '_m_program_headers', None)
