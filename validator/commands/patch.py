"""kimage patch IMAGE --run-at-load 1|run0 -o OUT: write the 0x5c word as a loader does."""

from __future__ import annotations

import sys

from validator.commands import EXIT_OK, EXIT_USAGE

ORDER = 50


def register(sub) -> None:
    p = sub.add_parser(
        "patch",
        help="write ppc64 __run_at_load (0x5c) as a kdump loader does, into a copy",
        description="Write the ppc64 __run_at_load word (first PT_LOAD + 0x5c, in the "
                    "kernel's byte order) as kexec-tools and kexec_file_load do for a crash "
                    "kernel. The copy is written to a temporary file beside its destination, "
                    "fsynced, re-parsed, and only then given its name. With -o, IMAGE is "
                    "only read; OUT is created without replacing anything (an OUT that "
                    "appears meanwhile is refused), belongs to you and has IMAGE's "
                    "permission bits without set-user-ID/set-group-ID. --in-place replaces "
                    "IMAGE, keeping its owner, group, mode and extended attributes (ACLs) "
                    "where permitted; set-id bits only if owner and group are kept. Never "
                    "written over: a device, FIFO, socket, directory or symbolic link at "
                    "OUT, even with --force. IMAGE must be a regular file. Exit 2 on every "
                    "refusal (one line), e.g. an image with no __run_at_load.")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--run-at-load", required=True, choices=("1", "run0"), metavar="1|run0",
                   help="1: run where loaded (what a kdump loader writes); run0: the value "
                        "a relocatable kernel is built with")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="OUT",
                       help="write the patched copy here (must not exist, unless --force)")
    where.add_argument("--in-place", action="store_true",
                       help="replace IMAGE itself (atomically, through a temporary file; "
                            "a symbolic link IMAGE: the file it names); refused if IMAGE "
                            "has other hard links, unless --force")
    p.add_argument("--force", action="store_true",
                   help="replace an existing OUT if it is a regular file (never anything "
                        "else); with --in-place, also an IMAGE with other hard links, which "
                        "then keep the old bytes")
    p.set_defaults(run=run)


def run(args) -> int:
    from validator.kdump.patch import VALUES, PatchError, write_run_at_load
    from validator.source import InputError

    try:
        plan, dest = write_run_at_load(args.image, VALUES[args.run_at_load], args.output,
                                       in_place=args.in_place, force=args.force)
    except (PatchError, InputError) as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = exc.filename or args.output or args.image
        print(f"kimage: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{dest}: {plan.describe()}")
    return EXIT_OK
