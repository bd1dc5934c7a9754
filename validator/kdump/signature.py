"""Is there a signature a kexec_file_load under lockdown could verify?"""

from __future__ import annotations

from validator.model import ImageResult

_AUTHENTICODE = "WIN_CERTIFICATE (PE data directory 4)"
MODSIG_MAGIC = b"~Module signature appended~\n"


def signature_text(sig: dict) -> str:
    if not sig.get("present"):
        return "none"
    if sig.get("kind") == "authenticode" and sig.get("size"):
        return f"Authenticode, {sig['size']} bytes at {sig['offset']:#x}"
    return str(sig.get("kind"))


def image_signature(result: ImageResult, unwrapped: bool = False) -> dict:
    """Is there a signature a kexec_file_load under lockdown could verify?

    ``unwrapped``: the kernel is given the Image inside a zboot (kexec-tools 2.0.27+
    decompresses it first), so the inner Image's own signature is the one verified.

    arm64: an Authenticode WIN_CERTIFICATE in the PE security directory (data directory
    4), as the pipeline's PE description reports it (``derived["pe"]["authenticode"]``
    for an EFI-stub Image, the zboot layer's ``pe`` for a zboot image). ppc64: an
    appended module signature ("~Module signature appended~\\n" at the end of the file),
    which IMA appraises.
    """
    arch = result.facts.get("arch")
    # x86 bzImage: the same PE Authenticode (Linux 6.1 kexec-bzimage64.c verify_sig:
    # kexec_kernel_verify_pe_sig, CONFIG_KEXEC_BZIMAGE_VERIFY_SIG)
    if arch in ("arm64", "x86_64", "x86", "riscv64"):
        pe, where = result.derived.get("pe"), "EFI stub PE header"
        for layer in result.layers:
            if unwrapped:
                break
            if layer.kind == "zboot" and isinstance(layer.details.get("pe"), dict):
                pe, where = layer.details["pe"], "zboot PE header"
        if not isinstance(pe, dict):
            return {"kind": "authenticode", "present": False, "offset": None, "size": None,
                    "source": "no PE header (no EFI stub)"}
        cert = pe.get("authenticode")
        if not cert:
            return {"kind": "authenticode", "present": False, "offset": None, "size": None,
                    "source": f"{where}: security directory empty"}
        from validator._kaitai.pe_efi_stub import PeEfiStub

        signed_data = PeEfiStub.WinCertType.pkcs_signed_data  # the spec's win_cert_type
        present = (cert.get("in_file", True)
                   and cert.get("certificate_type", signed_data) == signed_data
                   and bool(cert.get("size")))
        return {"kind": "authenticode", "present": bool(present), "offset": cert.get("offset"),
                "size": cert.get("size"), "certificate_type": cert.get("certificate_type"),
                "source": f"{where}: {_AUTHENTICODE}"}
    if arch == "ppc64":
        from validator.source import InputError, Source
        try:
            with Source(result.path) as src:
                tail = src.read(src.size - len(MODSIG_MAGIC), len(MODSIG_MAGIC))
        except InputError as exc:
            return {"kind": "module signature", "present": False, "source": str(exc)}
        return {"kind": "module signature", "present": tail == MODSIG_MAGIC,
                "source": "appended-signature marker at the end of the file"}
    return {"kind": None, "present": False, "source": "no signature format kimage reads"}
