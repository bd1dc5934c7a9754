#!/bin/bash
# Cross-build the small real kernels behind corpus/kernels/ from Debian's linux-source-6.1
# with Debian's cross compilers, then store their artefacts and independent facts.
#
#   corpus/build-kernels.sh [VARIANT...]      # default: every variant below
#
# Needs (Debian 12, as root):
#   apt-get install -y linux-source-6.1 gcc-aarch64-linux-gnu gcc-powerpc64-linux-gnu \
#     gcc-powerpc64le-linux-gnu bc bison flex libssl-dev libelf-dev u-boot-tools mkbootimg \
#     lz4 zstd xz-utils cpio dpkg-dev file binutils-aarch64-linux-gnu
# Each variant is tinyconfig plus a few options; a build takes 1.5-2.5 minutes on 2 cores.
# The corpus was made from linux-source-6.1 6.1.176-1 with gcc 12.2.0 / binutils 2.40.
# Kernel builds embed a timestamp, build number and BuildID; KBUILD_BUILD_* below pin
# the first three, so rebuilt banners match, but BuildIDs and a few bytes may still differ.
set -eu
WORK=${WORK:-/tmp/kbuild}
SRC=$WORK/src
OUT=$WORK/out
HERE=$(cd "$(dirname "$0")" && pwd)
export KBUILD_BUILD_USER=root KBUILD_BUILD_HOST=vm KBUILD_BUILD_VERSION=1 \
       KBUILD_BUILD_TIMESTAMP="Mon Nov 23 12:00:00 UTC 2026"

if [ ! -f "$SRC/Makefile" ]; then
  mkdir -p "$SRC"
  tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$SRC" --strip-components=1
fi

COMMON="-e PRINTK -d IKCONFIG -d MODULES -d NET"
EFI="-e ARM64_4K_PAGES -d ARM64_16K_PAGES -d ARM64_64K_PAGES -e EFI -e EFI_STUB -e RELOCATABLE"
PSER="-e PPC64 -e PPC_BOOK3S_64 -e PPC_PSERIES"
A64="arm64 aarch64-linux-gnu-"

# name | ARCH CROSS_COMPILE | scripts/config arguments after COMMON | make targets | images
variant() {
  case $1 in
  arm64-4k-le-efi)        echo "$A64|$EFI|Image Image.gz|arch/arm64/boot/Image arch/arm64/boot/Image.gz";;
  arm64-4k-le-zboot-gzip) echo "$A64|$EFI -e EFI_ZBOOT -d KERNEL_XZ -e KERNEL_GZIP|vmlinuz.efi|arch/arm64/boot/Image arch/arm64/boot/vmlinuz.efi";;
  arm64-4k-le-zboot-zstd) echo "$A64|$EFI -e EFI_ZBOOT -d KERNEL_XZ -e KERNEL_ZSTD|vmlinuz.efi|arch/arm64/boot/Image arch/arm64/boot/vmlinuz.efi";;
  arm64-64k-be-noefi)     echo "$A64|-e CPU_BIG_ENDIAN -d CPU_LITTLE_ENDIAN -d ARM64_4K_PAGES -e ARM64_64K_PAGES -d EFI|Image|arch/arm64/boot/Image";;
  arm64-16k-le-noefi)     echo "$A64|-d ARM64_4K_PAGES -e ARM64_16K_PAGES -d EFI|Image|arch/arm64/boot/Image";;
  ppc64-be-reloc)         echo "powerpc powerpc64-linux-gnu-|$PSER -e CPU_BIG_ENDIAN -d CPU_LITTLE_ENDIAN -e RELOCATABLE -e CRASH_DUMP|vmlinux|";;
  ppc64-be-noreloc)       echo "powerpc powerpc64-linux-gnu-|$PSER -e CPU_BIG_ENDIAN -d CPU_LITTLE_ENDIAN -d RELOCATABLE -d CRASH_DUMP|vmlinux|";;
  ppc64le-reloc)          echo "powerpc powerpc64le-linux-gnu-|$PSER -d CPU_BIG_ENDIAN -e CPU_LITTLE_ENDIAN -e RELOCATABLE -e CRASH_DUMP|vmlinux|";;
  ppc64-be-reloc-test)    echo "powerpc powerpc64-linux-gnu-|$PSER -e CPU_BIG_ENDIAN -d CPU_LITTLE_ENDIAN -e RELOCATABLE -e CRASH_DUMP -e RELOCATABLE_TEST|vmlinux|";;
  ppc64e-book3e-reloc)    echo "powerpc powerpc64-linux-gnu-|-e PPC64 -d PPC_BOOK3S_64 -e PPC_BOOK3E_64 -e CPU_BIG_ENDIAN -e FSL_SOC_BOOKE -e CORENET_GENERIC -e RELOCATABLE|vmlinux|";;
  *) echo "unknown variant $1" >&2; return 2;;
  esac
}

ALL="arm64-4k-le-efi arm64-4k-le-zboot-gzip arm64-4k-le-zboot-zstd arm64-64k-be-noefi
     arm64-16k-le-noefi ppc64-be-reloc ppc64-be-noreloc ppc64le-reloc ppc64-be-reloc-test
     ppc64e-book3e-reloc"

for name in ${*:-$ALL}; do
  IFS='|' read -r archcross args targets images <<<"$(variant "$name")"
  read -r arch cross <<<"$archcross"
  O=$WORK/build/$name
  mkdir -p "$O" "$OUT/$name"
  MK="make -C $SRC O=$O ARCH=$arch CROSS_COMPILE=$cross"
  $MK tinyconfig >/dev/null
  # twice: some options only become visible once the first pass has set their dependencies
  for _ in 1 2; do
    # shellcheck disable=SC2086
    "$SRC/scripts/config" --file "$O/.config" $COMMON $args
    $MK olddefconfig >/dev/null
  done
  # shellcheck disable=SC2086
  $MK -j"$(nproc)" $targets >"$O/build.log" 2>&1
  for f in $images; do cp "$O/$f" "$OUT/$name/"; done
  cp "$O/vmlinux" "$OUT/$name/vmlinux"
  cp "$O/.config" "$OUT/$name/config"
  cp "$O/System.map" "$OUT/$name/System.map"
  echo "built $name"
done

python3 "$HERE/kernels/make_corpus.py" --out-dir "$OUT" --dest "${DEST:-$HERE/kernels}" ${*:-}
