#!/usr/bin/env bash
# Build the kvmctl test guest into OUTDIR: vmlinuz, initrd.img, disk.qcow2.
# Called by `scripts/lab.sh guest`, which builds into a temporary folder and
# renames it into place. Needs: linux-image-cloud-amd64 busybox-static cpio
# syslinux syslinux-common mtools dosfstools fdisk qemu-utils.
# No loop devices, no mounts: the disk is assembled with mtools + sfdisk + dd.
set -euo pipefail

out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LC_ALL=C

kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "build.sh: no /boot/vmlinuz-*-cloud-amd64 (install linux-image-cloud-amd64)" >&2; exit 1; }
kver=${kernel#/boot/vmlinuz-}
moddir=/usr/lib/modules/$kver

rm -rf "$out"
mkdir -p "$out"
work=$out/.work
mkdir -p "$work/root"

# ---- initramfs
r=$work/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc/acpi/PWRF,lib/modules,var/log}
cp /bin/busybox "$r/bin/busybox"
install -m 0755 "$src/init" "$r/init"
install -m 0755 "$src/udhcpc.script" "$r/etc/udhcpc.script"
# busybox acpid runs /etc/acpi/<ACTION>/<PARAM> for the power button event.
install -m 0755 "$src/poweroff.sh" "$r/etc/acpi/PWRF/00000080"
mknod -m 0600 "$r/dev/console" c 5 1
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
  failover net_failover virtio_net virtio_blk virtio_balloon button evdev; do
  f=$(find "$moddir/kernel" -name "$m.ko" | head -n 1)
  [ -n "$f" ] || { echo "build.sh: module $m not found in $moddir" >&2; exit 1; }
  cp "$f" "$r/lib/modules/$m.ko"
done
echo "$kver" >"$r/etc/kernel-release"
(cd "$r" && find . | sort | cpio -o -H newc --quiet -R 0:0 | gzip -9) >"$work/initrd.img"
cp "$kernel" "$work/vmlinuz"

# ---- BIOS-bootable disk: MBR + one FAT16 partition at 1 MiB with syslinux
disk_mib=64
part_mib=$((disk_mib - 1))
truncate -s "${part_mib}M" "$work/part.img"
mkfs.vfat -n KVMCTL "$work/part.img" >/dev/null
mcopy -i "$work/part.img" "$work/vmlinuz" "$work/initrd.img" "$src/syslinux.cfg" ::/
syslinux --install "$work/part.img"
truncate -s "${disk_mib}M" "$work/disk.raw"
printf 'label: dos\nstart=2048, type=c, bootable\n' | sfdisk -q "$work/disk.raw"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/part.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"

mv "$work/vmlinuz" "$work/initrd.img" "$work/disk.qcow2" "$out/"
echo "$kver" >"$out/kernel-release"
chmod 0644 "$out"/vmlinuz "$out"/initrd.img "$out"/disk.qcow2
rm -rf "$work"
