"""kimage check IMAGE... : judge images against the spec, their config and symbols, loaders."""

from __future__ import annotations

import sys

from validator.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, STDIN

ORDER = 20


def add_check_options(p) -> None:
    p.add_argument("--config", metavar="F", help="the kernel .config (plain or gzip)")
    p.add_argument("--system-map", metavar="F",
                   help="System.map, or a vmlinux ELF whose symbol table to use")
    p.add_argument("--target", metavar="T",
                   help="the machine: ARCH[:PAGES], e.g. arm64:4k,64k or ppc64le")
    p.add_argument("--loader", metavar="L[@VERSION]", action="append", default=[],
                   help="report only this loader's verdict and fail when it refuses "
                        "(repeatable): kexec-tools, kexec-file, u-boot, grub, efi, qemu; "
                        "@VERSION judges that release (e.g. kexec-tools@2.0.29)")
    from validator.commands._ci import FORMATS, add_ci_options

    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text, json, sarif, github (workflow commands), gitlab (Code "
                        "Quality), junit")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                   help="lowest severity that makes the exit status 1 (default: error)")
    p.add_argument("--select", metavar="IDS", default=None,
                   help="comma-separated rule IDs or prefixes to report (default: all)")
    add_limit_option(p)
    p.add_argument("--ignore", metavar="IDS", default=None,
                   help="comma-separated rule IDs or prefixes not to report")
    add_ci_options(p)


#: Report formats that print every part of a result, the header's fields included (the
#: others print its path, format, layers, facts, findings, loaders and header_offset).
WHOLE_RESULT = ("json", "jsonl")

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def size(text: str) -> int:
    """``64M``, ``512k``, ``1G`` or a number of bytes (argparse type)."""
    import argparse

    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = t[-1:] if t[-1:] in _UNITS else ""
    try:
        value = int(t[: len(t) - len(unit)] or "x", 0) * _UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64M, 512k)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive size: {text!r}")
    return value


def add_limit_option(p) -> None:
    p.add_argument("--max-decompressed", metavar="SIZE", type=size, default=None,
                   help="most bytes one decompressor may produce (default 64M); more is "
                        "reported as layer/decompression-limit")


def limits(args, decode_all: bool):
    """The pipeline's Limits for ``--max-decompressed``."""
    from validator.io.limits import Limits

    if getattr(args, "max_decompressed", None):
        return Limits(max_decompressed=args.max_decompressed, decode_all=decode_all)
    return Limits(decode_all=decode_all)


def register(sub) -> None:
    p = sub.add_parser("check", help="check images against the spec, config, symbols and "
                                     "loaders")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="a file; - reads standard input")
    add_check_options(p)
    p.set_defaults(run=run)


class UsageError(Exception):
    pass


def build_options(args, config_path=None, symbols_path=None):
    """Options for checker.check_image from the command line and [tool.kimage]."""
    from validator import checker, loaders, settings
    from validator.textsafe import escape_text

    try:
        project = settings.load()
    except settings.SettingsError as exc:
        raise UsageError(escape_text(str(exc))) from None
    options = checker.Options()
    # --config/--system-map name themselves in messages; lint's pairs are named by path
    config_what = "" if config_path else "--config"
    symbols_what = "" if symbols_path else "--system-map"
    config_path = config_path or getattr(args, "config", None)
    symbols_path = symbols_path or getattr(args, "system_map", None)
    target = args.target or project.target
    # each reader is imported only when its input is given (start-up time)
    if config_path:
        from validator import kconfig

        try:
            options.config = kconfig.load(config_path, what=config_what)
        except kconfig.ConfigError as exc:
            raise UsageError(escape_text(str(exc))) from None
    if symbols_path:
        from validator import sysmap

        try:
            options.symbols = sysmap.load(symbols_path, what=symbols_what)
        except sysmap.SymbolsError as exc:
            raise UsageError(escape_text(str(exc))) from None
    if target:
        from validator import targets

        try:
            options.target = targets.parse_target(target)
        except targets.TargetError as exc:
            raise UsageError(str(exc)) from None
    wanted = set(args.loader or project.loaders)  # NAME or NAME@VERSION
    for spec in sorted(wanted):
        try:
            loaders.parse_spec(spec)
        except loaders.LoaderSpecError as exc:
            raise UsageError(escape_text(str(exc))) from None
    options.loaders = wanted
    options.limits = limits(args, decode_all=True)
    options.fields = args.format in WHOLE_RESULT  # the fields are for display only
    options.selection = checker.Selection(
        select=_ids(args.select) if args.select is not None else project.select,
        ignore=_ids(args.ignore) if args.ignore is not None else project.ignore,
        severity=project.severity)
    # every name must be a rule or a namespace: a typo would select nothing, silently
    selection = options.selection
    if selection.select or selection.ignore or selection.severity:
        from validator.rules.registry import check_patterns

        table = f"{project.path}: [tool.kimage]"
        error = (check_patterns(selection.select, "--select" if args.select is not None
                                else f"{table} select")
                 or check_patterns(selection.ignore, "--ignore" if args.ignore is not None
                                   else f"{table} ignore")
                 or check_patterns(selection.severity, f"{table.rstrip(']')}.severity]",
                                   exact=True))
        if error:
            raise UsageError(escape_text(error))
    fail_on = args.fail_on or project.fail_on or "error"
    return options, fail_on


def _ids(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def render(results, fmt: str) -> str:
    from validator import report

    if fmt == "json":
        return report.render_json(results)
    if fmt == "sarif":
        from validator import sarif

        return sarif.render_sarif(results)
    return report.render_check_text(results)


def run(args) -> int:
    """Every IMAGE gets a result, in order: one that cannot be read an unreadable entry
    (and its one-line error on stderr), and then the exit status is 2."""
    from validator import checker
    from validator.commands._ci import Output

    try:
        options, fail_on = build_options(args)
        once_stdin(args.images)
        # fingerprints: an IMAGE by its own name; SARIF: relative to the working directory
        out = Output(args, roots=args.images, uri_roots=["."], error=UsageError,
                     fail_on=fail_on, inputs=[
                         *args.images, *filter(None, (args.config, args.system_map))])
    except UsageError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    results, unreadable = each_image(args.images,
                                     lambda path: checker.check_image(path, options))
    results = [out.keep(r) for r in results]
    for r in results:
        out.each(r)
    if unreadable:
        return out.finish(EXIT_USAGE, fail_on)
    return out.finish(EXIT_FINDINGS if any(checker.exceeds(r, fail_on) for r in results)
                      else EXIT_OK, fail_on)


def once_stdin(paths: list[str]) -> None:
    """``-`` (standard input) may be given once."""
    if paths.count(STDIN) > 1:
        raise UsageError("- (standard input) given more than once; it can be read once")


def each_image(paths: list[str], analyse):
    """([result of each path, an unreadable result where it cannot be read], whether
    one could not); each one that cannot be read says so in one line on stderr."""
    from validator.io.source import InputError

    results, unreadable = [], False
    for path in paths:
        try:
            if path == STDIN:  # its module imported only then (start-up time)
                from validator.commands._stdin import analysed

                results.append(analysed(path, analyse))
            else:
                results.append(analyse(path))
        except InputError as exc:
            from validator import checker
            from validator.textsafe import escape_text

            print(f"kimage: {escape_text(str(exc))}", file=sys.stderr)
            results.append(checker.unreadable(path, exc))
            unreadable = True
    return results, unreadable
