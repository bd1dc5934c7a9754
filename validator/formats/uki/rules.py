"""What a UKI says of its kernel, against the kernel: its ``.uname``."""

from __future__ import annotations

from validator.catalogue import finding, rule
from validator.rules.engine import Context, check

rule("uki/uname-mismatch", "warning",
     "the UKI's .uname is not the release of the kernel in .linux",
     "ukify writes the kernel's release (uname -r) into .uname; systemd-stub uses it to "
     "match add-ons to this kernel (an add-on with another .uname is ignored) and tools such "
     "as kernel-install and bootctl name and find the modules by it. A .uname that is not "
     "the release in the kernel's banner contradicts the kernel it comes with.",
     "systemd v257 src/boot/stub.c (\".uname mismatch between %ls and UKI, ignoring\"); "
     "src/ukify/ukify.py (Uname.scrape)",
     ())


@check()
def uname_matches(ctx: Context):
    uki = ctx.layer("uki")
    if uki is None:
        return
    uname, release = uki.get("uname"), ctx.facts.get("kernel_version")
    if uname and release and uname != release:
        yield finding("uki/uname-mismatch", f".uname says {uname!r}, the kernel's banner "
                      f"{release!r}", field=".uname")
