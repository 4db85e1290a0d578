import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import { IMAGE_FORMATS, TARGET_FORMATS } from '../../libvirt/disk-formats.js';
import { runVolumeClone } from './clone.js';
import { runVolumeConvert } from './convert.js';
import { runVolumeCreate } from './create.js';
import { runVolumeDelete } from './delete.js';
import { runVolumeImport } from './import.js';
import { runVolumeInfo } from './info.js';
import { runVolumeList } from './list.js';
import { runVolumeResize } from './resize.js';
import { runSnapshotCreate, runSnapshotDelete, runSnapshotList, runSnapshotRevert } from './snapshot.js';

const OVERCOMMIT = "allow a size beyond the pool's free space (thin volumes)";

export function volumeCommand(app: App): Command {
  const volume = new Command('volume')
    .description('manage disk volumes (qcow2, raw, vmdk) in storage pools')
    .addHelpText(
      'after',
      examples('kvmctl volume list', 'kvmctl volume create web1.qcow2 --pool default --size 20G', 'kvmctl volume import debian-12.qcow2 --pool default') +
        '\nVolumes are named POOL/NAME. Nothing is ever overwritten: creating onto an existing\nvolume or file is exit 4; re-running a create that already succeeded is "unchanged".\n',
    );

  volume.addCommand(
    new Command('list')
      .description('list volumes of all pools (or one): format, sizes, backing file, and the VMs using each')
      .option('--pool <pool>', 'only this pool')
      .addHelpText('after', examples('kvmctl volume list', 'kvmctl volume list --pool default -o json'))
      .action(app.action(async (ctx, opts: { pool?: string }) => runVolumeList(ctx, opts), { fanOut: true })),
  );

  volume.addCommand(
    new Command('info')
      .description('show a volume: format, virtual and actual size, backing chain, internal snapshots, users')
      .argument('<pool/name>', 'the volume')
      .addHelpText('after', examples('kvmctl volume info default/web1.qcow2', 'kvmctl volume info default/web1.qcow2 -o json'))
      .action(app.action(async (ctx, ref: string) => runVolumeInfo(ctx, ref))),
  );

  volume.addCommand(
    new Command('create')
      .description('create an empty volume, or a thin qcow2 overlay on a backing volume')
      .argument('<name>', 'volume name (one path component, printable ASCII)')
      .requiredOption('--pool <pool>', 'the pool to create it in')
      .option('--size <size>', 'virtual size: 512M, 20G, 1.5T, 20GiB or bytes (default with --backing: the backing size)')
      .addOption(new Option('--format <format>', 'image format').choices([...TARGET_FORMATS]).default('qcow2'))
      .option('--backing <pool/vol>', 'make a thin overlay on this volume (its format is always stated)')
      .option('--allow-overcommit', OVERCOMMIT)
      .addHelpText(
        'after',
        examples(
          'kvmctl volume create web1.qcow2 --pool default --size 20G',
          'kvmctl volume create scratch.raw --pool default --size 512M --format raw',
          'kvmctl volume create web2.qcow2 --pool default --backing default/debian-12.qcow2',
        ),
      )
      .action(app.action(async (ctx, name: string, opts) => runVolumeCreate(ctx, name, opts as Parameters<typeof runVolumeCreate>[2]))),
  );

  volume.addCommand(
    new Command('import')
      .description('copy an image file on this machine into a pool, converting it if asked (progress bar on a terminal)')
      .argument('<file>', 'the image file')
      .requiredOption('--pool <pool>', 'the pool to import into')
      .option('--name <name>', 'volume name (default: the file name, with the extension of --to)')
      .addOption(new Option('--format <format>', "the file's format (default: read from its header; qemu-img never guesses)").choices([...IMAGE_FORMATS]))
      .addOption(new Option('--to <format>', 'convert to this format (default: keep the format)').choices([...TARGET_FORMATS]))
      .option('--allow-external-refs', 'import an image whose header refers to other files (backing file, data file, json:, vmdk extents); needs --format')
      .option('--allow-overcommit', OVERCOMMIT)
      .addHelpText(
        'after',
        examples(
          'kvmctl volume import debian-12-genericcloud-amd64.qcow2 --pool default',
          'kvmctl volume import appliance.vmdk --pool default --to qcow2',
          'kvmctl volume import overlay.qcow2 --pool default --format qcow2 --allow-external-refs',
        ) +
          '\nAn image whose header refers to other files is refused (exit 5): importing it would\nread those files. If you trust it, name the format and pass --allow-external-refs;\nthe data is then copied into one standalone volume.\n',
      )
      .action(app.action(async (ctx, file: string, opts) => runVolumeImport(ctx, file, opts as Parameters<typeof runVolumeImport>[2]))),
  );

  volume.addCommand(
    new Command('clone')
      .description('copy a volume in its pool: a full copy, or a thin qcow2 overlay with --linked')
      .argument('<pool/src>', 'the volume to copy')
      .argument('<name>', 'name of the copy (same pool)')
      .option('--linked', 'make a qcow2 overlay backed by the source instead of copying it')
      .option('--allow-overcommit', OVERCOMMIT)
      .addHelpText('after', examples('kvmctl volume clone default/base.qcow2 web1.qcow2', 'kvmctl volume clone default/base.qcow2 web2.qcow2 --linked'))
      .action(app.action(async (ctx, src: string, name: string, opts) => runVolumeClone(ctx, src, name, opts as Parameters<typeof runVolumeClone>[3]))),
  );

  volume.addCommand(
    new Command('resize')
      .description('grow a volume (live through libvirt when a running VM uses it); shrinking needs --shrink')
      .argument('<pool/name>', 'the volume')
      .argument('<size>', 'new size (20G) or growth (+5G)')
      .option('--shrink', 'allow making it smaller (data beyond the new size is lost)')
      .option('--allow-overcommit', OVERCOMMIT)
      .addHelpText('after', examples('kvmctl volume resize default/web1.qcow2 +5G', 'kvmctl volume resize default/web1.qcow2 40G', 'kvmctl volume resize default/web1.qcow2 10G --shrink'))
      .action(app.action(async (ctx, ref: string, size: string, opts) => runVolumeResize(ctx, ref, size, opts as Parameters<typeof runVolumeResize>[3]))),
  );

  volume.addCommand(
    new Command('convert')
      .description('write a copy of a volume in another format (progress bar on a terminal); the source stays')
      .argument('<pool/name>', 'the volume')
      .addOption(new Option('--to <format>', 'the new format').choices([...TARGET_FORMATS]))
      .option('--name <name>', 'name of the copy (default: the name with the new extension)')
      .option('--allow-overcommit', OVERCOMMIT)
      .addHelpText('after', examples('kvmctl volume convert default/web1.qcow2 --to raw', 'kvmctl volume convert default/disk.raw --to qcow2 --name disk.qcow2'))
      .action(app.action(async (ctx, ref: string, opts) => runVolumeConvert(ctx, ref, opts as Parameters<typeof runVolumeConvert>[2]))),
  );

  volume.addCommand(
    new Command('delete')
      .description('delete a volume; refused (exit 5) while a VM uses it or another volume is an overlay on it')
      .argument('<pool/name>', 'the volume')
      .option('--force', 'delete it although VMs that are not running name it as a disk (never one a running VM uses, never a backing file)')
      .addHelpText('after', examples('kvmctl volume delete default/old.qcow2'))
      .action(app.action(async (ctx, ref: string, opts: { force?: boolean }) => runVolumeDelete(ctx, ref, opts))),
  );

  const snapshot = new Command('snapshot')
    .description('qcow2 internal snapshots of a volume no running VM uses (on this machine only)')
    .addHelpText(
      'after',
      examples(
        'kvmctl volume snapshot create default/web1.qcow2 before-upgrade',
        'kvmctl volume snapshot list default/web1.qcow2',
        'kvmctl volume snapshot revert default/web1.qcow2 before-upgrade',
        'kvmctl volume snapshot delete default/web1.qcow2 before-upgrade',
      ),
    );
  for (const [verb, description, run] of [
    ['create', 'take a snapshot (default name: snap-DATE)', runSnapshotCreate],
    ['revert', 'put the volume back to a snapshot (refused when overlays depend on it)', runSnapshotRevert],
    ['delete', 'delete a snapshot', runSnapshotDelete],
  ] as const) {
    snapshot.addCommand(
      new Command(verb)
        .description(description)
        .argument('<pool/name>', 'the volume')
        .argument(verb === 'create' ? '[snapshot]' : '<snapshot>', 'snapshot name')
        .action(app.action(async (ctx, ref: string, snap: string | undefined) => run(ctx, ref, snap))),
    );
  }
  snapshot.addCommand(
    new Command('list')
      .description("list a volume's snapshots")
      .argument('<pool/name>', 'the volume')
      .action(app.action(async (ctx, ref: string) => runSnapshotList(ctx, ref))),
  );
  volume.addCommand(snapshot);
  return volume;
}
