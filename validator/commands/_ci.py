"""What check and lint share for CI: ``--format`` of every kind, ``--output FILE``,
``--exit-zero``, ``--baseline FILE`` and ``--write-baseline FILE``.

``Output`` takes each result as it comes (``keep`` drops what the baseline knows;
``each`` streams or collects) and ``finish`` writes the report, the baseline and the
list of stale baseline entries, and says the exit status. Formats: validator.ci_formats;
baselines: validator.baseline; files: validator.outfile. Imported by check and lint at
start-up: it imports nothing heavy until a run needs it.
"""

from __future__ import annotations

import sys

#: Every ``--format`` of check and lint beside text (validator.ci_formats renders them;
#: it is imported only when a run asks for one).
FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")

#: Stale baseline entries listed one per line; the rest are counted.
STALE_SHOWN = 100


def add_ci_options(p) -> None:
    p.add_argument("--output", metavar="FILE",
                   help="write the report (--format) to FILE, atomically, and still print "
                        "the text report")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when findings are at or above --fail-on (2 still "
                        "means a usage error or, for check, an input that cannot be read)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--baseline", metavar="FILE",
                       help="report only findings that FILE (from --write-baseline) does "
                            "not hold; its entries that match nothing are listed on stderr")
    group.add_argument("--write-baseline", metavar="FILE",
                       help="record every finding of this run in FILE and exit 0")


class Output:
    """One run's report: see the module. Raises ``error`` (the command's UsageError) for
    a baseline that cannot be read or an output file that may not be written."""

    def __init__(self, args, roots, inputs=(), error=ValueError, uri_roots=None,
                 fail_on: str = "error") -> None:
        self.args, self.roots = args, list(roots)
        self.fail_on = fail_on  # junit's failures, rendered as results come
        self.uri_roots = None if uri_roots is None else list(uri_roots)
        self.fmt = args.format
        self.output = getattr(args, "output", None)
        self.baseline = self.recorder = None
        self.file = None
        self.spool = None  # the whole-run formats: validator.ci_stream, opened at need
        if self.output or getattr(args, "write_baseline", None) or \
                getattr(args, "baseline", None):  # else nothing to import: start-up time
            self._open(args, inputs, error)

    def _open(self, args, inputs, error) -> None:
        from validator.baseline import Baseline, BaselineError, Recorder
        from validator.outfile import AtomicFile, OutputError, check_target

        try:
            if self.output:
                check_target(self.output, "--output", inputs)
            if getattr(args, "write_baseline", None):
                check_target(args.write_baseline, "--write-baseline", inputs)
                self.recorder = Recorder(self.roots)
            if getattr(args, "baseline", None):
                self.baseline = Baseline.load(args.baseline)
            if self.output and self.fmt in ("text", "jsonl"):  # streamed into the file
                self.file = AtomicFile(self.output, "--output")
        except (BaselineError, OutputError) as exc:
            from validator.textsafe import escape_text

            raise error(escape_text(str(exc))) from None

    def keep(self, result):
        """``result`` without the findings the baseline holds (recorded first, for
        --write-baseline)."""
        if self.recorder is not None:
            self.recorder.add(result)
        if self.baseline is not None:
            result = self.baseline.keep(result, self.roots)
        return result

    def each(self, result) -> None:
        """Print (or stream into --output) what can be printed now; keep the rest."""
        text = streamed(result, "text") if self.fmt == "text" or self.output else None
        if self.fmt == "jsonl":
            self._stream(streamed(result, "jsonl"))
        elif self.fmt == "text" and self.file is not None:
            self.file.write(text)
        elif self.fmt != "text":
            if self.spool is None:
                from validator.ci_stream import Spool

                self.spool = Spool(self.fmt, fail_on=self.fail_on, roots=self.roots,
                                   uri_roots=self.uri_roots)
            self.spool.add(result)
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()

    def _stream(self, text: str) -> None:
        if self.file is not None:
            self.file.write(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    def finish(self, status: int, fail_on: str) -> int:
        """Write the report and the baseline; list stale entries; the exit status."""
        code = status
        if self.fmt in ("text", "jsonl") and not (self.output or self.recorder
                                                   or self.baseline):
            if status == 1 and self.args.exit_zero:
                return 0
            return status  # text or jsonl on standard output: all printed already
        from validator.outfile import AtomicFile, OutputError

        if status == 1 and (self.args.exit_zero or self.recorder is not None):
            code = 0
        try:
            if self.fmt not in ("text", "jsonl"):
                if self.spool is None:
                    from validator.ci_stream import Spool

                    self.spool = Spool(self.fmt, fail_on=self.fail_on, roots=self.roots,
                                       uri_roots=self.uri_roots)
                if self.output:
                    self.file = AtomicFile(self.output, "--output")
                    self.spool.write(self.file, exit_code=code)
                else:
                    self.spool.write(sys.stdout, exit_code=code)
            if self.file is not None:
                self.file.commit()
                self.file = None
            if self.recorder is not None:
                target = AtomicFile(self.args.write_baseline, "--write-baseline")
                target.write(self.recorder.render())
                target.commit()
                print(f"kimage: {len(self.recorder.entries)} baseline entries written to "
                      f"{_safe(self.args.write_baseline)}", file=sys.stderr)
        except OutputError as exc:
            print(f"kimage: {_safe(str(exc))}", file=sys.stderr)
            return 2
        finally:
            if self.file is not None:
                self.file.discard()
            if self.spool is not None:
                self.spool.close()
        if self.baseline is not None:
            self._stale()
        return code

    def abandon(self) -> None:
        """The run stopped early: remove the temporary --output file."""
        if self.file is not None:
            self.file.discard()
            self.file = None

    def _stale(self) -> None:
        stale = self.baseline.stale()
        name = _safe(self.baseline.path)
        if not stale:
            return
        print(f"kimage: baseline {name}: {len(stale)} entr{'y' if len(stale) == 1 else 'ies'}"
              f" no longer found (fixed, or the image is gone):", file=sys.stderr)
        for e in stale[:STALE_SHOWN]:
            field = f" field {e['field']}" if e["field"] else ""
            version = f" ({e['version']})" if e["version"] else ""
            print(_safe(f"  {e['rule']} in {e['image']}{version}{field}"
                        + (f" x{e['unmatched']}" if e["unmatched"] > 1 else "")),
                  file=sys.stderr)
        if len(stale) > STALE_SHOWN:
            print(f"  and {len(stale) - STALE_SHOWN} more (--write-baseline rewrites the "
                  f"file without them)", file=sys.stderr)


def streamed(result, fmt: str) -> str:
    """What the report in ``fmt`` ("text" or "jsonl") prints of ``result``, alone."""
    from validator import report

    if fmt == "jsonl":
        from validator.textsafe import dumps

        return dumps(report.to_dict([result])["images"][0]) + "\n"
    out = sys.stdout  # colours when it is a terminal: asked once, not for every image
    if _TTY[0] is not out:
        _TTY[:] = [out, out.isatty()]
    return report.render_check_text([result], color=_TTY[1])


_TTY: list = [None, False]


def _safe(text: str) -> str:
    from validator.textsafe import escape_text

    return escape_text(text)
