"""Reports for CI systems: GitHub workflow commands, GitLab Code Quality, JUnit XML, and
SARIF as code scanning wants it (fingerprints, paths under the scanned root, help URIs,
the invocation). ``render`` picks one by ``--format`` name.

- ``github``: one workflow command per finding, ``::error file=PATH,line=1,title=RULE::
  MESSAGE`` (``warning``, ``notice`` for the other severities), escaped as GitHub's
  toolkit escapes workflow command data and properties: ``%`` ``\\r`` ``\\n`` in both,
  and ``:`` ``,`` in properties. Control characters are shown as escapes first.
- ``gitlab``: the Code Quality report, a JSON array of issues with ``description``,
  ``check_name``, ``fingerprint``, ``severity`` (error → critical, warning → major,
  info → info) and ``location.path`` / ``location.lines.begin``.
- ``junit``: one ``testsuite``, one ``testcase`` per image; an image with findings at or
  above --fail-on has one ``failure`` listing them (the others in ``system-out``).
- ``sarif``: validator.report's SARIF with ``partialFingerprints`` (validator.baseline's
  fingerprint), each location relative to its scanned root under a ``uriBaseId`` defined
  in ``originalUriBaseIds``, ``helpUri`` per rule, and the invocation's exit code.
"""

from __future__ import annotations

import os

FINGERPRINT_KEY = "kimageFingerprint/v1"
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
_GITLAB_SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def render(fmt: str, results, *, fail_on: str = "error", roots=(), uri_roots=None,
           exit_code: int = 0) -> str:
    """The report of ``results`` in ``fmt`` (one of ``commands._ci.FORMATS``), ending
    with a newline.
    ``roots``: the PATHs or IMAGEs given, for fingerprints (validator.baseline);
    ``uri_roots``: what SARIF locations are relative to (default ``roots``)."""
    from validator import report
    from validator.textsafe import dumps

    if fmt == "json":
        out = report.render_json(results)
    elif fmt == "sarif":
        out = dumps(sarif(results, roots=roots, uri_roots=uri_roots, exit_code=exit_code),
                    indent=2)
    elif fmt == "github":
        out = github(results)
    elif fmt == "gitlab":
        out = dumps(gitlab(results, roots=roots), indent=2, ensure_ascii=False)
    elif fmt == "junit":
        out = junit(results, fail_on=fail_on)
    else:
        out = report.render_check_text(results)
    return out if out.endswith("\n") or not out else out + "\n"


def _message(f) -> str:
    where = f" (at {f.offset:#x})" if f.offset is not None else ""
    lines = [f"{f.message}{where}"]
    lines += [f"then {c.get('rule')}: {c.get('message')}" for c in f.consequences or ()]
    return "\n".join(lines)


# --- GitHub workflow commands -----------------------------------------------------------

def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(results) -> str:
    from validator.textsafe import escape_text

    lines = []
    for r in results:
        path = escape_text(os.path.normpath(r.path) if r.path != "-" else r.path)
        for f in r.findings:
            message = "\n".join(escape_text(line) for line in _message(f).split("\n"))
            props = ",".join(f"{k}={escape_property(v)}" for k, v in
                             (("file", path), ("line", "1"), ("title", escape_text(f.rule))))
            lines.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


# --- GitLab Code Quality ----------------------------------------------------------------

def _repo_path(path: str) -> str:
    """A path as GitLab wants it: relative to the project directory (the working
    directory of the job) when it is inside it, without a leading ``./``."""
    p = os.path.normpath(path)
    if os.path.isabs(p):
        cwd = os.getcwd()
        if p.startswith(cwd.rstrip("/") + "/"):
            p = os.path.relpath(p, cwd)
    return p


def gitlab(results, *, roots=()) -> list[dict]:
    from validator.baseline import Unique, keyed
    from validator.textsafe import json_value

    unique = Unique()
    issues = []
    for r in results:
        for f, fp, _ in keyed(r, roots):
            issues.append({
                "type": "issue",
                "description": f"{f.rule}: {_message(f)}",
                "check_name": f.rule,
                "fingerprint": unique(fp),
                "severity": _GITLAB_SEVERITY[f.severity],
                "location": {"path": _repo_path(r.path), "lines": {"begin": 1}},
            })
    return json_value(issues)


# --- JUnit XML --------------------------------------------------------------------------

def _xml_text(s: str) -> str:
    """``s`` with what XML 1.0 cannot hold (controls but tab, newline and carriage
    return; surrogates, i.e. bytes of a name that are not UTF-8; U+FFFE, U+FFFF) shown as
    escapes (``\\x01``, ``\\xNN``, ``\\ufffe``)."""
    import re

    from validator.textsafe import escape_text

    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    if not bad.search(s):
        return s
    return bad.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() >= "\ufffe"
                   else escape_text(m.group()), s)


def junit(results, *, fail_on: str = "error") -> str:
    import xml.etree.ElementTree as ET

    from validator.model import severity_rank

    bar = severity_rank(fail_on)
    failed = 0
    suite = ET.Element("testsuite", name="kimage")
    for r in results:
        case = ET.SubElement(suite, "testcase", name=_xml_text(r.path),
                             classname=f"kimage.{r.format}")
        bad = [f for f in r.findings if severity_rank(f.severity) >= bar]
        rest = [f for f in r.findings if severity_rank(f.severity) < bar]
        if bad:
            failed += 1
            first = bad[0]
            failure = ET.SubElement(case, "failure", type=first.rule,
                                    message=_xml_text(f"{first.rule}: {first.message}"))
            failure.text = _xml_text("\n".join(f"{f.severity} {f.rule}: {_message(f)}"
                                               for f in bad))
        if rest:
            out = ET.SubElement(case, "system-out")
            out.text = _xml_text("\n".join(f"{f.severity} {f.rule}: {_message(f)}"
                                           for f in rest))
    counts = {"tests": str(len(results)), "failures": str(failed), "errors": "0",
              "skipped": "0"}
    suite.attrib.update(counts)
    root = ET.Element("testsuites", name="kimage", **{k: counts[k] for k in
                                                      ("tests", "failures", "errors")})
    root.append(suite)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


# --- SARIF for code scanning ------------------------------------------------------------

def sarif(results, *, roots=(), uri_roots=None, exit_code: int = 0) -> dict:
    """validator.sarif.to_sarif's log, made for code scanning (see the module). A
    location is relative to the root (of ``uri_roots``, default ``roots``) it was found
    under: the working directory's uriBaseId is %SRCROOT%, the others' ROOT (ROOT1,
    ROOT2... when there are several); a path under none is an absolute file: URI."""
    from validator.baseline import Unique, keyed, relative
    from validator.sarif import to_sarif
    from validator.textsafe import uri_path

    doc = to_sarif(results)
    run = doc["runs"][0]
    places = [relative(r.path, roots if uri_roots is None else uri_roots) for r in results]
    dirs = list(dict.fromkeys(root for root, _ in places if root not in (None, ".")))
    bases = {root: "ROOT" if len(dirs) == 1 else f"ROOT{i}" for i, root in enumerate(dirs, 1)}
    if any(root == "." for root, _ in places):
        bases["."] = "%SRCROOT%"

    def location(place) -> dict:
        root, rel = place
        if root is None:  # under no root given: the absolute path
            return {"uri": "file://" + uri_path(os.path.abspath(rel))}
        return {"uri": uri_path(rel), "uriBaseId": bases[root]}

    unique = Unique()
    found = [(location(place), fp) for r, place in zip(results, places, strict=True)
             for _, fp, _ in keyed(r, roots)]  # in to_sarif's order: image, then finding
    for item, (where, fp) in zip(run["results"], found, strict=True):
        item["partialFingerprints"] = {FINGERPRINT_KEY: unique(fp)}
        item["locations"][0]["physicalLocation"]["artifactLocation"] = where
    run["artifacts"] = [{"location": location(place)} for place in places]
    if bases:
        run["originalUriBaseIds"] = {
            base: {"uri": "file://" + uri_path(os.path.abspath(root).rstrip("/") + "/")}
            for root, base in bases.items()}
    for rule in run["tool"]["driver"]["rules"]:
        uri = help_uri(rule["id"])
        if uri:
            rule["helpUri"] = uri
    run["invocations"] = [{"executionSuccessful": exit_code in (0, 1),
                           "exitCode": exit_code}]
    return doc


def docs_base() -> str | None:
    """Where the rule pages are, as an absolute URI ending in "/": the ``Rules`` project
    URL of the installed distribution when it declares one, else docs/rules/ of the
    checkout kimage runs from; None when neither exists (a wheel without a project URL)."""
    if "base" not in _DOCS:
        _DOCS["base"] = _find_docs_base()
    return _DOCS["base"]


_DOCS: dict = {}


def _find_docs_base() -> str | None:
    url = _rules_url() if _may_declare_urls() else None
    if url is not None:
        return url
    from validator.textsafe import uri_path

    checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                            "docs", "rules")
    if os.path.isdir(checkout):
        return "file://" + uri_path(checkout) + "/"
    return None


def _rules_url() -> str | None:
    """The project URL labelled ``Rules`` in kimage's installed metadata, or None."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("kimage").get_all("Project-URL") or ()
    except PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "rules" and "://" in url:
            return url.strip().rstrip("/") + "/"
    return None


def _may_declare_urls() -> bool:
    """False when kimage's distribution lies beside its package (a ``pip install``) and
    its METADATA's headers hold no ``Project-URL`` (this project declares none): then
    ``importlib.metadata``, which imports email, zipfile, csv and typing (132 M
    instructions, more than a check), has nothing to find. True otherwise (a checkout or
    an editable install: the distribution is elsewhere on the path)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        names = [n for n in os.listdir(here)
                 if n.startswith("kimage-") and n.endswith(".dist-info")]
    except OSError:
        return True
    if not names:
        return True
    for name in names:
        try:
            with open(os.path.join(here, name, "METADATA"), "rb") as f:
                headers = f.read(1 << 16).partition(b"\n\n")[0]
        except OSError:
            return True
        if b"project-url:" in headers.lower():
            return True
    return False


def help_uri(rule_id: str) -> str | None:
    """The absolute URI of ``rule_id``'s page (docs/rules/<id>.md), or None."""
    base = docs_base()
    return f"{base}{rule_id}.md" if base else None
