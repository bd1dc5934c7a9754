#!/bin/sh
# UKIs made by the real tools from real kernels, for tests/test_uki_real.py.
#
#   corpus/uki/make.sh            # writes build/uki/out/*.efi and *.efi.inspect.json
#
# ukify and the arm64 systemd-stub come from Debian 13's systemd-ukify and
# systemd-boot-efi:arm64, downloaded through the private apt configuration of
# loadertruth/install.sh (`install.sh suite trixie` makes it) and unpacked with dpkg-deb
# into build/uki/root: nothing is installed. ukify runs with the system python3 and
# python3-pefile (Debian 12; loadertruth/install.sh kexec installs it), or with $PYTHON.
# Kernels: the Debian linux-image .deb in build/deb (a raw signed EFI-stub Image) and the
# cross-built zboot and Image.gz of corpus/kernels.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=$REPO/build/uki
LT=$REPO/build/loadertruth
mkdir -p "$B/debs" "$B/out" "$B/kernel"

apt_dir=$LT/apt-trixie
if [ ! -d "$apt_dir/lists" ]; then "$REPO/loadertruth/install.sh" suite trixie; fi
if [ ! -x "$B/root/usr/lib/systemd/ukify" ] || [ ! -f "$B/root/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" ]; then
    (cd "$B/debs" && apt-get -q -o "Dir::Etc::sourceparts=$apt_dir/sources" \
        -o Dir::Etc::sourcelist=/dev/null -o "Dir::State::Lists=$apt_dir/lists" \
        -o "Dir::Cache=$apt_dir/cache" -o APT::Architectures::=amd64 \
        -o APT::Architectures::=arm64 download systemd-ukify systemd-boot-efi:arm64)
    for deb in "$B"/debs/systemd-ukify_*.deb "$B"/debs/systemd-boot-efi_*_arm64.deb; do
        dpkg-deb -x "$deb" "$B/root"
    done
fi
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if /usr/bin/python3 -c 'import pefile' 2>/dev/null; then PYTHON=/usr/bin/python3
    else echo "make.sh: python3-pefile is not installed (apt-get install python3-pefile, or set PYTHON)" >&2; exit 1; fi
fi
# ukify writes a decompressed copy of an Image.gz it is given to a temporary file it
# never removes (tempfile.NamedTemporaryFile(prefix='linux-decompressed').name, then
# write_bytes): it runs with a TMPDIR of its own, removed when this script ends.
UKIFY_TMP=$(mktemp -d "$B/tmp.XXXXXX")
trap 'rm -rf "$UKIFY_TMP"' EXIT
UKIFY="env TMPDIR=$UKIFY_TMP $PYTHON $B/root/usr/lib/systemd/ukify"
STUB=$B/root/usr/lib/systemd/boot/efi/linuxaa64.efi.stub

deb=$(ls "$REPO"/build/deb/linux-image-*_arm64.deb | head -n1)
ver=$(basename "$deb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/vmlinuz-$ver" >"$B/kernel/vmlinuz-$ver"

# an initrd: a newc cpio of one file, as any initramfs is
printf 'kimage uki test\n' >"$B/kernel/hello"
(cd "$B/kernel" && echo hello | cpio -o -H newc --quiet >"$B/kernel/initrd.img")
cat >"$B/kernel/os-release" <<'OSR'
PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
ID=debian
OSR
dtb=$LT/fixture-arm64.dtb
[ -f "$dtb" ] || dtb=

build() {  # OUT LINUX UNAME [extra ukify arguments]
    out=$1 linux=$2 uname=$3; shift 3
    $UKIFY build --efi-arch aa64 --stub "$STUB" --linux "$linux" \
        --initrd "$B/kernel/initrd.img" --cmdline "console=ttyAMA0 root=/dev/vda2 ro" \
        --os-release "@$B/kernel/os-release" --uname "$uname" "$@" --output "$B/out/$out"
}
build debian-image.efi "$B/kernel/vmlinuz-$ver" "$ver" ${dtb:+--devicetree "$dtb"}
# the cross-built kernels' release, from their banner (corpus/kernels/*/expected.json)
tiny=6.1.176
build zboot-gzip.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi" $tiny
build zboot-zstd.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi" $tiny
build image-gz.efi "$REPO/corpus/kernels/arm64-4k-le-efi/Image.gz" $tiny
# a .uname that is not the kernel's release (uki/uname-mismatch)
build wrong-uname.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi" 6.1.0-99-arm64
for f in "$B"/out/*.efi; do
    $UKIFY --json=short inspect "$f" >"$f.inspect.json"
done
echo "make.sh: $(ls "$B"/out/*.efi | wc -l) UKIs in $B/out"
