"""The public strategies and the seed-corpus builders behind them.

Properties: every near-valid variant makes kimage report the finding it is paired with;
every valid image gets exactly the warnings and errors its era implies; era headers and
heads round-trip through the twins and carry the era's values; mutating a real image
field by field gives the expected finding through every wrapper.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, ROOT
from validator import checker, seedcorpus
from validator import strategies as ks
from validator.formats.arm64_image import twin as arm64_image
from validator.formats.ppc64_head import twin as ppc64_head
from validator.rules.registry import load_all

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("strategies") / "image"


def rules_for(data: bytes, path) -> tuple[set[str], set[str]]:
    """(every rule reported, the error and warning rules) for an image."""
    path.write_bytes(data)
    result = checker.check_image(path, checker.Options())
    found = result.reported_rules()  # consequences folded under a root cause count too
    assert "kimage/internal-error" not in found, result.findings
    return found, {f.rule for f in result.findings if f.severity in ("error", "warning")}


def assert_expected(sample: seedcorpus.Sample, path) -> None:
    found, serious = rules_for(sample.data, path)
    missing = set(sample.expect) - found
    assert not missing, f"{sample.kind}/{sample.name}: {sorted(missing)} not in {sorted(found)}"
    if sample.valid:
        extra = serious - set(sample.expect)
        assert not extra, f"valid {sample.kind}/{sample.name} also gets {sorted(extra)}"


# -- the properties, over Hypothesis' draws ------------------------------------------------

@SETTINGS
@given(sample=ks.near_valid())
def test_every_near_valid_variant_gets_its_finding(sample, scratch):
    assert not sample.valid and sample.expect
    assert_expected(sample, scratch)


@SETTINGS
@given(sample=ks.images())
def test_valid_images_get_only_what_their_era_implies(sample, scratch):
    assert sample.valid
    assert_expected(sample, scratch)


@settings(max_examples=60, deadline=None)
@given(data=ks.mutated())
def test_mutated_bytes_are_bytes(data):
    assert isinstance(data, bytes) and len(data) <= 1 << 20


# -- every kind and every mutation, deterministically -------------------------------------

CASES = [(kind, m) for kind in seedcorpus.available_kinds()
         for m in (None, *seedcorpus.mutations(kind))]


class _Least:
    """Every decision at its least (Hypothesis' simplest draw: all zero bytes)."""

    def integer(self, lo: int, hi: int) -> int:
        return lo

    def choice(self, options):
        return options[0]

    def boolean(self) -> bool:
        return False

    def binary(self, size: int) -> bytes:
        return bytes(size)


class _Most(_Least):
    """Every decision at its most."""

    def integer(self, lo: int, hi: int) -> int:
        return hi

    def choice(self, options):
        return options[-1]

    def boolean(self) -> bool:
        return True

    def binary(self, size: int) -> bytes:
        return b"\xff" * size


@pytest.mark.parametrize(("kind", "mutation"), CASES,
                         ids=[f"{k}:{m or 'valid'}" for k, m in CASES])
def test_each_kind_and_mutation(kind, mutation, scratch):
    """Four seeds, and the least and the most of every decision: a mutation that does not
    apply to what was drawn is made to apply, whatever the draws (drawing again gets the
    same params from Hypothesis' simplest data)."""
    choosers = [seedcorpus.RandomChooser(f"test/{kind}/{mutation}/{seed}")
                for seed in range(4)] + [_Least(), _Most()]
    for c in choosers:
        sample = (seedcorpus.generate(kind, c, valid=True) if mutation is None
                  else seedcorpus.generate(kind, c, mutation=mutation))
        assert sample.kind == kind or kind == "efi-stub"
        assert sample.mutation == mutation
        assert_expected(sample, scratch)


def test_expected_rules_exist():
    known = set(load_all())
    used = {r for kind in seedcorpus.KINDS for _, (expect, _) in seedcorpus.KINDS[kind][1]
            .items() for r in expect}
    used |= {"arm64/image-size-zero", "arm64/page-size-unspecified", "arm64/no-efi-stub",
             "ppc64/raw-head", "ppc64/legacy-layout", "ppc64/not-relocatable",
             "ppc64/run-at-load-preset", "ppc64/iseries-pointer", "ppc64/kdump-flag-set",
             "layer/compressed", "layer/zboot"}
    assert used <= known, sorted(used - known)


def test_generation_is_deterministic():
    for kind in seedcorpus.available_kinds():
        a = seedcorpus.generate(kind, seedcorpus.RandomChooser(f"d/{kind}"))
        b = seedcorpus.generate(kind, seedcorpus.RandomChooser(f"d/{kind}"))
        assert a.data == b.data and a.expect == b.expect


# -- era headers and heads -----------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(era=st.sampled_from(ks.ARM64_ERAS), data=st.data())
def test_arm64_era_headers(era, data):
    header = data.draw(ks.arm64_headers(era=era))
    raw = arm64_image.build(header)
    h = arm64_image.parse(raw)
    assert arm64_image.build(h) == raw
    for name in arm64_image.SEQ_FIELDS:
        if name != "magic" and name != "flags":
            assert h[name] == header[name]
    if era == "3.12":
        assert h.image_size == 0 and h.effective_text_offset == 0x80000
        assert h.code1 == 0 and h.flags.page_size == 0
    else:
        assert h.image_size and h.image_size % 0x10000 == 0
        assert h.text_offset == (0 if era == "5.8" else 0x80000)
        assert h.code1_branch_target >= 0x40
    if era == "3.17":
        assert h.flags.page_size == 0 and not h.flags.phys_base
    if era in ("4.6", "5.8"):
        assert h.flags.page_size in (1, 2, 3)
    assert h.flags.reserved == 0 and h.res2 == h.res3 == h.res4 == 0


@settings(max_examples=80, deadline=None)
@given(era=st.sampled_from(ks.PPC64_ERAS), data=st.data())
def test_ppc64_era_heads(era, data):
    head = data.draw(ks.ppc64_heads(era=era))
    raw = ppc64_head.build(head)
    top = ppc64_head.parse(raw)
    assert ppc64_head.build({"is_le": top.is_le,
                             "body": {k: top.body[k] for k in ppc64_head.BODY_FIELDS}}) == raw
    layout = {"D": "fixup_endian_short", "E": "fixup_endian_long"}.get(era, "plain_branch")
    assert top.body.layout == ppc64_head.Layout[layout]
    assert top.body.run_at_load in (0, 1, ppc64_head.RUN0)
    if era in ("A", "B"):
        assert top.body.run_at_load == 0
    if era != "B":
        assert not top.body.kdump_flag
    if era not in ("A", "C"):
        assert not top.body.iseries_pointer
    if era in ("D", "E"):
        assert top.body.secondary_entry == ppc64_head.TDI_FIXUP
    else:
        assert not top.is_le


def test_era_b_kdump_flag_and_iseries_are_drawn():
    seen = set()
    for i in range(200):
        p = seedcorpus.ppc64_params(seedcorpus.RandomChooser(i))
        if p["kdump_flag"]:
            seen.add("kdump")
        if p["iseries"]:
            seen.add("iseries")
    assert seen == {"kdump", "iseries"}


def test_bad_era_is_refused():
    with pytest.raises(ValueError):
        ks.arm64_headers(era="2.6")
    with pytest.raises(ValueError):
        ks.ppc64_heads(era="A", endian="little")
    with pytest.raises(ValueError):
        ks.near_valid("no-such-kind")


def test_old_strategies_unchanged():
    # arm64_headers() without an era keeps its realistic, era-free draw
    @settings(max_examples=30, deadline=None)
    @given(ks.arm64_headers())
    def realistic(header):
        assert header["text_offset"] in (0, 0x80000) and header["image_size"] % 0x10000 == 0

    realistic()


# -- structure-aware mutation of real images ------------------------------------------------

def _real_and_synthetic(real_images, tmp_path):
    # The real kernels' first 4 MiB (headers, PE, the ppc64 head; kimage fuzz --from on
    # the whole files is tested in test_fuzz_cli.py, in a subprocess: they are large).
    for path in real_images.values():
        with open(path, "rb") as f:
            head = f.read(4 << 20)
        cut = tmp_path / path.name
        cut.write_bytes(head)
        yield cut
    for name in ("arm64/v5.8-4k-le-anywhere-efi.img", "arm64/v3.12-be-noefi.img",
                 "arm64/v3.17-le-noefi.img", "ppc64/vmlinux-fixup_endian_long-be-run0.elf",
                 "ppc64/plain_branch-be-iseries.head"):
        yield CORPUS / "synthetic" / name


def test_every_mutation_of_a_real_image_gets_its_finding(real_images, scratch, tmp_path):
    for path in _real_and_synthetic(real_images, tmp_path):
        data = path.read_bytes()
        targets = seedcorpus.image_mutations(data)
        assert targets, path
        for name in sorted(targets):
            sample = seedcorpus.from_image(data, seedcorpus.RandomChooser(name),
                                           targets={name: targets[name]})
            found, _ = rules_for(sample.data, scratch)
            assert set(sample.expect) <= found, (path.name, name, sorted(found))


def test_mutations_reach_through_wrappers(scratch):
    c = seedcorpus.RandomChooser("wrappers")
    for kind in ("zboot", "gzip", "xz", "uimage", "android-boot"):
        data = seedcorpus.generate(kind, c, valid=True).data
        targets = seedcorpus.image_mutations(data)
        inner = [n for n in targets if ">" in n]
        assert inner, (kind, sorted(targets))
        for name in inner[:6]:
            sample = seedcorpus.from_image(data, c, targets={name: targets[name]})
            found, _ = rules_for(sample.data, scratch)
            assert set(sample.expect) <= found, (kind, name, sorted(found))


def test_seedcorpus_does_not_import_hypothesis():
    code = ("import sys, validator.seedcorpus as s; "
            "s.generate('all', s.RandomChooser(1)); "
            "assert 'hypothesis' not in sys.modules, 'hypothesis imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_image_mutations_take_any_input():
    """The structure-aware mutator is fed hostile files too (the robustness runs mutate
    mutants): finding targets and applying them never raises."""
    from tests.test_robustness import corpus_seeds

    seeds = corpus_seeds()
    for i in range(400):
        c = seedcorpus.RandomChooser(f"any/{i}")
        data = seedcorpus.mutate_bytes(c, c.choice(seeds))
        targets = seedcorpus.image_mutations(data, limit=8 << 20)
        for name in sorted(targets)[:3]:
            assert isinstance(targets[name][1](c), bytes), name
