"""kimage preflight IMAGE: will this crash kernel load into this host's region, and run?"""

from __future__ import annotations

import json
import sys

from validator.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

ORDER = 40


def register(sub) -> None:
    p = sub.add_parser(
        "preflight",
        help="kdump pre-flight: would `kexec -p IMAGE` load on this host and run?",
        description="Read the host from /proc and /sys (or --sysroot) and decide, step by "
                    "step with evidence, whether IMAGE would load as a crash kernel and run. "
                    "Writes nothing; needs no root. Exit 0: would load and run (pass or "
                    "warn); 1: would not; 2: unreadable input or usage error.")
    p.add_argument("image", metavar="IMAGE", nargs="?",
                   help="the capture kernel; without it, the one the host's kdump "
                        "configuration names (kdump-tools, kdumpctl, else "
                        "/boot/vmlinuz-$(uname -r)), with its initrd and command line")
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
    p.add_argument("--loader", metavar="L",
                   help="kexec-tools[@VERSION]: kexec -p -c (kexec_load; @VERSION as "
                        "--kexec-tools); kexec-file: kexec -p -s "
                        "(kexec_file_load); default: the path the host's kexec -p takes "
                        "(its kexec-tools release and the kdump tool's arguments), or, "
                        "when neither is known, both decided and the better reported")
    p.add_argument("--kexec-tools", metavar="VERSION", dest="kexec_tools",
                   help="model this kexec-tools release (e.g. 2.0.29) instead of the one "
                        "the host has installed (dpkg status, else the kexec binary's "
                        "version string): from 2.0.27 plain kexec -p tries "
                        "kexec_file_load first and falls back to kexec_load only on "
                        "ENOSYS, EINVAL, ENOEXEC or ENOTSUP")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--brief", action="store_true",
                   help="one line (verdict, loader, deciding steps and rule IDs, the "
                        "recommended crashkernel=) for cron or a unit; the exit code as "
                        "without it")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.kdump.host import HostError, read_host
    from validator.source import InputError

    if args.loader is not None:
        name, _, version = args.loader.partition("@")
        if name not in ("kexec-tools", "kexec-file") or (version and name != "kexec-tools"):
            print(f"kimage: --loader {args.loader}: expected kexec-tools[@VERSION] or "
                  f"kexec-file (the kernel's release is the host's)", file=sys.stderr)
            return EXIT_USAGE
        args.loader = name
        if version and args.kexec_tools is None:
            args.kexec_tools = version
    if args.kexec_tools is not None:
        from validator.loaders import LoaderSpecError, parse_spec

        try:
            parse_spec(f"kexec-tools@{args.kexec_tools}")
        except LoaderSpecError as exc:
            print(f"kimage: --kexec-tools {args.kexec_tools}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        host = read_host(args.sysroot, args.crashkernel)
    except HostError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.image is None:
            from validator.commands._preflight_host import discovered

            made = discovered(args.sysroot, host, args.initrd)
            if isinstance(made, str):
                print(f"kimage: {made}", file=sys.stderr)
                return EXIT_USAGE
            result, initrd, discovery, cpus = made
        else:
            result, initrd, discovery, cpus = _given(args, host)
    except InputError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from validator.kdump.render import render_brief, render_preflight
    from validator.kdump.report import run as decide_all
    from validator.kdump.rules import LOADERS

    loaders = ((args.loader,) if args.loader else (discovery.loader,) if discovery
               else LOADERS)
    kexec_args = list(discovery.kexec_args) if discovery else []
    if args.loader:
        kexec_args.append({"kexec-tools": "-c", "kexec-file": "-s"}[args.loader])
    report = decide_all(result, host, loaders, initrd, discovery, cpus,
                        _tools(args, host), kexec_args)
    if args.format == "json":
        out = json.dumps(report.to_dict(), indent=2) + "\n"
    elif args.brief:
        out = render_brief(report)
    else:
        out = render_preflight(report)
    sys.stdout.write(out)
    return EXIT_FINDINGS if report.verdict == "fail" else EXIT_OK


def _tools(args, host):
    """The kexec-tools release to model: --kexec-tools, else the host's."""
    from validator.kdump.kexecpath import Tools, build_for_distro

    build = build_for_distro(host.os_id)
    if args.kexec_tools is not None:
        return Tools(args.kexec_tools, "--kexec-tools", None, build)
    return Tools(host.kexec_tools, host.kexec_tools_source, host.kexec_tools_package, build)


def _given(args, host):
    from validator.checker import Options, check_image
    from validator.commands._preflight_host import possible_cpus_of

    initrd = None
    if args.initrd is not None:
        from validator.kdump.initramfs import contents
        from validator.kdump.initrd import probe

        initrd = probe(args.initrd)
        if not initrd["problem"]:
            found = contents(args.initrd)
            initrd.update(unpacked=found["unpacked"], dump_tool=found["dump_tool"],
                          unpack_problem=found["problem"])
    return check_image(args.image, Options()), initrd, None, possible_cpus_of(args.sysroot)
