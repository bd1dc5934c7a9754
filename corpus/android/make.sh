#!/bin/sh
# Android boot and vendor_boot images made by AOSP's own mkbootimg from real kernels, with
# what unpack_bootimg (the same package) reads back, for tests/test_android_real.py.
#
#   corpus/android/make.sh [OUT]        # default build/android/out
#
# mkbootimg/unpack_bootimg: Debian 13's 1:34 (loadertruth/install.sh mkbootimg unpacks it
# into build/android/mkbootimg-trixie) writes header versions 0-4 and vendor_boot 3-4;
# without it, Debian 12's 1:29 (apt-get install mkbootimg) writes 0-3 and vendor_boot 3 and
# the v4 images are left out (said on stderr). MKBOOTIMG_DIR overrides where they are.
# Kernel: the cross-built arm64 Image.gz of corpus/kernels/arm64-4k-le-efi, the Image
# gunzip makes of it and Image.lz4 (`lz4 -l -12 --favor-decSpeed`, the legacy frame the
# Android kernel build writes). Needs python3, gzip, lz4 and dtc (device-tree-compiler).
#   boot-v1-lz4dtb.img    Image.lz4-dtb (Image.lz4 with the DTB appended, as pre-GKI
#                         Android kernels build it), ramdisk, page 4096
#   boot-v2.img           Image.gz, ramdisk, DTB, page 2048
#   boot-v3.img           Image.lz4, ramdisk
#   boot-v4.img           Image.lz4, ramdisk (GKI layout; this mkbootimg writes no signature)
#   boot-v4-gz.img        Image.gz, ramdisk
#   boot-v4-raw.img       Image, ramdisk
#   boot-v4-debian.img    Debian's signed arm64 Image (corpus/real, materialised: its
#                         headers, banner and signature where they are, zeros between)
#   init_boot.img         header v4, the ramdisk alone (kernel_size 0; Android 13 GKI)
#   vendor_boot-v3.img    vendor ramdisk, DTB, page 2048
#   vendor_boot-v4.img    two vendor ramdisk fragments (platform, dlkm), DTB, bootconfig
# Each IMG has IMG.unpack.txt beside it: `unpack_bootimg --boot_img IMG` (its report).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/build/android/out}
mkdir -p "$OUT/in"
OUT=$(cd "$OUT" && pwd)
IN=$OUT/in
for tool in python3 gzip lz4 dtc; do
    command -v $tool >/dev/null || { echo "make.sh: $tool missing" >&2; exit 1; }
done
dir=${MKBOOTIMG_DIR:-$REPO/build/android/mkbootimg-trixie/usr/bin}
if [ -f "$dir/mkbootimg" ]; then
    MK="python3 $dir/mkbootimg"; UNPACK="python3 $dir/unpack_bootimg"; V4=yes
elif command -v mkbootimg >/dev/null && command -v unpack_bootimg >/dev/null; then
    MK=mkbootimg; UNPACK=unpack_bootimg; V4=
    echo "make.sh: only Debian 12's mkbootimg (no v4): run loadertruth/install.sh mkbootimg" >&2
else
    echo "make.sh: mkbootimg missing (apt-get install mkbootimg; loadertruth/install.sh mkbootimg)" >&2
    exit 1
fi

gz=$REPO/corpus/kernels/arm64-4k-le-efi/Image.gz
cp "$gz" "$IN/Image.gz"
gunzip -c "$gz" >"$IN/Image"
lz4 -q -f -l -12 --favor-decSpeed "$IN/Image" "$IN/Image.lz4"
printf 'kimage test ramdisk\n' | gzip -n -9 >"$IN/ramdisk"
printf 'kimage vendor ramdisk\n' | gzip -n -9 >"$IN/vendor_ramdisk"
printf 'kimage dlkm ramdisk\n' | gzip -n -9 >"$IN/dlkm_ramdisk"
printf 'androidboot.hardware=kimage\nandroidboot.serialno=0123\n' >"$IN/bootconfig"
printf '/dts-v1/;\n/ {\n\tcompatible = "linux,dummy-virt";\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tmodel = "kimage test";\n};\n' >"$IN/board.dts"
dtc -q -I dts -O dtb -o "$IN/board.dtb" "$IN/board.dts"

boot() {  # NAME VERSION KERNEL [ARGS...]
    name=$1 version=$2 kernel=$3
    shift 3
    $MK --header_version "$version" --kernel "$IN/$kernel" --ramdisk "$IN/ramdisk" \
        --os_version 14.0.0 --os_patch_level 2024-11 "$@" -o "$OUT/$name"
    $UNPACK --boot_img "$OUT/$name" --out "$OUT/unpacked-$name" >"$OUT/$name.unpack.txt"
}
cat "$IN/Image.lz4" "$IN/board.dtb" >"$IN/Image.lz4-dtb"
boot boot-v1-lz4dtb.img 1 Image.lz4-dtb --pagesize 4096 --board kimage --cmdline "console=ttyMSM0"
boot boot-v2.img 2 Image.gz --pagesize 2048 --dtb "$IN/board.dtb" --board kimage \
    --cmdline "console=ttyAMA0 earlycon"
boot boot-v3.img 3 Image.lz4 --cmdline "console=ttyAMA0"
$MK --header_version 3 --pagesize 2048 --vendor_boot "$OUT/vendor_boot-v3.img" \
    --vendor_ramdisk "$IN/vendor_ramdisk" --dtb "$IN/board.dtb" --board kimage \
    --vendor_cmdline "androidboot.hardware=kimage"
$UNPACK --boot_img "$OUT/vendor_boot-v3.img" --out "$OUT/unpacked-vendor_boot-v3.img" \
    >"$OUT/vendor_boot-v3.img.unpack.txt"
if [ -n "$V4" ]; then
    boot boot-v4.img 4 Image.lz4 --cmdline "console=ttyAMA0 printk.devkmsg=on"
    boot boot-v4-gz.img 4 Image.gz
    boot boot-v4-raw.img 4 Image
    python3 "$REPO/corpus/materialise.py" --out "$IN/real" >/dev/null
    cp "$IN/real/debian-6.1.0-50-arm64" "$IN/Image-debian"
    rm -rf "$IN/real"
    boot boot-v4-debian.img 4 Image-debian
    $MK --header_version 4 --ramdisk "$IN/ramdisk" --os_version 14.0.0 \
        --os_patch_level 2024-11 -o "$OUT/init_boot.img"
    $UNPACK --boot_img "$OUT/init_boot.img" --out "$OUT/unpacked-init_boot.img" \
        >"$OUT/init_boot.img.unpack.txt"
    $MK --header_version 4 --pagesize 4096 --vendor_boot "$OUT/vendor_boot-v4.img" \
        --dtb "$IN/board.dtb" --board kimage --vendor_cmdline "androidboot.hardware=kimage" \
        --vendor_bootconfig "$IN/bootconfig" \
        --ramdisk_type platform --ramdisk_name "" --vendor_ramdisk_fragment "$IN/vendor_ramdisk" \
        --ramdisk_type dlkm --ramdisk_name dlkm --vendor_ramdisk_fragment "$IN/dlkm_ramdisk"
    $UNPACK --boot_img "$OUT/vendor_boot-v4.img" --out "$OUT/unpacked-vendor_boot-v4.img" \
        >"$OUT/vendor_boot-v4.img.unpack.txt"
fi
echo "make.sh: boot images in $OUT"
