import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import { POOL_TYPES } from '../../libvirt/pool-xml.js';
import { runPoolCreate } from './create.js';
import { runPoolDelete } from './delete.js';
import { runPoolInfo } from './info.js';
import { runPoolAutostart, runPoolRefresh, runPoolStart, runPoolStop } from './lifecycle.js';
import { runPoolList } from './list.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function poolCommand(app: App): Command {
  const pool = new Command('pool')
    .description('manage storage pools (dir, fs, netfs/NFS, logical)')
    .addHelpText('after', examples('kvmctl pool list', 'kvmctl pool create images --type dir --path /srv/images', 'kvmctl pool info images -o json'));

  pool.addCommand(
    new Command('list')
      .description('list all pools: type, state, autostart, path, capacity, allocation, available, volumes')
      .addHelpText('after', examples('kvmctl pool list', 'kvmctl pool list -o json'))
      .action(app.action(async (ctx) => runPoolList(ctx), { fanOut: true })),
  );

  pool.addCommand(
    new Command('info')
      .description("show a pool's definition, sizes, source and volumes (with the VMs using them)")
      .argument('<name>', 'pool name')
      .addHelpText('after', examples('kvmctl pool info default', 'kvmctl pool info default -o json'))
      .action(app.action(async (ctx, name: string) => runPoolInfo(ctx, name))),
  );

  pool.addCommand(
    new Command('create')
      .description('define, build, start and autostart a pool; "unchanged" when it already exists as asked')
      .argument('<name>', 'pool name (one path component, printable ASCII)')
      .addOption(new Option('--type <type>', 'pool type').choices([...POOL_TYPES]).default('dir'))
      .option('--path <dir>', 'dir/fs/netfs: the target directory (absolute, resolved; not under /etc, /dev, /usr, /root, /var/lib/dpkg, /var/spool, a .ssh directory or kvmctl\'s state, and not /home, /var, /tmp… itself)')
      .option('--source-dev <device>', 'fs: the block device; logical: a physical volume for a new volume group (repeatable)', collect)
      .option('--source-host <host>', 'netfs: the NFS server')
      .option('--source-path <path>', 'netfs: the exported directory')
      .option('--source-format <format>', 'fs: the filesystem (default auto); netfs: nfs, cifs… (default auto)')
      .option('--vg <name>', 'logical: the volume group (default: the pool name)')
      .option('--no-start', 'define and build only; do not start the pool')
      .option('--no-autostart', 'do not start the pool when libvirtd starts')
      .option('--print-xml', 'print the pool XML and change nothing')
      .addHelpText(
        'after',
        examples(
          'kvmctl pool create images --type dir --path /srv/images',
          'kvmctl pool create data --type fs --source-dev /dev/sdb1 --path /srv/data',
          'kvmctl pool create nfs --type netfs --source-host nas.lan --source-path /export/vm --path /mnt/vm',
          'kvmctl pool create vg0 --type logical --vg vg0',
          'kvmctl pool create images --path /srv/images --print-xml',
        ) + '\nA fs pool\'s device is never formatted; a logical pool built from --source-dev is refused\nby libvirt when a device already holds data (pool-build --no-overwrite).\n',
      )
      .action(app.action(async (ctx, name: string, opts) => runPoolCreate(ctx, name, opts as Parameters<typeof runPoolCreate>[2]))),
  );

  for (const [verb, description, run] of [
    ['start', 'start (activate) a pool', runPoolStart],
    ['stop', 'stop (deactivate) a pool; its files stay; refused while running VMs use its volumes', runPoolStop],
    ['refresh', "re-read a pool's volumes (after files were added or removed by hand)", runPoolRefresh],
  ] as const) {
    pool.addCommand(
      new Command(verb)
        .description(description)
        .argument('<name>', 'pool name')
        .addHelpText('after', examples(`kvmctl pool ${verb} images`))
        .action(app.action(async (ctx, name: string) => run(ctx, name))),
    );
  }

  pool.addCommand(
    new Command('autostart')
      .description('start the pool when libvirtd starts (or not, with --disable)')
      .argument('<name>', 'pool name')
      .option('--disable', 'turn autostart off')
      .addHelpText('after', examples('kvmctl pool autostart images', 'kvmctl pool autostart images --disable'))
      .action(app.action(async (ctx, name: string, opts: { disable?: boolean }) => runPoolAutostart(ctx, name, opts))),
  );

  pool.addCommand(
    new Command('delete')
      .description('stop and undefine a pool; refused (exit 5) while it holds volumes unless --force, and always while VMs use them')
      .argument('<name>', 'pool name')
      .option('--force', 'delete even though the pool holds volumes (their files stay unless --purge)')
      .option('--purge', "also delete the pool's volumes and its then empty directory (nothing else)")
      .addHelpText(
        'after',
        examples('kvmctl pool delete scratch', 'kvmctl pool delete scratch --force', 'kvmctl pool delete scratch --force --purge') +
          '\nWithout --purge the directory and every file in it stay. With --purge only the\nvolumes libvirt lists are deleted (a base image a VM\'s overlay stands on, wherever\nthat overlay is, is kept and named); the directory is removed only if that empties it;\na logical pool\'s volume group is kept. Volumes are deleted a few hundred per process\n(rm of the files of a directory pool on this machine, a volume that is a symlink as\nthe link; libvirt\'s vol-delete otherwise), with a count on a terminal; if one cannot\nbe deleted, the pool is kept and the error (exit 8) names what is left: run the same\ncommand again.\n',
      )
      .action(app.action(async (ctx, name: string, opts: { force?: boolean; purge?: boolean }) => runPoolDelete(ctx, name, opts))),
  );
  return pool;
}
