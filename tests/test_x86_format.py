"""x86 bzImage setup header: the generated Kaitai parser and the construct twin agree,
round-trip, and read the real Debian amd64 kernel as independent tools did.

Expected values of the real kernel come from corpus/real/debian-6.1.0-50-amd64/
expected.json (file(1), od and python struct at boot.rst's offsets, run on the full
file); those of the mutated headers from boot.rst's field table.
"""

from __future__ import annotations

import json
import struct

import pytest
from construct import ConstructError
from hypothesis import given, settings
from hypothesis import strategies as st
from kaitaistruct import BytesIO, KaitaiStream, KaitaiStructError

from tests.conftest import CORPUS
from validator import seedcorpus
from validator._kaitai.x86_bzimage import X86Bzimage
from validator.formats.x86_bzimage import GATED, HEADER_SIZE, decoder
from validator.formats.x86_bzimage import twin as x86
from validator.formats.x86_bzimage.samples import x86_fields, x86_image, x86_params
from validator.pipeline import analyse

REAL = CORPUS / "real/debian-6.1.0-50-amd64"


def _kaitai(data: bytes):
    try:
        return X86Bzimage(KaitaiStream(BytesIO(data)))
    except (KaitaiStructError, EOFError):
        return None


def _twin(data: bytes):
    try:
        return x86.parse(data)
    except ConstructError:
        return None


def agree(data: bytes) -> None:
    """The spec's parser and the twin accept the same bytes and read the same values;
    the twin builds back the bytes it parsed."""
    k, c = _kaitai(data), _twin(data)
    assert (k is None) == (c is None), data[:HEADER_SIZE].hex()
    if c is None:
        return
    for name in x86.SEQ_FIELDS + x86.DERIVED_FIELDS:
        kv = getattr(k, name)
        if name == "header":
            assert kv == c[name] == b"HdrS"
        elif kv is None:  # a field the protocol version does not have yet
            assert name in GATED and isinstance(c[name], bytes), name
        else:
            assert (int(kv.value) if hasattr(kv, "value") else kv) == c[name], name
    try:
        want = x86.kernel_version_string(data, c)
    except (ValueError, UnicodeDecodeError):
        want = "error"
    try:
        got = k.kernel_version_string
    except (EOFError, UnicodeDecodeError):
        got = "error"
    assert got == want
    assert x86.build(c) == data[:HEADER_SIZE]


@pytest.fixture(scope="module")
def real(real_images) -> bytes:
    return real_images[REAL.name].read_bytes()


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((REAL / "expected.json").read_text())


def test_real_header_as_independent_tools_read_it(real, expected):
    obs, facts = expected["observations"], expected["facts"]
    for h in (x86.parse(real), _kaitai(real)):
        assert h.setup_sects == obs["setup_sects"]
        assert h.loadflags == obs["loadflags"] and h.xloadflags == obs["xloadflags"]
        assert h.handover_offset == obs["handover_offset"]
        assert h.kernel_info_offset == obs["kernel_info_offset"]
        assert (h.kernel_alignment, h.pref_address, h.init_size) == (
            facts["kernel_alignment"], facts["pref_address"], facts["init_size"])
        assert h.has_efi_stub and h.xlf_kernel_64 and h.is_relocatable
    assert x86.kernel_version_string(real, x86.parse(real)) == obs["version_string"]
    agree(real)


def test_real_kernel_checks_clean_with_its_config(real_images, expected):
    """No finding on the real kernel with its own config (the package's), every loader
    that applies accepts it, and the EFI stub's PE headers are those pefile-free struct
    read."""
    from validator import checker, kconfig

    options = checker.Options(config=kconfig.load(str(REAL / "config")))
    result = checker.check_image(real_images[REAL.name], options)
    assert result.format == "x86-bzimage"
    assert [f.rule for f in result.findings] == []
    assert {name: v["verdict"] for name, v in result.loaders.items()} == {
        "kexec-tools": "accept", "kexec-file": "accept", "u-boot": "n/a", "grub": "accept",
        "efi": "accept", "qemu": "accept"}
    assert result.derived["pe"]["machine"] == expected["facts"]["pe_machine"]
    assert result.derived["pe"]["authenticode"]["size"] == (
        expected["observations"]["cert_table"]["size"])


def test_config_contradictions_are_found(real_images):
    from validator import checker, kconfig

    text = (REAL / "config").read_text()
    edited = (text.replace("CONFIG_PHYSICAL_ALIGN=0x200000", "CONFIG_PHYSICAL_ALIGN=0x1000000")
              .replace("CONFIG_RELOCATABLE=y", "# CONFIG_RELOCATABLE is not set")
              .replace("CONFIG_EFI_STUB=y", "# CONFIG_EFI_STUB is not set"))
    options = checker.Options(config=kconfig.parse(edited))
    result = checker.check_image(real_images[REAL.name], options)
    assert {f.rule for f in result.findings} == {
        "x86/config-physical-align-mismatch", "x86/config-relocatable-mismatch",
        "x86/config-efi-stub-mismatch"}


def test_gated_fields_are_null_before_their_protocol():
    p = x86_params(seedcorpus.RandomChooser(3), 0x0204)
    data = x86_image(p)
    k = _kaitai(data)
    assert k.version == 0x0204 and k.initrd_addr_max == 0x7FFFFFFF  # 2.03+
    assert k.kernel_alignment is None and k.relocatable_kernel is None  # 2.05+
    assert k.xloadflags is None and k.pref_address is None and not k.is_relocatable
    facts = decoder.facts_of(k)
    assert facts["arch"] == "x86" and facts["relocatable"] is False
    assert facts["init_size"] is None
    agree(data)


def test_bad_boot_flag_and_missing_hdrs_are_refused():
    data = bytearray(x86_image(x86_params(seedcorpus.RandomChooser(1))))
    data[0x1FE:0x200] = b"\0\0"
    assert _kaitai(bytes(data)) is None and _twin(bytes(data)) is None
    data[0x1FE:0x200] = struct.pack("<H", 0xAA55)
    data[0x202:0x206] = b"HdrT"
    assert _kaitai(bytes(data)) is None and _twin(bytes(data)) is None


def _header_bytes() -> st.SearchStrategy[bytes]:
    @st.composite
    def draw(draw_):
        seed = draw_(st.integers(0, 2**32 - 1))
        version = draw_(st.sampled_from((0x0200, 0x0201, 0x0202, 0x0204, 0x0206, 0x0207,
                                         0x0208, 0x0209, 0x020A, 0x020B, 0x020C, 0x020F)))
        data = bytearray(x86_image(x86_params(seedcorpus.RandomChooser(seed), version)))
        how = draw_(st.sampled_from(["byte", "cut", "noise", "none"]))
        if how == "byte":
            i = draw_(st.integers(0, HEADER_SIZE + 0x200))
            data[i] = draw_(st.integers(0, 255))
        elif how == "cut":
            del data[draw_(st.integers(0, len(data) - 1)):]
        elif how == "noise":  # any bytes around a valid magic
            noise = draw_(st.binary(min_size=HEADER_SIZE, max_size=HEADER_SIZE))
            data[:HEADER_SIZE] = noise[:0x1FE] + b"\x55\xaa" + noise[0x200:0x202] + b"HdrS" \
                + noise[0x206:]
        return bytes(data)
    return draw()


@settings(max_examples=300)
@given(_header_bytes())
def test_parsers_agree(data):
    agree(data)


@settings(max_examples=100)
@given(st.integers(0, 2**32 - 1), st.sampled_from((0x0203, 0x0205, 0x020A, 0x020C, 0x020F)))
def test_build_parse_is_identity_on_values(seed, version):
    fields = x86_fields(x86_params(seedcorpus.RandomChooser(seed), version))
    parsed = x86.parse(x86.build(fields))
    assert {name: parsed[name] for name in fields} == {**fields}


def test_short_and_odd_inputs_give_one_finding(tmp_path):
    data = x86_image(x86_params(seedcorpus.RandomChooser(5), 0x020F))
    for cut in (0x206, 0x240, 0x26B):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(data[:cut])
        result = analyse(path)
        assert [f.rule for f in result.findings] == ["x86/truncated-header"]
    odd = bytearray(data)
    odd[0x20E:0x210] = struct.pack("<H", 0xFFFF)  # version string past the file
    path = tmp_path / "pointer"
    path.write_bytes(bytes(odd))
    result = analyse(path)
    assert result.format == "x86-bzimage" and result.facts["kernel_version"] is None
