"""The UKI seed-corpus kind (validator/formats/uki/samples.py): each near-valid UKI gets
exactly the rule its change breaks, and a valid one none of them; the rules each stay
quiet on the valid UKIs. Expected rules: the sample tables, i.e. what systemd-stub's
pe_kernel_info and the firmware's PE loader refuse (systemd v257 src/boot/pe.c), not
kimage's output.

Rules triggered here: layer/uki (every UKI), uki/linux-not-pe, uki/linux-stub-too-old,
uki/linux-machine, uki/section-outside-file, uki/uname-mismatch.
"""

from __future__ import annotations

import pytest

from validator import seedcorpus
from validator.checker import Options, check_image
from validator.formats.uki.samples import UKI_MUTATIONS

UKI_RULES = {"uki/linux-not-pe", "uki/linux-stub-too-old", "uki/linux-machine",
             "uki/section-outside-file", "uki/uname-mismatch"}


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


def test_a_pe_without_linux_is_no_uki(tmp_path):
    """An EFI-stub Image is a PE file too: it has no .linux and stays an Image."""
    sample = seedcorpus.generate("efi-stub", seedcorpus.RandomChooser("no-uki"), valid=True)
    found = rules(sample.data, tmp_path)
    assert "layer/uki" not in found
