"""kimage fuzz: deterministic seed corpora, a truthful manifest, no overwriting, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT
from validator import checker, cli, seedcorpus
from validator.commands.fuzz import FORMATS


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", "fuzz", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def files(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def manifest(directory) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def test_same_seed_same_bytes_in_another_process(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    p = run("--format", "all", "--count", "60", "--seed", "42", "--out", str(a),
            env={"PYTHONHASHSEED": "1"})
    assert p.returncode == 0, p.stderr
    p = run("--format", "all", "--count", "60", "--seed", "42", "--out", str(b),
            env={"PYTHONHASHSEED": "2"})
    assert p.returncode == 0, p.stderr
    assert files(a) == files(b)
    assert len(files(a)) == 61


def test_another_seed_other_bytes_and_a_longer_run_extends_a_shorter(tmp_path, capsys):
    assert cli.main(["fuzz", "--format", "arm64-image", "--count", "5", "--seed", "1",
                     "--out", str(tmp_path / "s")]) == 0
    assert cli.main(["fuzz", "--format", "arm64-image", "--count", "12", "--seed", "1",
                     "--out", str(tmp_path / "l")]) == 0
    assert cli.main(["fuzz", "--format", "arm64-image", "--count", "5", "--seed", "2",
                     "--out", str(tmp_path / "o")]) == 0
    short, long_ = files(tmp_path / "s"), files(tmp_path / "l")
    del short["manifest.json"]
    assert all(long_[name] == data for name, data in short.items())
    other = files(tmp_path / "o")
    del other["manifest.json"]
    assert set(other.values()) != set(short.values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_its_manifest(fmt, tmp_path, capsys):
    out = tmp_path / fmt
    assert cli.main(["fuzz", "--format", fmt, "--count", "8", "--seed", "m", "--out",
                     str(out)]) == 0
    doc = manifest(out)
    assert doc["format"] == "kimage-fuzz/1"
    assert doc["generator"] == {"format": fmt, "seed": "m", "count": 8, "only": None,
                                "from": None, "from_sha256": None}
    assert len(doc["files"]) == 8
    for entry in doc["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["size"] == len(data)
        assert entry["valid"] == (entry["mutation"] is None)
        if fmt in seedcorpus.ALIASES:  # "all", "elf", "x86": one of the kinds it names
            assert entry["kind"] in seedcorpus.ALIASES[fmt]
        else:
            assert entry["kind"] == fmt
        result = checker.check_image(out / entry["path"], checker.Options())
        found = {f.rule for f in result.findings}
        assert set(entry["expect"]) <= found, (entry["path"], sorted(found))
        if entry["valid"]:
            serious = {f.rule for f in result.findings if f.severity != "info"}
            assert serious <= set(entry["expect"]), (entry["path"], sorted(serious))


def test_only_valid_and_only_near_valid(tmp_path, capsys):
    assert cli.main(["fuzz", "--format", "ppc64-elf", "--count", "10", "--out",
                     str(tmp_path / "v"), "--only", "valid"]) == 0
    assert all(e["valid"] for e in manifest(tmp_path / "v")["files"])
    assert cli.main(["fuzz", "--format", "ppc64-elf", "--count", "10", "--out",
                     str(tmp_path / "n"), "--only", "near-valid"]) == 0
    assert not any(e["valid"] for e in manifest(tmp_path / "n")["files"])


def test_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["fuzz", "--format", "gzip", "--count", "3", "--out", str(out)]) == 0
    before = files(out)
    capsys.readouterr()
    assert cli.main(["fuzz", "--format", "gzip", "--count", "3", "--seed", "other",
                     "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert files(out) == before
    # a manifest of its own is enough to refuse
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "manifest.json").write_text("{}")
    assert cli.main(["fuzz", "--format", "gzip", "--count", "1", "--out",
                     str(tmp_path / "m")]) == 2
    assert (tmp_path / "m" / "manifest.json").read_text() == "{}"
    # other files in DIR are left alone and do not block
    (out / "notes.txt").write_text("mine")
    assert cli.main(["fuzz", "--format", "gzip", "--count", "3", "--seed", "other",
                     "--out", str(out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert manifest(out)["generator"]["seed"] == "other"


@pytest.mark.parametrize("args, needle", [
    (["--format", "no-such-format", "--count", "1"], "invalid choice"),
    (["--format", "gzip", "--count", "0"], "--count"),
    (["--format", "gzip", "--count", "many"], "--count"),
    (["--format", "gzip"], "--count"),
])
def test_usage_errors_exit_2(args, needle, tmp_path):
    p = run(*args, "--out", str(tmp_path / "x"))
    assert p.returncode == 2 and needle in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "x").exists()


def test_out_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    p = run("--format", "gzip", "--count", "1", "--out", str(tmp_path / "f"))
    assert p.returncode == 2 and "not a directory" in p.stderr


def test_from_a_real_image(real_images, tmp_path):
    # in a subprocess: a real kernel is tens of MiB, and each variant is a copy
    for name, path in real_images.items():
        out = tmp_path / name
        p = run("--format", "arm64-image", "--count", "12", "--seed", "r", "--out", str(out),
                "--from", str(path))
        assert p.returncode == 0, p.stderr
        doc = manifest(out)
        with open(path, "rb") as f:
            source_sha = hashlib.file_digest(f, "sha256").hexdigest()
        assert doc["generator"]["from"] == path.name
        assert doc["generator"]["from_sha256"] == source_sha
        for entry in doc["files"]:
            assert not entry["valid"] and entry["mutation"]
            assert entry["sha256"] != source_sha
            result = checker.check_image(out / entry["path"], checker.Options())
            found = {f.rule for f in result.findings}
            assert set(entry["expect"]) <= found, (entry["mutation"], sorted(found))


def test_from_is_deterministic_and_reaches_inside_wrappers(tmp_path, capsys):
    image = tmp_path / "vmlinuz.efi"
    image.write_bytes(seedcorpus.generate("zboot", seedcorpus.RandomChooser(3),
                                          valid=True).data)
    for d in ("a", "b"):
        assert cli.main(["fuzz", "--format", "zboot", "--count", "30", "--out",
                         str(tmp_path / d), "--from", str(image)]) == 0
    assert files(tmp_path / "a") == files(tmp_path / "b")
    mutations = {e["mutation"] for e in manifest(tmp_path / "a")["files"]}
    assert any(m.startswith("zboot>") for m in mutations), mutations
    assert any(m.startswith("zboot:") for m in mutations), mutations


def test_from_refuses_what_it_cannot_mutate(tmp_path):
    (tmp_path / "text").write_bytes(b"hello, world\n" * 20)
    p = run("--format", "all", "--count", "1", "--out", str(tmp_path / "o"), "--from",
            str(tmp_path / "text"))
    assert p.returncode == 2 and "no header" in p.stderr
    p = run("--format", "all", "--count", "1", "--out", str(tmp_path / "o"), "--from",
            str(tmp_path / "missing"))
    assert p.returncode == 2 and "no such file" in p.stderr
    p = run("--format", "all", "--count", "1", "--out", str(tmp_path / "o"), "--only",
            "valid", "--from", str(CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"))
    assert p.returncode == 2


def test_fuzz_is_listed_in_help():
    p = subprocess.run([sys.executable, "-m", "validator", "--help"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert "fuzz" in p.stdout


@pytest.mark.parametrize("harness", ["arm64_parse", "ppc64_parse", "layers", "check"])
def test_harnesses_run_under_the_fallback_driver(harness, tmp_path):
    """Each fuzz/ harness imports and runs (the plain-Python driver, as on a machine
    without atheris), so `make fuzz` and the OSS-Fuzz build keep working."""
    p = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / f"{harness}_fuzzer.py"), "-runs=60",
         "-seed_inputs=12", f"-artifact_prefix={tmp_path}/", str(CORPUS / "regressions")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "KIMAGE_FUZZ_FALLBACK": "1", "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Done 60 runs" in p.stderr and "no crash" in p.stderr
    assert not list(tmp_path.glob("crash-*"))
