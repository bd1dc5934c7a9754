#!/bin/sh
# FIT images made by U-Boot's mkimage from real kernels, for tests/test_fit_real.py.
#
#   corpus/fit/make.sh            # writes build/fit/out/*.itb
#
# mkimage: u-boot-tools (Debian 12; loadertruth/install.sh kexec installs it). Kernels: the
# cross-built arm64 Image.gz of corpus/kernels/arm64-4k-le-efi (and the Image gunzip
# makes of it), and the Debian linux-image .deb in build/deb (its raw signed Image).
#   tiny-plain.itb   mkimage -f auto, uncompressed Image
#   tiny-gzip.itb    mkimage -f auto -C gzip, Image.gz
#   tiny-hashes.itb  mkimage -f from an .its: gzip kernel with crc32, sha1 and sha256 hash
#                    nodes, and a configuration with the default
#   tiny-external.itb  the same .its with mkimage -E (data after the FDT, data-offset)
#   tiny-signed.itb    the same .its with a signature node in conf-1, signed by mkimage -k
#   debian-plain.itb   mkimage -f auto, the Debian Image
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=$REPO/build/fit
mkdir -p "$B/out" "$B/kernel"
command -v mkimage >/dev/null || { echo "make.sh: mkimage missing (apt-get install u-boot-tools)" >&2; exit 1; }
export SOURCE_DATE_EPOCH=1764979200

gz=$REPO/corpus/kernels/arm64-4k-le-efi/Image.gz
cp "$gz" "$B/kernel/Image.gz"
gunzip -c "$gz" >"$B/kernel/Image"
auto() {  # OUT COMPRESSION FILE
    mkimage -f auto -A arm64 -O linux -T kernel -C "$2" -a 0x41000000 -e 0x41000000 \
        -n "kimage test" -d "$3" "$B/out/$1" >"$B/out/$1.mkimage.txt"
}
auto tiny-plain.itb none "$B/kernel/Image"
auto tiny-gzip.itb gzip "$B/kernel/Image.gz"

cat >"$B/kernel/hashes.its" <<ITS
/dts-v1/;
/ {
    description = "kimage test FIT with hashes";
    #address-cells = <1>;
    images {
        kernel-1 {
            description = "arm64 Linux (gzip)";
            data = /incbin/("$B/kernel/Image.gz");
            type = "kernel";
            arch = "arm64";
            os = "linux";
            compression = "gzip";
            load = <0x41000000>;
            entry = <0x41000000>;
            hash-1 { algo = "crc32"; };
            hash-2 { algo = "sha1"; };
            hash-3 { algo = "sha256"; };
        };
    };
    configurations {
        default = "conf-1";
        conf-1 {
            description = "boot the kernel";
            kernel = "kernel-1";
        };
    };
};
ITS
mkimage -f "$B/kernel/hashes.its" "$B/out/tiny-hashes.itb" >"$B/out/tiny-hashes.itb.mkimage.txt"
mkimage -E -f "$B/kernel/hashes.its" "$B/out/tiny-external.itb" >"$B/out/tiny-external.itb.mkimage.txt"

# a signed configuration (mkimage -k with a throw-away RSA key made here, never stored)
if command -v openssl >/dev/null; then
    mkdir -p "$B/keys"
    [ -f "$B/keys/dev.key" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$B/keys/dev.key" 2>/dev/null
    openssl req -batch -new -x509 -key "$B/keys/dev.key" -out "$B/keys/dev.crt" \
        -subj "/CN=kimage test" -days 3650 2>/dev/null
    sed -e 's/kernel = "kernel-1";/kernel = "kernel-1";\
            signature-1 { algo = "sha256,rsa2048"; key-name-hint = "dev"; sign-images = "kernel"; };/' \
        "$B/kernel/hashes.its" >"$B/kernel/signed.its"
    mkimage -f "$B/kernel/signed.its" -k "$B/keys" "$B/out/tiny-signed.itb" \
        >"$B/out/tiny-signed.itb.mkimage.txt"
fi

deb=$(ls "$REPO"/build/deb/linux-image-*_arm64.deb 2>/dev/null | head -n1 || true)
if [ -n "$deb" ]; then
    ver=$(basename "$deb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/vmlinuz-$ver" >"$B/kernel/vmlinuz-$ver"
    auto debian-plain.itb none "$B/kernel/vmlinuz-$ver"
fi
echo "make.sh: $(ls "$B"/out/*.itb | wc -l) FIT images in $B/out"
