"""validator/_kaitai/ is exactly what the pinned Kaitai compiler makes of specs/."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT


def test_generated_parsers_are_fresh(tmp_path):
    if shutil.which("node") is None:
        pytest.fail("node is needed to compile specs/ (make test installs the compiler)")
    out = tmp_path / "kaitai"
    p = subprocess.run([str(ROOT / "tools/compile-specs.sh"), str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    committed = ROOT / "validator/_kaitai"
    fresh = {f.name: f.read_text() for f in out.glob("*.py")}
    current = {f.name: f.read_text() for f in committed.glob("*.py")}
    stale = sorted(n for n in fresh.keys() | current.keys() if fresh.get(n) != current.get(n))
    assert not stale, f"validator/_kaitai is stale, run `make specs`: {stale}"


def test_every_field_has_doc_and_doc_ref():
    yaml = pytest.importorskip("yaml")
    for spec in sorted((ROOT / "specs").glob("*.ksy")):
        doc = yaml.safe_load(spec.read_text())
        missing: list[str] = []

        def visit(node, where, missing=missing):
            for item in node.get("seq", []):
                if not ("doc" in item and "doc-ref" in item):
                    missing.append(f"{where}/seq/{item['id']}")
            for name, item in (node.get("instances") or {}).items():
                if not ("doc" in item and "doc-ref" in item):
                    missing.append(f"{where}/instances/{name}")
            for name, sub in (node.get("types") or {}).items():
                visit(sub, f"{where}/types/{name}", missing)

        assert "doc" in doc and "doc-ref" in doc, spec.name
        visit(doc, spec.stem)
        assert not missing, f"{spec.name}: fields without doc or doc-ref: {missing}"
