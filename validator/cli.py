"""The ``kimage`` command: wires sources, layers, handlers, rules and reports.

Each subcommand lives in ``validator.commands.<name>`` with ``register(subparsers)``,
which adds its parser and sets ``run``, and an ``ORDER`` number for ``--help``. Command
modules import their heavy parts only when they run.

Start-up time is part of the interface (bench/coldstart.py): when the first argument
names a command, only that command's module is imported; ``kimage``, ``kimage --help``
and anything else import them all. Modules are found by listing the package directory
(``pkgutil.iter_modules`` would import ``inspect``), and argparse's help formatter is
one that does not import ``shutil`` (see ``_Formatter``).

Run as the ``kimage`` program (the console script or ``python -m validator``), the
process also starts without cyclic garbage collection (start-up allocates only what lives
to the end: modules, the parser) and collects again, the start-up objects frozen, once the
command line is parsed (the young every ``GC_YOUNG`` allocations, not 700); when the
command returns, it flushes its output and ends without tearing the interpreter down
(``_program_exit``). argparse looks up its message catalog once, not for every message
(``_gettext``).
"""

from __future__ import annotations

import gc
import os
import sys

# the console script's __main__ (or validator/__main__.py) is running its first line
_ARGV0 = sys.argv[0] if sys.argv else ""
_MODULE_MAIN = os.path.join(os.path.dirname(__file__), "__main__.py")
_PROGRAM = os.path.basename(_ARGV0) == "kimage" or _ARGV0 == _MODULE_MAIN
if _PROGRAM and gc.isenabled():
    gc.disable()
else:
    _PROGRAM = False

import argparse  # noqa: E402  (after the collector is off)
import gettext  # noqa: E402  (argparse's)

from validator import __version__, import_module  # noqa: E402
from validator.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE  # noqa: E402, F401 (re-exported)


def _command_names() -> list[str]:
    """Module names in validator.commands, found without importing them."""
    from validator import commands

    names = set()
    for directory in commands.__path__:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            name, ext = os.path.splitext(entry)
            if name.startswith("_") or not name.isidentifier():
                continue
            if ext == ".py" or (not ext and os.path.isfile(
                    os.path.join(directory, entry, "__init__.py"))):
                names.add(name)
    if not names:  # not a directory on disk (a zip): ask the import system
        import pkgutil

        names = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    return sorted(names)


def _command_modules(only: str | None = None):
    """The command modules in ``ORDER``; just ``only``'s when that names one (imported
    by its name: the package is listed only when it does not)."""
    if only is not None and only.isidentifier() and not only.startswith("_"):
        try:
            return [import_module(f"validator.commands.{only}")]
        except ModuleNotFoundError as exc:
            if exc.name != f"validator.commands.{only}":
                raise
    names = _command_names()
    modules = [import_module(f"validator.commands.{name}") for name in names]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


#: Objects the program allocates between young-generation collections (Python's default
#: is 700): a check of Debian's arm64 Image allocates about 5,600 that the collector
#: tracks and collected them eight times, 1 M instructions of 107 M (bench/coldstart.py);
#: lint collects a seventh as often. Cycles still go, a few thousand objects later.
GC_YOUNG = 5000


def main(argv: list[str] | None = None) -> int:
    program = argv is None and _PROGRAM
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = (build_parser(commands=False) if argv == ["--version"] else
                  build_parser(argv[0] if argv and not argv[0].startswith("-") else None))
        args = parser.parse_args(argv)
    finally:
        if _PROGRAM and not gc.isenabled():
            gc.freeze()  # what start-up made lives to the end: never scanned again
            gc.set_threshold(GC_YOUNG)
            gc.enable()
    try:
        status = args.run(args)
    except BrokenPipeError:
        status = EXIT_OK
    except KeyboardInterrupt:
        status = 130
    if program and getattr(sys.modules.get("__main__"), "main", None) is main:
        _program_exit(status)
    return status


def _program_exit(status: int) -> None:
    """End the ``kimage`` process now, with ``status``, when nothing is left to do at
    exit: standard output and error flushed, no ``atexit`` handler (a process pool
    registers one), no other thread. The interpreter's teardown (a last collection,
    every module's dictionary cleared) would cost a sixth of a check's start-up."""
    import atexit

    threading = sys.modules.get("threading")
    if (not isinstance(status, int) or atexit._ncallbacks()
            or (threading is not None and threading.active_count() > 1)):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # the interpreter's own exit reports it, as before
    os._exit(status)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, which imports ``shutil`` for the terminal width; argparse
    makes one for every ``add_argument``, so this one asks ``os`` instead (the same
    rules as ``shutil.get_terminal_size``: $COLUMNS, then the terminal, then 80)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """The width, asked once a run (argparse makes a formatter for every argument)."""
    if not _COLUMNS:
        _COLUMNS.append(_ask_columns())
    return _COLUMNS[0]


_COLUMNS: list[int] = []


def _ask_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser (and sub-parsers) with ``_Formatter`` unless told otherwise."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _gettext():
    """argparse's ``_``: ``gettext.gettext`` looks the catalog up again (environment,
    ``locale.normalize``, a stat per language) for every message, and argparse translates
    a dozen while building a parser. The same lookup, made once; no catalog directory, no
    catalog (and no ``locale`` import)."""
    localedir = gettext.bindtextdomain(gettext.textdomain())
    if not os.path.isdir(localedir):
        return str
    return gettext.translation(gettext.textdomain(), localedir, fallback=True).gettext


if argparse._ is gettext.gettext:  # once; not if something else replaced it
    argparse._ = _gettext()


def build_parser(command: str | None = None, commands: bool = True) -> argparse.ArgumentParser:
    """The parser with every command, or only ``command``'s (falls back to every command
    when no module registers that name), or none (``commands=False``: ``kimage --version``
    imports no command module, where every command's parser cost more than a check)."""
    parser = _Parser(
        prog="kimage",
        description="Inspect and validate Linux kernel boot-image headers "
                    "(arm64 Image, ppc64 head).")
    parser.add_argument("--version", action="version", version=f"kimage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                prog=parser.prog)
    if not commands:
        return parser
    for module in _command_modules(command):
        module.register(sub)
    if command is not None and command not in sub.choices:
        return build_parser()
    return parser
