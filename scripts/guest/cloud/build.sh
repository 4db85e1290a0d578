#!/usr/bin/env bash
# Build a Debian 12 cloud image into OUTDIR/disk.qcow2: Debian's cloud kernel,
# cloud-init, openssh-server and qemu-guest-agent, all from Debian's packages,
# BIOS-bootable (syslinux on a FAT partition, root on ext4): the same kind of
# image as Debian's genericcloud. Called by `scripts/lab.sh cloud-image`, which
# builds into a temporary folder and renames it into place.
# Needs: debootstrap e2fsprogs dosfstools mtools syslinux syslinux-common fdisk
# qemu-utils. No loop devices; the only mounts are debootstrap's own (/proc,
# /sys in the tree), made in a private mount namespace so that none of them
# can outlive an interrupted build on the host.
set -euo pipefail

out=${1:?usage: build.sh OUTDIR}
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

# The mirror apt itself uses (deb822 or one-line sources), so the build needs
# nothing the machine cannot already reach.
mirror=${KVMCTL_CLOUD_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '$1 == "URIs:" && $2 !~ /security/ {print $2; exit}')
fi
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}')
fi
mirror=${mirror:-http://deb.debian.org/debian}

INCLUDE=linux-image-cloud-amd64,initramfs-tools,cloud-init,python3-cffi-backend,cloud-guest-utils,fdisk,e2fsprogs,openssh-server,systemd-sysv,systemd-resolved,netplan.io,udev,dbus,iproute2,qemu-guest-agent,sudo,procps,ca-certificates

rm -rf "$out"
mkdir -p "$out"
work=$out/.work
root=$work/root
mkdir -p "$work"

in_root() { # command... run in the tree, in a private mount namespace
  unshare -m --propagation private sh -c '
    set -e
    mount -t proc proc "$0/proc"
    mount -t sysfs sysfs "$0/sys"
    exec chroot "$0" "$@"' "$root" "$@"
}

echo "cloud build: debootstrap bookworm from $mirror" >&2
unshare -m --propagation private \
  debootstrap --variant=minbase --include="$INCLUDE" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; echo "cloud build: debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }

# ---- the tree: what Debian's cloud images configure
printf '/dev/vda2 / ext4 rw,discard,errors=remount-ro 0 1\n' >"$root/etc/fstab"
echo debian >"$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo 'LANG=C.UTF-8' >"$root/etc/default/locale"
printf 'FSTYPE=ext4\n' >"$root/etc/initramfs-tools/conf.d/fstype"
printf 'COMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/compress"
in_root systemctl enable systemd-networkd systemd-resolved >/dev/null 2>&1
in_root update-initramfs -u -k all >/dev/null 2>&1
in_root apt-get clean
# Made per instance at first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root/tmp"/*

kernel=$(cd "$root/boot" && ls vmlinuz-*-cloud-amd64 | sort -V | tail -n 1)
kver=${kernel#vmlinuz-}
[ -s "$root/boot/initrd.img-$kver" ] || { echo "cloud build: no initrd for $kver" >&2; exit 1; }

# ---- disk: MBR, p1 FAT (syslinux, kernel, initrd) at 1 MiB, p2 ext4 root
disk_mib=3072 boot_mib=128
root_mib=$((disk_mib - 1 - boot_mib))
truncate -s "${boot_mib}M" "$work/boot.img"
mkfs.vfat -n BOOT "$work/boot.img" >/dev/null
printf 'DEFAULT linux\nLABEL linux\n  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND root=/dev/vda2 ro console=tty0 console=ttyS0,115200n8\n' >"$work/syslinux.cfg"
cp "$root/boot/$kernel" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
mcopy -i "$work/boot.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/
syslinux --install "$work/boot.img"
mkfs.ext4 -q -L root -d "$root" "$work/root.img" "${root_mib}M"
truncate -s "${disk_mib}M" "$work/disk.raw"
printf 'label: dos\nstart=2048, size=%dMiB, type=c, bootable\ntype=83\n' "$boot_mib" | sfdisk -q "$work/disk.raw"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/boot.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$work/disk.raw" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 -c "$work/disk.raw" "$out/disk.qcow2"
chmod 0644 "$out/disk.qcow2"
echo "$kver" >"$out/kernel-release"
rm -rf "$work"
