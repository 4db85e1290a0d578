/** Disk image formats (qemu-img's names, libvirt's <driver type=…> and <format type=…>): which kvmctl reads, writes and attaches. */

/** Formats kvmctl reads; the source of an import may be any of them. */
export const IMAGE_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Formats kvmctl writes (new VM disks, volume create, import --to, convert --to). */
export const TARGET_FORMATS = ['qcow2', 'raw'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

/** Formats of the volumes kvmctl defines in a pool: those it writes, a copied vmdk, and the seed ISO of cloud-init. */
export const VOLUME_FORMATS = [...TARGET_FORMATS, 'vmdk', 'iso'] as const;
export type VolumeFormat = (typeof VOLUME_FORMATS)[number];

/** Formats of an existing disk file `vm create --disk path=` attaches: those kvmctl reads, and qed, which QEMU runs too. */
export const ATTACH_FORMATS = [...IMAGE_FORMATS, 'qed'] as const;

export function isImageFormat(f: string | undefined): f is ImageFormat {
  return (IMAGE_FORMATS as readonly string[]).includes(f ?? '');
}
