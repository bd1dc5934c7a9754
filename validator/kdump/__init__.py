"""kdump: will this capture kernel load into this host's crash region, and run? And patch.

By concern, data flowing one way (host → steps → report):

``host``, ``hostfs``, ``hostread``   the host, read bounded and sandboxed from / or --sysroot
``toolsread``                        the installed kexec-tools (dpkg status, the rpm
                                     database, the binary's version string) and os-release
``kexecpath``                        the calls the host's ``kexec -p`` makes, and how it ends
``crashkernel``                      ``crashkernel=`` as the kernel parses and reserves it
``initrd``                           --initrd: is it a cpio the kernel unpacks
``rules``, ``hostcheck``             preflight's rule IDs; malformed host files, the initrd
``model``                            a step, one loader's decision, evidence helpers
``steps``                            the steps that read the image's verdict and the host
``placement``                        the segments each loader places in the crash region
``signature``                        the image's signature (Authenticode, module signature)
``report``, ``render``, ``schema``   the report, its text and its JSON Schema
``patch``, ``patch_dest``            ``kimage patch``: write __run_at_load into a copy

What the loaders take is validator.loaders' answer only.
"""
