"""The format registry (``validator.formats``): what every format package holds, and that
a new wrapper is one package and one registry entry.

The second half adds a made-up container, "TESTWRAP" (an 8-byte magic, a little-endian
u64 payload length, the payload), as a package in a temporary directory and one entry in
``FORMATS``; the pipeline unwraps it, ``kimage rules`` lists its rule and the seed corpus
makes it, without any other change.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from validator import formats, seedcorpus, strategies
from validator.catalogue import RULES
from validator.rules.registry import load_all

#: Rules no seed-corpus sample or real-image mutation triggers yet, and why. A format
#: added to the registry comes with a mutation for each of its rules.
NOT_SAMPLED = {
    # limits: the inputs that reach them are large; corpus/regressions holds them
    "layer/decompression-limit", "layer/decoder-memory-limit", "layer/decoded-in-part",
    "layer/tar-header-limit", "elf/too-many-program-headers",
    # codecs kimage cannot decode (lzo): nothing to build them with here
    "layer/unsupported-compression",
    # need a file the size of the Image, or sections past it, or the payload's CRC
    "arm64/file-truncated", "arm64/image-size-implausible", "arm64/text-offset-implausible",
    "arm64/pe-sections-outside-file", "uimage/bad-data-crc",
}
#: Formats without a builder yet (see NOT_SAMPLED).
NO_BUILDER: set[str] = set()


def _declared(package: str) -> set[str]:
    """Rule IDs a package's modules declare (``rule("id", ...)`` calls), read from source."""
    directory = pathlib.Path(importlib.import_module(package).__file__).parent
    ids = set()
    for path in directory.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                ids.add(node.args[0].value)
    return ids


def _sampled() -> set[str]:
    """Every rule a sample expects: the mutation tables, valid samples of every kind (their
    era's findings) and the mutations of valid samples as real images (``--from``)."""
    expected = set()
    for kind, (_, table) in seedcorpus.KINDS.items():
        expected |= {rule for rules, _ in table.values() for rule in rules}
        if kind not in seedcorpus.available_kinds():
            continue
        for seed in range(40):
            sample = seedcorpus.generate(kind, seedcorpus.RandomChooser(seed), valid=True)
            expected |= set(sample.expect)
            if seed < 2:
                targets = seedcorpus.image_mutations(sample.data)
                expected |= {rule for rules, _ in targets.values() for rule in rules}
    return expected


def test_every_format_has_its_parts():
    load_all()
    assert len(formats.packages()) == len(set(formats.packages()))
    for package in formats.packages():
        module = importlib.import_module(package)
        assert module.ROLE in formats.ROLES, package
        assert getattr(module, "MAGIC", None) or getattr(module, "MAGICS", None), package
        decoder = formats.part(package, "decoder")
        assert decoder is not None, package
        if module.ROLE == "wrapper":  # the package's tests, the decoder's functions
            assert module.UNWRAPS and all(
                callable(test) and (probe is None or callable(getattr(decoder, probe)))
                and callable(getattr(decoder, unwrap))
                for test, probe, unwrap in module.UNWRAPS), package
            assert not hasattr(decoder, "UNWRAPS"), package  # declared once
        if module.ROLE == "header":
            assert decoder.FORMAT == module.FORMAT and callable(decoder.decode), package
            test, probe = module.PROBE  # a test in the package and/or the decoder's probe
            assert (test is None or callable(test)) and (
                probe is None or callable(getattr(decoder, probe))), package
            assert test is not None or probe is not None, package
        builders = [formats.part(package, name) for name in ("twin", "writer", "samples")]
        assert any(builders) or package in NO_BUILDER, package
        for rule_id in _declared(package):
            assert RULES[rule_id].reference.strip(), rule_id  # where the fact comes from
            assert RULES[rule_id].rationale.strip(), rule_id


def test_every_declared_rule_has_a_sample():
    declared = set().union(*(_declared(p) for p in formats.packages()))
    sampled = _sampled()
    assert declared - sampled <= NOT_SAMPLED, sorted(declared - sampled - NOT_SAMPLED)
    assert declared >= NOT_SAMPLED  # no stale entry
    assert not NOT_SAMPLED & sampled, sorted(NOT_SAMPLED & sampled)  # no stale entry


def test_the_magic_starts_the_valid_samples_of_each_wrapper():
    """A wrapper's declared magic is what its valid samples start with (the formats'
    published layouts: zboot-header.S, image.h, bootimg.h, the codecs' own)."""
    by_kind = {"zboot": "zboot", "uimage": "uimage", "android-boot": "android",
               "deb": "deb", "rpm": "rpm", "archpkg": "archpkg",
               **{codec: "compression" for codec in seedcorpus.CODECS}}
    for kind, name in by_kind.items():
        if kind not in seedcorpus.available_kinds():
            continue
        module = importlib.import_module(f"validator.formats.{name}")
        magics = [m for _, m in module.MAGICS] if hasattr(module, "MAGICS") else [module.MAGIC]
        data = seedcorpus.generate(kind, seedcorpus.RandomChooser(1), valid=True).data
        assert any(data.startswith(m) for m in magics), kind


# --- a new wrapper: one package, one registry entry ------------------------------------

TESTWRAP_INIT = '''
"""A made-up container: "TESTWRAP", a little-endian u64 payload length, the payload."""
ROLE = "wrapper"
MAGIC = b"TESTWRAP"
HEADER_SIZE = 16


def probe(view):
    return view.read(0, len(MAGIC)) == MAGIC


UNWRAPS = ((probe, None, "unwrap"),)
'''
TESTWRAP_DECODER = '''
import struct

from validator.catalogue import finding, rule
from validator.formats.results import Unwrapped
from validator.model import Layer
from kimage_testwrap import HEADER_SIZE

rule("testwrap/length-lying", "error", "the TESTWRAP length runs past the file",
     "A made-up container for the registry test.", "tests/test_registry.py", ())


def unwrap(view, ctx):
    length, = struct.unpack("<Q", view.read(8, 8))
    layer = Layer("testwrap", 0 if view.base is None else view.base, {"length": length})
    room = (view.known_length or 0) - HEADER_SIZE
    if length > room:
        return Unwrapped(layer, None, [finding("testwrap/length-lying",
                                               f"{length:#x} bytes, {room:#x} follow")])
    return Unwrapped(layer, view.slice(HEADER_SIZE, length))
'''
TESTWRAP_SAMPLES = '''
import struct

from validator.formats.arm64_image.samples import (
    arm64_bytes, arm64_header, arm64_params, arm64_valid_expect)
from validator.formats.sampling import Sample
from kimage_testwrap import MAGIC

MUTATIONS = {"length-lying": (("testwrap/length-lying",), lambda p: True)}


def _build(c, mutation):
    p = arm64_params(c, "5.8")
    image = arm64_bytes(arm64_header(p), p)
    if mutation == "any":
        mutation = "length-lying"
    extra = c.integer(1, 0xFFFF) if mutation else 0
    data = MAGIC + struct.pack("<Q", len(image) + extra) + image
    if mutation is None:
        return Sample("testwrap", "wrapped", data, arm64_valid_expect(p), None, p)
    return Sample("testwrap", mutation, data, MUTATIONS[mutation][0], mutation, p)


KINDS = {"testwrap": (_build, MUTATIONS)}
'''


@pytest.fixture
def testwrap(tmp_path, monkeypatch):
    package = tmp_path / "kimage_testwrap"
    package.mkdir()
    for name, text in (("__init__", TESTWRAP_INIT), ("decoder", TESTWRAP_DECODER),
                       ("samples", TESTWRAP_SAMPLES)):
        (package / f"{name}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, "kimage_testwrap"])
    importlib.reload(seedcorpus)  # KINDS is read from the registry at import
    yield tmp_path
    RULES.pop("testwrap/length-lying", None)
    formats._TRIES.pop("kimage_testwrap", None)
    for name in [m for m in sys.modules if m.split(".")[0] == "kimage_testwrap"]:
        del sys.modules[name]
    monkeypatch.undo()
    importlib.reload(seedcorpus)


def test_a_new_wrapper_is_one_package_and_one_entry(testwrap):
    from validator.cli import main
    from validator.io.limits import Limits
    from validator.pipeline import analyse

    # the seed corpus makes it
    assert "testwrap" in seedcorpus.KINDS and "testwrap" in seedcorpus.ALIASES["all"]
    valid = seedcorpus.generate("testwrap", seedcorpus.RandomChooser(3), valid=True)
    lying = seedcorpus.generate("testwrap", seedcorpus.RandomChooser(3), valid=False)
    assert valid.data.startswith(b"TESTWRAP") and lying.expect == ("testwrap/length-lying",)

    # the pipeline unwraps it: the arm64 Image inside is found and decoded
    (testwrap / "valid.bin").write_bytes(valid.data)
    result = analyse(testwrap / "valid.bin", Limits(decode_all=True))
    assert [layer.kind for layer in result.layers] == ["testwrap"]
    assert result.format == "arm64-image" and result.header["magic"] == "ARMd"
    assert result.header_offset == 16 and result.payload_size == len(valid.data) - 16
    (testwrap / "lying.bin").write_bytes(lying.data)
    result = analyse(testwrap / "lying.bin", Limits(decode_all=True))
    assert [f.rule for f in result.findings] == ["testwrap/length-lying"]

    # kimage rules lists its rule (and check reports it)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rules", "--format", "json"]) == 0
    listed = {r["id"]: r for r in json.loads(out.getvalue())["rules"]}
    assert listed["testwrap/length-lying"]["reference"] == "tests/test_registry.py"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", "--format", "json", str(testwrap / "lying.bin")])
    report = json.loads(out.getvalue())["images"][0]
    assert "testwrap/length-lying" in {f["rule"] for f in report["findings"]}


@pytest.mark.parametrize("codec", seedcorpus.CODECS)
def test_the_seed_corpus_decodes_with_the_check_paths_decoder(codec):
    """``decompress`` (``kimage fuzz --from``) is the check path's stream decoder: what
    the kernel-style writer compressed comes back whole, and a stream cut short gives a
    prefix of it (never more, never a traceback)."""
    from validator.formats.compression.writer import compress, decompress

    if not seedcorpus.codec_available(codec):
        pytest.skip(f"{codec}: its package is not installed")
    import random

    data = random.Random(codec).randbytes(0x3000) + bytes(0x20000)
    stream = compress(codec, data)
    assert decompress(codec, stream) == data
    assert decompress(codec, stream, limit=0x1000) is None  # over the limit
    cut = decompress(codec, stream[:len(stream) // 2])
    assert cut is None or data.startswith(cut)


def test_kimage_fuzz_offers_every_kind():
    """``kimage fuzz --format`` names its choices without importing the builders (its
    parser is built at every start); they are the registry's kinds and aliases."""
    from validator.commands.fuzz import FORMATS

    assert set(FORMATS) == set(seedcorpus.KINDS) | set(seedcorpus.ALIASES)


def test_a_wrapper_decoder_imported_alone_declares_every_rule_it_reports():
    """A wrapper's decoder is imported only when its test passes, whatever was imported
    before it: every rule it names in a finding is declared by it or by what it imports."""
    for package in formats.packages("wrapper"):
        path = ROOT / (package.replace(".", "/") + "/decoder.py")
        ids = sorted(set(re.findall(r'finding\(\s*"([a-z0-9_-]+/[a-z0-9_.-]+)"',
                                    path.read_text())))
        code = (f"import {package}.decoder\nfrom validator.catalogue import RULES\n"
                f"print(sorted(set({ids!r}) - set(RULES)))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, timeout=60)
        assert out.stdout.strip() == "[]", (package, out.stdout, out.stderr[-500:])


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(strategies.ppc64_head_bytes(), strategies.mutated(
    strategies.ppc64_head_bytes()), st.binary(min_size=250, max_size=300)))
def test_the_ppc64_test_holds_for_every_head_the_probe_takes(data):
    """The ppc64 package's test (the first word) lets through every head the decoder's
    probe (the generated parser) takes: it only spares other formats that import."""
    from validator.formats import ppc64_head
    from validator.formats.ppc64_head import decoder
    from validator.io.views import BytesView

    view = BytesView(data)
    assert not decoder.probe(view) or ppc64_head.branch_first(view)


def _declaring_modules() -> set[str]:
    """Every validator module with a ``rule(...)`` call at its top level (the AST)."""
    out = set()
    for path in sorted((ROOT / "validator").rglob("*.py")):
        if "_kaitai" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        if any(isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
               and isinstance(node.value.func, ast.Name) and node.value.func.id == "rule"
               for node in tree.body):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_load_all_imports_every_module_that_declares_rules():
    """A rule declared in a module ``load_all`` does not reach would be missing from
    ``kimage rules``, the rule pages and SARIF's catalogue; and the catalogue is read
    without importing preflight's host model (dataclasses, inspect)."""
    code = ("import json, sys; from validator.rules.registry import load_all; load_all(); "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(ROOT)!r}); {code}"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    imported = set(json.loads(out))
    declaring = _declaring_modules()
    assert len(declaring) > 20 and "validator.kdump.rules" in declaring
    assert declaring - imported == set()
    assert not {"dataclasses", "inspect", "validator.kdump.host"} & imported
