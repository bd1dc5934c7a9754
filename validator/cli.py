"""The ``kimage`` command: wires sources, layers, handlers, rules and reports.

Each subcommand lives in ``validator.commands.<name>`` with ``register(subparsers)``,
which adds its parser and sets ``run``, and an ``ORDER`` number for ``--help``. Command
modules import their heavy parts only when they run.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from validator import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _command_modules():
    """Every module in validator.commands, in the order of their ``ORDER`` attribute."""
    from validator import commands

    modules = [importlib.import_module(f"validator.commands.{m.name}")
               for m in pkgutil.iter_modules(commands.__path__)]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimage",
        description="Inspect and validate Linux kernel boot-image headers "
                    "(arm64 Image, ppc64 head).")
    parser.add_argument("--version", action="version", version=f"kimage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser
