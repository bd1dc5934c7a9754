"""The checks an image is judged by (validator.rules.engine): only the modules it needs
are imported (the layer checks, the rules of each format that decoded it, the
cross-format checks when something is given), and that changes nothing. The reference is
every registered check run in registration order, as the engine ran them all before."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS
from validator import checker, kconfig, seedcorpus, sysmap
from validator.io.limits import Limits
from validator.pipeline import analyse
from validator.rules import engine
from validator.rules.registry import GIVEN_MODULES, check_modules
from validator.targets import parse_target

ARM64_KERNEL = CORPUS / "kernels" / "arm64-4k-le-efi"
PPC64_KERNEL = CORPUS / "kernels" / "ppc64le-reloc"


def _every_check(ctx):
    """Every registered check, filtered only by its formats and needs, module by module in
    the registry's order (``check_modules``; registration order within a module)."""
    given = {n for n in ("config", "symbols", "target") if getattr(ctx, n) is not None}
    rank = {name: i for i, name in enumerate(check_modules())}
    out = []
    for registered in sorted(engine.load_checks(), key=lambda r: rank[r.func.__module__]):
        if registered.formats and ctx.result.format not in registered.formats:
            continue
        if registered.needs <= given:
            out.extend(registered.func(ctx))
    return out


def _samples():
    for kind in sorted(seedcorpus.available_kinds()):
        for seed in range(3):
            for valid in (True, False):
                yield kind, seedcorpus.generate(kind, seedcorpus.RandomChooser(seed),
                                                valid=valid)


@pytest.mark.parametrize("given", ["nothing", "arm64", "ppc64"])
def test_the_scoped_checks_find_what_every_check_finds(tmp_path, given):
    extra = {}
    if given != "nothing":
        kernel = ARM64_KERNEL if given == "arm64" else PPC64_KERNEL
        extra = {"config": kconfig.load(str(kernel / "config")),
                 "symbols": sysmap.load(str(kernel / "symbols")),
                 "target": parse_target("arm64:4k" if given == "arm64" else "ppc64le")}
    seen = set()
    for kind, sample in _samples():
        path = tmp_path / "image"
        path.write_bytes(sample.data)
        try:
            result = analyse(path, Limits(decode_all=True))
        except Exception:  # noqa: BLE001 - unreadable as an image: nothing to judge
            continue
        ctx = engine.Context(result, **extra)
        scoped = [(f.rule, f.message) for f in engine.run_checks(ctx)]
        every = [(f.rule, f.message) for f in _every_check(ctx)]
        assert scoped == every, (kind, sample.mutation)
        seen.add(result.format)
    assert {"arm64-image", "ppc64-head", "x86-bzimage", "riscv64-image"} <= seen


def test_cross_format_checks_each_need_something_given():
    """What lets the engine leave GIVEN_MODULES unimported when nothing is given."""
    engine.load_checks()
    for registered in engine.CHECKS:
        if registered.func.__module__ in GIVEN_MODULES:
            assert registered.needs, registered.func.__qualname__


def test_a_formats_rules_are_imported_for_its_images_only():
    result = checker.check_image(CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img",
                                 checker.Options())
    assert result.decoded_by == ["validator.formats.arm64_image"]
    assert engine.modules_for(result) == ("validator.rules.layer",
                                          "validator.formats.arm64_image.rules")
    assert engine.modules_for(result, {"config"})[-len(GIVEN_MODULES):] == GIVEN_MODULES
