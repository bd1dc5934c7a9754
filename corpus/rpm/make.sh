#!/bin/sh
# Build Fedora-style kernel RPMs with the real rpmbuild from the real Debian kernels the
# corpus keeps as excerpts (corpus/real/*: materialised at their real size and offsets),
# and a kexec-tools package for the rpm database test. Nothing here is committed: the
# packages land in OUT (default build/rpm); tests read their facts from rpm -qp and
# rpm2cpio | cpio, never from kimage.
#
#   sh corpus/rpm/make.sh [OUT] [kexec-tools]   # (kexec-tools: that package only)
#   sh corpus/rpm/make.sh [OUT] real DEB        # Debian's whole linux-image DEB (as
#                                                 tests/test_deb_real.py fetches it into
#                                                 build/deb) as a Fedora kernel-core:
#                                                 vmlinuz, config, System.map, every module
#                                                 and dtb under lib/modules/V/ (~350 MiB
#                                                 decoded, the kernel last), zstd
#
# Packages (NAME-VERSION-RELEASE.ARCH.rpm, payload codec by _binary_payload):
#   (w3.zstdio, w2.xzdio, w6.gzdio: the codecs rpm names in PAYLOADCOMPRESSOR; Fedora
#   uses w19.zstdio, a slower level of the same format)
#   kernel-core x86_64  zstd / xz / gzip   lib/modules/V/{System.map,config,vmlinuz,...}
#                                           and %ghost /boot/vmlinuz-V, as Fedora ships it
#   kernel-core aarch64 zstd                the same layout, Debian's arm64 Image
#   kernel      ppc64le zstd                the /boot layout: boot/{config,System.map,
#                                           vmlinux}-V, then an 80 MiB module (the payload
#                                           decodes to more than kimage's 64 MiB cap)
#   kexec-tools x86_64  zstd                /usr/sbin/kexec (a script), for --justdb
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/build/rpm}
ONLY=${2:-}
DEB=${3:-}
PY=${PYTHON:-python3}
command -v rpmbuild >/dev/null || { echo "make.sh: rpmbuild is missing (apt-get install rpm)" >&2; exit 77; }
mkdir -p "$OUT/src" "$OUT/top"
OUT=$(cd "$OUT" && pwd)
if [ "$ONLY" = real ]; then
    [ -f "$DEB" ] || { echo "make.sh: real needs a linux-image .deb" >&2; exit 2; }
    arch=$(dpkg-deb -f "$DEB" Architecture)
    case $arch in arm64) rarch=aarch64;; amd64) rarch=x86_64;; ppc64el) rarch=ppc64le;;
        *) echo "make.sh: $arch?" >&2; exit 2;; esac
    x=$OUT/real-x
    rm -rf "$x" && dpkg-deb -x "$DEB" "$x"
    kver=$(cd "$x/boot" && ls vmlinu?-* | head -1 | sed 's/^vmlinu.-//')
    kfile=$(cd "$x/boot" && ls vmlinu?-* | head -1)
    version=$(dpkg-deb -f "$DEB" Version | sed 's/[-+~:]/_/g')
    spec=$OUT/top/kernel-core-real.spec
    cat > "$spec" <<SPEC
Name: kernel-core
Version: ${version}
Release: real.kimage
Summary: Debian's $(basename "$DEB") as a Fedora kernel-core (kimage test corpus)
License: GPL-2.0-only
%description
The files of Debian's linux-image package in Fedora's kernel-core layout.
%install
d=%{buildroot}/lib/modules/$kver
mkdir -p \$d %{buildroot}/boot
cp -a $x/lib/modules/$kver/. \$d/
if [ -d $x/usr/lib/linux-image-$kver ]; then cp -a $x/usr/lib/linux-image-$kver \$d/dtb; fi
cp $x/boot/$kfile \$d/vmlinuz
cp $x/boot/config-$kver \$d/config
cp $x/boot/System.map-$kver \$d/System.map
touch %{buildroot}/boot/vmlinuz-$kver
%files
/lib/modules/$kver
%ghost /boot/vmlinuz-$kver
SPEC
    rpmbuild -bb --quiet --target "$rarch" --define "_topdir $OUT/top" --define "_rpmdir $OUT" \
        --define "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm" \
        --define "_binary_payload w3.zstdio" \
        --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
        --define "_build_id_links none" "$spec" >/dev/null
    rm -rf "$x" "$OUT/top/BUILD" "$OUT/top/BUILDROOT"
    ls "$OUT"/kernel-core-*real*.rpm
    exit 0
fi
[ -n "$ONLY" ] || "$PY" "$HERE/fill.py" --out "$OUT/src"

# build NAME ARCH KVER LAYOUT PAYLOAD DEBNAME
build() {
    name=$1 arch=$2 kver=$3 layout=$4 payload=$5 deb=$6
    src=$OUT/src/$deb
    real=$ROOT/corpus/real/$deb
    tag=$(echo "$payload" | sed 's/^w[0-9]*\.//; s/dio$//')
    spec=$OUT/top/$name-$arch-$tag.spec
    {
        echo "Name: $name"
        echo "Version: 6.1.176"
        echo "Release: 50.kimage.$tag"
        echo "Summary: Debian's $deb kernel in a Fedora-style package (kimage test corpus)"
        echo "License: GPL-2.0-only"
        echo "%description"
        echo "The kernel of Debian's linux-image package, repackaged for kimage's tests."
        echo "%install"
        if [ "$layout" = fedora ]; then
            d=%{buildroot}/lib/modules/$kver
            echo "mkdir -p $d/kernel/drivers %{buildroot}/boot"
            echo "cp $real/config $d/config"
            echo "cp $real/symbols $d/System.map"
            echo "cp $src $d/vmlinuz"
            echo "printf 'kernel/drivers/kimage.ko\n' > $d/modules.builtin"
            echo "head -c 65536 /dev/urandom > $d/kernel/drivers/kimage.ko"
            echo "touch %{buildroot}/boot/vmlinuz-$kver"
            echo "%files"
            echo "/lib/modules/$kver"
            echo "%ghost /boot/vmlinuz-$kver"
        else
            b=%{buildroot}/boot
            echo "mkdir -p $b"
            echo "cp $real/config $b/config-$kver"
            echo "cp $real/symbols $b/System.map-$kver"
            echo "cp $src $b/vmlinux-$kver"
            echo "mkdir -p %{buildroot}/lib/modules/$kver/kernel"
            echo "head -c 83886080 /dev/urandom > %{buildroot}/lib/modules/$kver/kernel/big.ko"
            echo "%files"
            echo "/boot/config-$kver"
            echo "/boot/System.map-$kver"
            echo "/boot/vmlinux-$kver"
            echo "/lib/modules/$kver"
        fi
    } > "$spec"
    rpmbuild -bb --quiet --target "$arch" \
        --define "_topdir $OUT/top" --define "_rpmdir $OUT" \
        --define "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm" \
        --define "_binary_payload $payload" \
        --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
        --define "_build_id_links none" "$spec" >/dev/null
}

[ -n "$ONLY" ] || {
build kernel-core x86_64 6.1.0-50-amd64 fedora w3.zstdio debian-6.1.0-50-amd64
build kernel-core x86_64 6.1.0-50-amd64 fedora w2.xzdio debian-6.1.0-50-amd64
build kernel-core x86_64 6.1.0-50-amd64 fedora w6.gzdio debian-6.1.0-50-amd64
build kernel-core aarch64 6.1.0-50-arm64 fedora w3.zstdio debian-6.1.0-50-arm64
build kernel ppc64le 6.1.0-50-powerpc64le boot w3.zstdio debian-6.1.0-50-powerpc64le
}

# kexec-tools (the name and version preflight reads from the rpm database)
spec=$OUT/top/kexec-tools.spec
cat > "$spec" <<'SPEC'
Name: kexec-tools
Version: 2.0.28
Release: 1.kimage
Summary: A kexec-tools-named package for kimage's rpm database test
License: GPL-2.0-only
%description
Stands in for Fedora's kexec-tools in a test rpm database (the name and version only).
%install
mkdir -p %{buildroot}/usr/sbin
printf '#!/bin/sh\necho "kexec-tools 2.0.28"\n' > %{buildroot}/usr/sbin/kexec
chmod 755 %{buildroot}/usr/sbin/kexec
%files
/usr/sbin/kexec
SPEC
rpmbuild -bb --quiet --target x86_64 --define "_topdir $OUT/top" --define "_rpmdir $OUT" \
    --define "_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm" \
    --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
    --define "_build_id_links none" "$spec" >/dev/null
rm -rf "$OUT/top/BUILD" "$OUT/top/BUILDROOT" "$OUT/src"
ls "$OUT"/*.rpm
