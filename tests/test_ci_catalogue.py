"""The machine-readable catalogue: `kimage rules --format json`, `kimage rules PREFIX`
(what --select takes), and `kimage schema NAME`, each document validated against the
schema kimage prints for it, and each schema shown to reject a wrong document."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import CORPUS, ROOT

ARM64 = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
SYSROOT = ROOT / "tests/sysroots/arm64-4k-crash512m"


def kimage(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def schema(name: str) -> dict:
    p = kimage("schema", name)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.Draft202012Validator.check_schema(doc)
    return doc


def valid(doc, name_or_schema) -> None:
    s = schema(name_or_schema) if isinstance(name_or_schema, str) else name_or_schema
    jsonschema.Draft202012Validator(s).validate(doc)


def invalid(doc, s) -> bool:
    return not jsonschema.Draft202012Validator(s).is_valid(doc)


@pytest.fixture(scope="module")
def listed() -> list[str]:
    """Rule IDs as the text listing shows them (first column), independent of JSON."""
    p = kimage("rules")
    assert p.returncode == 0
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


# --- kimage rules --format json ---------------------------------------------------------

def test_rules_json_is_the_whole_catalogue_sorted_and_valid(listed):
    p = kimage("rules", "--format", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    valid(doc, "rules")
    ids = [r["id"] for r in doc["rules"]]
    assert ids == sorted(ids) == sorted(listed) and len(set(ids)) == len(ids) > 50
    for r in doc["rules"]:
        assert r["severity"] in ("error", "warning", "info") and r["summary"]
        assert r["doc"] == f"docs/rules/{r['id']}.md"
    # what `kimage rules ID` explains is what the JSON says
    one = {r["id"]: r for r in doc["rules"]}["arm64/image-size-zero"]
    text = kimage("rules", "arm64/image-size-zero").stdout
    assert f"({one['severity']})" in text and one["summary"] in text
    assert one["reference"] in text and one["rationale"] in text
    assert f"Loaders: {', '.join(one['loaders'])}" in text


def test_rules_json_is_stable_from_run_to_run():
    assert kimage("rules", "--format", "json").stdout == \
        kimage("rules", "--format", "json").stdout


def test_rules_schema_rejects_a_wrong_catalogue():
    doc = json.loads(kimage("rules", "--format", "json").stdout)
    s = schema("rules")
    for change in (lambda d: d["rules"][0].pop("rationale"),
                   lambda d: d["rules"][0].update(severity="fatal"),
                   lambda d: d["rules"][0].update(id="Not An ID"),
                   lambda d: d.update(schema="kimage-rules/2")):
        wrong = copy.deepcopy(doc)
        change(wrong)
        assert invalid(wrong, s)


# --- kimage rules PREFIX, as --select takes it -----------------------------------------

@pytest.mark.parametrize("prefix", ["arm64", "arm64/", "preflight", "zboot/"])
def test_a_prefix_lists_the_rules_of_that_namespace(prefix, listed):
    want = [i for i in listed if i.startswith(prefix.rstrip("/") + "/")]
    assert want
    p = kimage("rules", prefix)
    assert p.returncode == 0, p.stderr
    assert [line.split()[0] for line in p.stdout.splitlines()] == want
    p = kimage("rules", prefix, "--format", "json")
    assert [r["id"] for r in json.loads(p.stdout)["rules"]] == want


def test_all_lists_everything_and_an_exact_id_still_explains(listed):
    p = kimage("rules", "ALL")
    assert [line.split()[0] for line in p.stdout.splitlines()] == listed
    p = kimage("rules", "layer/unknown-format")
    assert p.returncode == 0 and "Why:" in p.stdout and "Reference:" in p.stdout
    p = kimage("rules", "layer/unknown-format", "--format", "json")
    assert [r["id"] for r in json.loads(p.stdout)["rules"]] == ["layer/unknown-format"]


@pytest.mark.parametrize("typo,near", [("arm64/imge-size-zero", "arm64/image-size-zero"),
                                       ("arm6", "arm64"), ("zbot/", "zboot/")])
def test_an_unknown_name_is_a_usage_error_naming_the_closest(typo, near):
    p = kimage("rules", typo)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and f"did you mean {near!r}" in p.stderr
    assert "no rule" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("pattern", ["arm64", "arm64/", "ALL", "arm64/image-size-zero",
                                     "arm64/image", "arm", "nope/", "arm64/bad-magic,",
                                     "zboot,deb", "zboot,debx", ",", ""])
def test_rules_accepts_exactly_what_select_accepts(pattern):
    """`kimage rules P` lists something iff `kimage check --select P` takes P."""
    rules = kimage("rules", pattern)
    check = kimage("check", "--select", pattern, ARM64)
    assert (rules.returncode == 0) == (check.returncode != 2), (rules.stderr, check.stderr)


# --- kimage schema NAME -----------------------------------------------------------------

def test_schema_without_a_name_is_the_report_schema():
    assert json.loads(kimage("schema").stdout) == schema("report")


def test_schema_of_an_unknown_document_is_a_usage_error():
    p = kimage("schema", "nonsense")
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_report_and_jsonl_lines_validate():
    report = schema("report")
    line = schema("jsonl-line")
    p = kimage("lint", "-j", "1", "--format", "json", CORPUS / "kernels")
    doc = json.loads(p.stdout)
    valid(doc, report)
    p = kimage("lint", "-j", "1", "--format", "jsonl", CORPUS / "kernels")
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(lines) == len(doc["images"]) >= 4
    for obj in lines:
        valid(obj, line)
    # the line schema is the report's image: a whole report is not a line, nor is an
    # image with a key the report does not have
    assert invalid(doc, line)
    assert invalid({**lines[0], "extra": 1}, line)
    assert invalid({**lines[0], "verdict": "maybe"}, line)


def test_the_line_schema_refers_to_the_report_schema_not_a_copy():
    from validator import schemas
    from validator.report_schema import SCHEMA

    line = schemas.jsonl_line()
    assert line["$ref"] == "#/$defs/image" and line["$defs"] is SCHEMA["$defs"]


def test_preflight_report_validates():
    p = kimage("preflight", ARM64, "--sysroot", SYSROOT, "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    doc = json.loads(p.stdout)
    s = schema("preflight")
    valid(doc, s)
    assert invalid({**doc, "verdict": "maybe"}, s)


def test_fuzz_manifests_validate(tmp_path):
    s = schema("fuzz-manifest")
    p = kimage("fuzz", "--format", "all", "--count", "40", "--out", tmp_path / "a")
    assert p.returncode == 0, p.stderr
    generated = json.loads((tmp_path / "a/manifest.json").read_text())
    valid(generated, s)
    assert {f["valid"] for f in generated["files"]} == {True, False}
    p = kimage("fuzz", "--format", "arm64-image", "--count", "5", "--from", ARM64,
               "--out", tmp_path / "b")
    assert p.returncode == 0, p.stderr
    mutated = json.loads((tmp_path / "b/manifest.json").read_text())
    valid(mutated, s)
    assert mutated["generator"]["from"] == ARM64.name
    for change in (lambda d: d["files"][0].update(sha256="xyz"),
                   lambda d: d["files"][0].pop("expect"),
                   lambda d: d["generator"].update(count=0),
                   lambda d: d.update(format="kimage-fuzz/2")):
        wrong = copy.deepcopy(generated)
        change(wrong)
        assert invalid(wrong, s)


def test_every_rule_has_its_page():
    doc = json.loads(kimage("rules", "--format", "json").stdout)
    missing = [r["doc"] for r in doc["rules"] if not (ROOT / r["doc"]).is_file()]
    assert missing == []


def test_baseline_schema_rejects_a_wrong_file():
    s = schema("baseline")
    good = {"format": "kimage-baseline/1", "tool": {"name": "kimage", "version": "0"},
            "findings": [{"fingerprint": "0" * 32, "rule": "arm64/bad-magic",
                          "image": "vmlinuz-*-arm64", "version": "6.1.0-50-arm64",
                          "field": "magic", "count": 1}]}
    valid(good, s)
    for change in (lambda d: d["findings"][0].update(count=0),
                   lambda d: d["findings"][0].update(fingerprint="xyz"),
                   lambda d: d.update(format="kimage-baseline/2")):
        wrong = copy.deepcopy(good)
        change(wrong)
        assert invalid(wrong, s)
