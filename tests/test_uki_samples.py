"""The UKI seed-corpus kind (validator/formats/uki/samples.py): each near-valid UKI gets
exactly the rule its change breaks, and a valid one none of them; the rules each stay
quiet on the valid UKIs. Expected rules: the sample tables, i.e. what systemd-stub's
pe_kernel_info and the firmware's PE loader refuse (systemd v257 src/boot/pe.c), not
kimage's output.

Rules triggered here: layer/uki (every UKI), uki/linux-not-pe, uki/linux-stub-too-old,
uki/linux-machine, uki/section-outside-file, uki/uname-mismatch, uki/no-default-linux
(.linux only in a profile after profile 0: systemd v257 src/boot/stub.c find_sections).
"""

from __future__ import annotations

import struct
import time

import pytest

from tests.test_strategies import _Least as Least
from validator import seedcorpus
from validator.checker import Options, check_image
from validator.formats.uki.samples import UKI_MUTATIONS

UKI_RULES = {"uki/linux-not-pe", "uki/linux-stub-too-old", "uki/linux-machine",
             "uki/section-outside-file", "uki/uname-mismatch", "uki/no-default-linux"}


def rules(data: bytes, tmp_path) -> set[str]:
    path = tmp_path / "uki.efi"
    path.write_bytes(data)
    return {f.rule for f in check_image(path, Options()).findings}


def test_the_table_covers_every_uki_rule():
    assert {r for expect, _ in UKI_MUTATIONS.values() for r in expect} == UKI_RULES


@pytest.mark.parametrize("seed", range(6))
def test_valid_ukis_are_quiet(seed, tmp_path):
    sample = seedcorpus.generate("uki", seedcorpus.RandomChooser(f"uki/{seed}"), valid=True)
    found = rules(sample.data, tmp_path)
    assert "layer/uki" in found
    assert not found & UKI_RULES, found


@pytest.mark.parametrize("mutation", sorted(UKI_MUTATIONS))
@pytest.mark.parametrize("seed", range(4))
def test_each_near_valid_uki_gets_its_rule(mutation, seed, tmp_path):
    sample = seedcorpus.generate("uki", seedcorpus.RandomChooser(f"{mutation}/{seed}"),
                                 mutation=mutation)
    found = rules(sample.data, tmp_path)
    assert set(sample.expect) <= found, (mutation, sorted(found))
    assert found & UKI_RULES == set(sample.expect), (mutation, sorted(found))


class _LeastBut(Least):
    """The least of everything (the smallest lie, an empty .initrd), and ``want`` wherever
    it is one of the options."""

    def __init__(self, want: str) -> None:
        self.want = want

    def choice(self, options):
        return self.want if self.want in options else options[0]


@pytest.mark.parametrize("section", [".initrd", ".linux", ".cmdline"])
def test_the_section_lied_about_runs_past_the_end_of_the_file(section, tmp_path):
    """The least lie about a section before .linux (one file alignment more than its data,
    an empty .initrd) still ends past the file: Hypothesis found one that did not."""
    sample = seedcorpus.generate("uki", _LeastBut(section), mutation="section-outside-file")
    data = sample.data
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    count, opt_size = struct.unpack_from("<H", data, pe + 6)[0], struct.unpack_from(
        "<H", data, pe + 20)[0]
    table = pe + 24 + opt_size
    ends = {data[at:at + 8].rstrip(b"\0").decode(): sum(struct.unpack_from("<II", data, at + 16))
            for at in range(table, table + 40 * count, 40)}
    assert ends[section] > len(data)
    assert "uki/section-outside-file" in rules(data, tmp_path)


def test_a_pe_without_linux_is_no_uki(tmp_path):
    """An EFI-stub Image is a PE file too: it has no .linux and stays an Image."""
    sample = seedcorpus.generate("efi-stub", seedcorpus.RandomChooser("no-uki"), valid=True)
    found = rules(sample.data, tmp_path)
    assert "layer/uki" not in found


def _table_entry(data: bytes, name: bytes) -> int:
    """The file offset of the section table entry ``name`` (PE Format: 40-byte entries after
    the optional header), found by its name bytes."""
    at = data.find(name.ljust(8, b"\0"))
    assert at > 0
    return at


def _hostile_ukis():
    from validator.formats.uki.samples import uki_bytes

    image = seedcorpus.generate("efi-stub", seedcorpus.RandomChooser("h"), valid=True).data
    base = [(".cmdline", b"console=ttyAMA0"), (".linux", image)]
    data = bytearray(uki_bytes(base))
    struct.pack_into("<H", data, 0x40 + 6, 0xFFFF)  # NumberOfSections
    yield "many-sections", bytes(data), {"pe/malformed"}
    data = bytearray(uki_bytes(base))
    struct.pack_into("<I", data, _table_entry(data, b".linux") + 20, 0xFFFFFF00)
    yield "offset-wraps", bytes(data), {"uki/section-outside-file"}
    yield "empty-linux", uki_bytes([(".linux", b"")]), {"uki/linux-not-pe"}
    yield "junk-text", uki_bytes([(".osrel", bytes(range(256)) * 300), *base]), set()
    yield "two-linux", uki_bytes([*base, (".linux", b"\0" * 64)]), set()


@pytest.mark.parametrize("name,data,expect", list(_hostile_ukis()),
                         ids=[n for n, _, _ in _hostile_ukis()])
def test_hostile_ukis_are_findings_not_tracebacks(name, data, expect, tmp_path):
    start = time.monotonic()
    path = tmp_path / "uki.efi"
    path.write_bytes(data)
    result = check_image(path, Options())
    assert time.monotonic() - start < 10
    found = {f.rule for f in result.findings}
    assert expect <= found, (name, sorted(found))
    if name == "junk-text":
        uki = result.layers[0].details
        assert uki.get("osrel_truncated") and uki["os_release"] == {}
    if name == "two-linux":  # systemd-stub and kimage take the first .linux
        assert result.format == "arm64-image" and "uki/linux-not-pe" not in found
