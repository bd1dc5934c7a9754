# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Fdt(KaitaiStruct):
    """A devicetree blob: a 40-byte header, the memory reservation block, the
    structure block (a sequence of big-endian 32-bit tokens: BEGIN_NODE with the
    node's NUL-terminated name, END_NODE, PROP with its value's length and the
    offset of its name in the strings block, then the value; NOP; END, each
    token and value padded to 4 bytes) and the strings block.
    
    The structure block is read one token at a time: each token is an instance
    at its own position, and `next` is the token after it. A property's value
    (a FIT image's `data`: a whole kernel) is an instance too, so walking the
    tree reads no value that is not asked for. Names are read from a window of
    at most 256 bytes (a node name is at most 31 characters and a unit address
    by the specification); a name without its NUL there does not parse.
    
    .. seealso::
       Source - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
    
    
    .. seealso::
       struct fdt_header, FDT_BEGIN_NODE, FDT_PROP - https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h
    
    
    .. seealso::
       Source - https://github.com/u-boot/u-boot/blob/v2023.01/doc/usage/fit/source_file_format.rst
    """

    class TokenCode(IntEnum):
        begin_node = 1
        end_node = 2
        prop = 3
        nop = 4
        end = 9
    def __init__(self, _io, _parent=None, _root=None):
        super(Fdt, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.magic = self._io.read_bytes(4)
        if not self.magic == b"\xD0\x0D\xFE\xED":
            raise kaitaistruct.ValidationNotEqualError(b"\xD0\x0D\xFE\xED", self.magic, self._io, u"/seq/0")
        self.totalsize = self._io.read_u4be()
        self.ofs_structure_block = self._io.read_u4be()
        self.ofs_strings_block = self._io.read_u4be()
        self.ofs_memory_reservation_block = self._io.read_u4be()
        self.version = self._io.read_u4be()
        self.min_compatible_version = self._io.read_u4be()
        self.boot_cpuid_phys = self._io.read_u4be()
        self.len_strings_block = self._io.read_u4be()
        self.len_structure_block = self._io.read_u4be()


    def _fetch_instances(self):
        pass
        _ = self.first_token
        if hasattr(self, '_m_first_token'):
            pass
            self._m_first_token._fetch_instances()


    class BeginNode(KaitaiStruct):
        """The start of a node; its name is "" for the root, else "name" or "name@unit-address"."""
        def __init__(self, _io, _parent=None, _root=None):
            super(Fdt.BeginNode, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.name = (KaitaiStream.bytes_terminate(self._io.read_bytes((self._io.size() - self._io.pos() if self._io.size() - self._io.pos() < 256 else 256)), 0, False)).decode(u"ASCII")


        def _fetch_instances(self):
            pass


    class Prop(KaitaiStruct):
        """A property of the node being read."""
        def __init__(self, _io, _parent=None, _root=None):
            super(Fdt.Prop, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.len_value = self._io.read_u4be()
            self.ofs_name = self._io.read_u4be()


        def _fetch_instances(self):
            pass
            _ = self.name
            if hasattr(self, '_m_name'):
                pass

            _ = self.value
            if hasattr(self, '_m_value'):
                pass


        @property
        def name(self):
            """The property's name (read from a window of at most 256 bytes).
            
            .. seealso::
               Source - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
            """
            if hasattr(self, '_m_name'):
                return self._m_name

            _pos = self._io.pos()
            self._io.seek(self._root.ofs_strings_block + self.ofs_name)
            self._m_name = (KaitaiStream.bytes_terminate(self._io.read_bytes((self._io.size() - (self._root.ofs_strings_block + self.ofs_name) if self._io.size() - (self._root.ofs_strings_block + self.ofs_name) < 256 else 256)), 0, False)).decode(u"ASCII")
            self._io.seek(_pos)
            return getattr(self, '_m_name', None)

        @property
        def ofs_value(self):
            """Where the value starts in the blob.
            
            .. seealso::
               struct fdt_property - https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h
            """
            if hasattr(self, '_m_ofs_value'):
                return self._m_ofs_value

            self._m_ofs_value = self._parent.at + 12
            return getattr(self, '_m_ofs_value', None)

        @property
        def value(self):
            """The value; read only when asked for.
            
            .. seealso::
               struct fdt_property - https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h
            """
            if hasattr(self, '_m_value'):
                return self._m_value

            _pos = self._io.pos()
            self._io.seek(self.ofs_value)
            self._m_value = self._io.read_bytes(self.len_value)
            self._io.seek(_pos)
            return getattr(self, '_m_value', None)


    class Token(KaitaiStruct):
        """One structure-block token at `at` (an offset in the blob), and the token after it."""
        def __init__(self, at, _io, _parent=None, _root=None):
            super(Fdt.Token, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self.at = at
            self._read()

        def _read(self):
            self.code = KaitaiStream.resolve_enum(Fdt.TokenCode, self._io.read_u4be())
            _on = self.code
            if _on == Fdt.TokenCode.begin_node:
                pass
                self.body = Fdt.BeginNode(self._io, self, self._root)
            elif _on == Fdt.TokenCode.prop:
                pass
                self.body = Fdt.Prop(self._io, self, self._root)


        def _fetch_instances(self):
            pass
            _on = self.code
            if _on == Fdt.TokenCode.begin_node:
                pass
                self.body._fetch_instances()
            elif _on == Fdt.TokenCode.prop:
                pass
                self.body._fetch_instances()
            _ = self.next
            if hasattr(self, '_m_next'):
                pass
                self._m_next._fetch_instances()


        @property
        def len_body(self):
            """Bytes after the 4-byte token code, padded to 4 (FDT_TAGALIGN).
            
            .. seealso::
               FDT_TAGALIGN - https://github.com/dgibson/dtc/blob/v1.6.1/libfdt/fdt.h
            """
            if hasattr(self, '_m_len_body'):
                return self._m_len_body

            self._m_len_body = ((((len(self.body.name) + 1) + 3) // 4) * 4 if self.code == Fdt.TokenCode.begin_node else (8 + ((self.body.len_value + 3) // 4) * 4 if self.code == Fdt.TokenCode.prop else 0))
            return getattr(self, '_m_len_body', None)

        @property
        def next(self):
            """The token after this one; none after END.
            
            .. seealso::
               Source - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
            """
            if hasattr(self, '_m_next'):
                return self._m_next

            if self.code != Fdt.TokenCode.end:
                pass
                _pos = self._io.pos()
                self._io.seek(self.ofs_next)
                self._m_next = Fdt.Token(self.ofs_next, self._io, self, self._root)
                self._io.seek(_pos)

            return getattr(self, '_m_next', None)

        @property
        def ofs_next(self):
            """Where the next token starts.
            
            .. seealso::
               Source - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
            """
            if hasattr(self, '_m_ofs_next'):
                return self._m_ofs_next

            self._m_ofs_next = (self.at + 4) + self.len_body
            return getattr(self, '_m_ofs_next', None)


    @property
    def first_token(self):
        """The first token of the structure block (BEGIN_NODE of the root node).
        
        .. seealso::
           Source - https://github.com/devicetree-org/devicetree-specification/blob/v0.4/source/chapter5-flattened-format.rst
        """
        if hasattr(self, '_m_first_token'):
            return self._m_first_token

        _pos = self._io.pos()
        self._io.seek(self.ofs_structure_block)
        self._m_first_token = Fdt.Token(self.ofs_structure_block, self._io, self, self._root)
        self._io.seek(_pos)
        return getattr(self, '_m_first_token', None)
