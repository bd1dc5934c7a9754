"""Reports written as results arrive: the whole-run formats (``json``, ``sarif``,
``github``, ``gitlab``, ``junit``) without holding every result until the end.

``Spool(fmt, ...)`` takes each result (``add``), renders its part of the report at once
(held in memory up to ``SPILL`` characters, then in an unnamed temporary file: a check's
report never imports ``tempfile``), keeps only what the report's head and tail need (counts,
the roots in use, fingerprints seen) and drops the result; ``write(out, exit_code)``
writes the head, the spooled parts and the tail. The text is byte for byte what
``validator.ci_formats.render`` makes of the list of results (tests/test_ci_stream.py
holds them to it): memory stays flat however many images a lint run checks.

JSON documents are dumped with an indent, which is only newlines and spaces by depth:
a part dumped alone, each of its lines after the first indented by its depth, is the
part as the whole document's dump has it.
"""

from __future__ import annotations

import io
import os

STREAMED = ("json", "sarif", "github", "gitlab", "junit")
_HOLE = "@@kimage-part@@"
#: Placeholders for SARIF uriBaseIds, named once every root in use is known.
_BASE = "\ue000"
_BASE_END = "\ue001"
_COPY = 1 << 16
#: The characters a part of the report holds in memory before it moves to an unnamed
#: temporary file (at most 4 bytes each): a check, or a lint run of some hundreds of
#: images, writes no file, and does not import ``tempfile`` (shutil, random, bz2, lzma:
#: 15 M instructions, a sixth of a check's start-up; bench/coldstart.py).
SPILL = 1 << 20


def _indented(text: str, depth: str) -> str:
    return text.replace("\n", "\n" + depth)


def _split(text: str) -> tuple[str, str]:
    head, _, tail = text.partition(f'"{_HOLE}"')
    return head, tail


class Spool:
    """One run's report in ``fmt`` (one of ``STREAMED``); see the module."""

    def __init__(self, fmt: str, *, fail_on: str = "error", roots=(), uri_roots=None) -> None:
        self.fmt, self.fail_on = fmt, fail_on
        self.roots, self.uri_roots = list(roots), uri_roots
        self.count = self.failed = 0
        self.unique = None  # fingerprints made unique (GitLab, SARIF), made at need
        self.file = _Part()
        self.artifacts = None  # SARIF: its second list, spooled apart
        self.dirs: dict[str, None] = {}  # SARIF: roots in use, in order
        self.has_cwd = False
        self.issues = 0  # GitLab
        self.rule_index = None  # SARIF
        if fmt == "sarif":
            self.artifacts = _Part()
            self.results = 0

    def _unique(self, fp: str) -> str:
        if self.unique is None:
            from validator.baseline import Unique

            self.unique = Unique()
        return self.unique(fp)

    def close(self) -> None:
        for f in (self.file, self.artifacts):
            if f is not None:
                f.close()

    # --- each result ------------------------------------------------------------------

    def add(self, result) -> None:
        getattr(self, f"_add_{self.fmt}")(result)
        self.count += 1

    def _add_json(self, r) -> None:
        from validator import report
        from validator.textsafe import dumps

        if self.count:
            self.file.write(",\n    ")
        self.file.write(_indented(dumps(report._image(r), indent=2, sort_keys=False),
                                  "    "))

    def _add_github(self, r) -> None:
        from validator import ci_formats

        self.file.write(ci_formats.github([r]))

    def _add_gitlab(self, r) -> None:
        from validator import ci_formats
        from validator.baseline import keyed
        from validator.textsafe import dumps, json_value

        for f, fp, _ in keyed(r, self.roots):
            issue = json_value({
                "type": "issue",
                "description": f"{f.rule}: {ci_formats._message(f)}",
                "check_name": f.rule,
                "fingerprint": self._unique(fp),
                "severity": ci_formats._GITLAB_SEVERITY[f.severity],
                "location": {"path": ci_formats._repo_path(r.path), "lines": {"begin": 1}},
            })
            self.file.write(",\n  " if self.issues else "\n  ")
            self.file.write(_indented(dumps(issue, indent=2, ensure_ascii=False), "  "))
            self.issues += 1

    def _add_junit(self, r) -> None:
        import xml.etree.ElementTree as ET

        from validator import ci_formats
        from validator.model import severity_rank

        xml_text, message = ci_formats._xml_text, ci_formats._message
        bar = severity_rank(self.fail_on)
        case = ET.Element("testcase", name=xml_text(r.path), classname=f"kimage.{r.format}")
        bad = [f for f in r.findings if severity_rank(f.severity) >= bar]
        rest = [f for f in r.findings if severity_rank(f.severity) < bar]
        if bad:
            self.failed += 1
            first = bad[0]
            failure = ET.SubElement(case, "failure", type=first.rule,
                                    message=xml_text(f"{first.rule}: {first.message}"))
            failure.text = xml_text("\n".join(f"{f.severity} {f.rule}: {message(f)}"
                                              for f in bad))
        if rest:
            out = ET.SubElement(case, "system-out")
            out.text = xml_text("\n".join(f"{f.severity} {f.rule}: {message(f)}"
                                          for f in rest))
        ET.indent(case, level=2)
        self.file.write("    " + ET.tostring(case, encoding="unicode") + "\n")

    def _add_sarif(self, r) -> None:
        from validator.baseline import keyed, relative
        from validator.ci_formats import FINGERPRINT_KEY
        from validator.sarif import sarif_results, sarif_rule_index
        from validator.textsafe import dumps

        place = relative(r.path, self.roots if self.uri_roots is None else self.uri_roots)
        where = self._location(place)
        if self.rule_index is None:
            self.rule_index = sarif_rule_index()
        items = sarif_results(r, self.rule_index, where)
        for item, (_, fp, _) in zip(items, keyed(r, self.roots), strict=True):
            item["partialFingerprints"] = {FINGERPRINT_KEY: self._unique(fp)}
            self.file.write(",\n        " if self.results else "")
            self.file.write(_indented(dumps(item, indent=2), "        "))
            self.results += 1
        self.artifacts.write(",\n        " if self.count else "")
        self.artifacts.write(_indented(dumps({"location": where}, indent=2), "        "))

    def _location(self, place) -> dict:
        from validator.textsafe import uri_path

        root, rel = place
        if root is None:
            return {"uri": "file://" + uri_path(os.path.abspath(rel))}
        if root == ".":
            self.has_cwd = True
            return {"uri": uri_path(rel), "uriBaseId": "%SRCROOT%"}
        self.dirs.setdefault(root, None)
        return {"uri": uri_path(rel),
                "uriBaseId": f"{_BASE}{list(self.dirs).index(root)}{_BASE_END}"}

    # --- the report -------------------------------------------------------------------

    def write(self, out, exit_code: int = 0) -> None:
        """The report, ending with a newline, to ``out.write``."""
        from validator import ci_formats

        if not self.count or (self.fmt == "gitlab" and not self.issues):
            out.write(ci_formats.render(self.fmt, [], fail_on=self.fail_on, roots=self.roots,
                                        uri_roots=self.uri_roots, exit_code=exit_code))
            return
        if self.fmt == "sarif":
            head, middle, tail = self._frame_sarif(exit_code)
            out.write(head)
            self._copy(self.artifacts, out, self._bases())
            out.write(middle)
            if self.results:
                self._copy(self.file, out, self._bases())
                out.write(tail)
            return
        head, tail = getattr(self, f"_frame_{self.fmt}")(exit_code)
        out.write(head)
        self._copy(self.file, out)
        out.write(tail)

    @staticmethod
    def _copy(part, out, bases=None) -> None:
        spool = part.rewound()
        if bases is None:
            while block := spool.read(_COPY):
                out.write(block)
            return
        for line in spool:
            if "\\ue000" in line:
                for i, name in enumerate(bases):
                    line = line.replace(f"\\ue000{i}\\ue001", name)
            out.write(line)

    def _frame_json(self, exit_code: int) -> tuple[str, str]:
        from validator import report
        from validator.textsafe import dumps

        doc = report.to_dict([])
        doc["images"] = [_HOLE]
        head, tail = _split(dumps(doc, indent=2, sort_keys=False))
        return head, tail + "\n"

    def _frame_github(self, exit_code: int) -> tuple[str, str]:
        return "", ""

    def _frame_gitlab(self, exit_code: int) -> tuple[str, str]:
        return "[", "\n]\n"

    def _frame_junit(self, exit_code: int) -> tuple[str, str]:
        import xml.etree.ElementTree as ET

        counts = {"tests": str(self.count), "failures": str(self.failed), "errors": "0",
                  "skipped": "0"}
        suite = ET.Element("testsuite", name="kimage")
        ET.SubElement(suite, _HOLE.strip("@").replace("-", "_"))
        suite.attrib.update(counts)
        root = ET.Element("testsuites", name="kimage", **{k: counts[k] for k in
                                                          ("tests", "failures", "errors")})
        root.append(suite)
        ET.indent(root)
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                + ET.tostring(root, encoding="unicode") + "\n")
        head, _, tail = text.partition(f"<{_HOLE.strip('@').replace('-', '_')} />\n")
        return head[:head.rindex("\n") + 1], tail

    def _bases(self) -> list[str]:
        return ["ROOT" if len(self.dirs) == 1 else f"ROOT{i}"
                for i in range(1, len(self.dirs) + 1)]

    def _frame_sarif(self, exit_code: int) -> tuple[str, str]:
        from validator import ci_formats
        from validator.sarif import to_sarif
        from validator.textsafe import dumps, uri_path

        doc = to_sarif([])
        run = doc["runs"][0]
        for rule in run["tool"]["driver"]["rules"]:
            uri = ci_formats.help_uri(rule["id"])
            if uri:
                rule["helpUri"] = uri
        run["invocations"] = [{"executionSuccessful": exit_code in (0, 1),
                               "exitCode": exit_code}]
        run["artifacts"] = [_HOLE]
        run["results"] = [_HOLE] if self.results else []
        bases = dict(zip(self.dirs, self._bases(), strict=True))
        if self.has_cwd:
            bases["."] = "%SRCROOT%"
        if bases:
            run["originalUriBaseIds"] = {
                base: {"uri": "file://" + uri_path(os.path.abspath(root).rstrip("/") + "/")}
                for root, base in bases.items()}
        head, tail = _split(dumps(doc, indent=2))
        middle, tail = _split(tail) if self.results else (tail, "")
        return head, middle + ("" if self.results else "\n"), tail + "\n"


class _Part:
    """A part of the report: a text file in memory until more than ``SPILL`` characters
    were written to it, then an unnamed temporary file that holds them. Text goes in and
    comes out as it is (no newline translation), as a string would hold it."""

    def __init__(self) -> None:
        self.file = io.StringIO()

    def write(self, text: str) -> None:
        self.file.write(text)
        if type(self.file) is io.StringIO and self.file.tell() > SPILL:
            self._spill()

    def _spill(self) -> None:
        import tempfile

        text = self.file.getvalue()
        self.file = tempfile.TemporaryFile(  # noqa: SIM115  (closed by close())
            "w+", encoding="utf-8", errors="surrogatepass", newline="\n",
            prefix="kimage-report-")
        self.file.write(text)

    def rewound(self):
        """The file, flushed and at its start, to read."""
        self.file.flush()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()
