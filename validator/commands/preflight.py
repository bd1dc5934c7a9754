"""kimage preflight IMAGE: will this crash kernel load into this host's region, and run?"""

from __future__ import annotations

import json
import sys

from validator.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

ORDER = 40


def register(sub) -> None:
    p = sub.add_parser(
        "preflight",
        help="kdump pre-flight: would `kexec -p IMAGE` load on this host and run?",
        description="Read the host from /proc and /sys (or --sysroot) and decide, step by "
                    "step with evidence, whether IMAGE would load as a crash kernel and run. "
                    "Writes nothing; needs no root. Exit 0: would load and run (pass or "
                    "warn); 1: would not; 2: unreadable input or usage error.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--initrd", metavar="F",
                   help="the initramfs that will be loaded with it (a regular file; an "
                        "empty one or one that is not cpio is a warning)")
    p.add_argument("--crashkernel", metavar="SIZE[@BASE]", action="append",
                   help="decide for this region instead of the host's, as crashkernel= "
                        "gives it: SIZE[@BASE] (e.g. 512M@0xa0000000; arm64: BASE 2 MiB "
                        "aligned), RANGES[@BASE], or SIZE,high (repeat the option to add "
                        "SIZE,low)")
    p.add_argument("--sysroot", metavar="DIR", default="/",
                   help="read the host from DIR laid out like / (default: /)")
    p.add_argument("--loader", choices=("kexec-tools", "kexec-file"),
                   help="kexec-tools: kexec -p (kexec_load); kexec-file: kexec -p -s "
                        "(kexec_file_load); default: decide both, report the better")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.checker import Options, check_image
    from validator.kdump.host import HostError, read_host
    from validator.kdump.render import render_preflight
    from validator.kdump.report import run as decide_all
    from validator.kdump.rules import LOADERS
    from validator.source import InputError

    try:
        host = read_host(args.sysroot, args.crashkernel)
    except HostError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    initrd = None
    try:
        if args.initrd is not None:
            from validator.kdump.initrd import probe

            initrd = probe(args.initrd)
        result = check_image(args.image, Options())
    except InputError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    loaders = (args.loader,) if args.loader else LOADERS
    report = decide_all(result, host, loaders, initrd)
    if args.format == "json":
        out = json.dumps(report.to_dict(), indent=2) + "\n"
    else:
        out = render_preflight(report)
    sys.stdout.write(out)
    return EXIT_FINDINGS if report.verdict == "fail" else EXIT_OK
