"""loadertruth: run the real boot loaders on kernel images and record their verdicts.

The loaders are Debian's own builds, installed by ``loadertruth/install.sh`` into a
cache directory (``build/loadertruth`` by default, ``$LOADERTRUTH_CACHE`` to move it):

- ``kexec-tools``        kexec-tools' ``kexec -l`` (kexec_load path), arm64 or ppc64el
                         build under qemu-user
- ``kexec-tools-file``   ``kexec -s -l``: kexec-tools' userspace half of kexec_file_load
- ``kexec-tools-crash``  ``kexec -p``: a panic kernel into a fixture crashkernel region
- ``u-boot``             U-Boot ``booti`` (qemu_arm64) under qemu-system-aarch64
- ``efi``                EDK2 (qemu-efi-aarch64) starting the image as an EFI application
- ``grub``               Debian's signed GRUB (grub-efi-arm64-signed) under that EDK2:
                         ``linux`` then ``boot``
- ``qemu``               qemu-system-aarch64 ``-M virt -kernel`` (QEMU's own loader, no
                         firmware), observed at the kernel's first instruction
- ``kexec-file-kernel``  the kernel's own kexec_file_load(2) in an arm64 Linux 6.1 guest
                         under qemu-system-aarch64 (``-crash``: KEXEC_FILE_ON_CRASH);
                         all images in one guest boot (``kexec_file_kernel.py``)

Each run gives one :class:`loadertruth.common.Verdict`; ``python -m loadertruth.run``
writes them as a JSON list keyed by (image, loader).
"""

__all__ = ["LOADERS"]

#: Loader names, in the order ``run.py`` runs them.
LOADERS = ("kexec-tools", "kexec-tools-file", "kexec-tools-crash", "u-boot", "efi", "grub",
           "kexec-file-kernel", "kexec-file-kernel-crash", "qemu")
