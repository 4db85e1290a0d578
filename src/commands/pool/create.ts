import type { Context } from '../../context.js';
import { kvmctlCommand, shellLine } from '../../exec/command.js';
import { ConflictError, UsageError } from '../../errors.js';
import { buildPoolXml, poolDefinitionOf, poolSpecDifferences, POOL_TYPES, parsePoolXml, type PoolSpec } from '../../libvirt/pool-xml.js';
import { isLocalUri, loadPools, poolCalls } from '../../libvirt/storage.js';
import { planInputs, runPlan, when, type Plan } from '../../exec/plan.js';
import { arg, flag, list, negatable, value, verb, type OptionsOf } from '../../verb.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { checkPoolPath, checkPoolPathSyntax, requirePoolDirectory } from '../../storage/pool-path.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { NEW_NAME_HELP } from '../../validate/names.js';
import { poolResult } from './pool-json.js';

export const options = {
  type: value('--type <type>', 'pool type', { choices: POOL_TYPES, default: 'dir' }),
  path: value('--path <dir>', "dir/fs/netfs: the target directory (absolute, resolved; not under /etc, /dev, /usr, /root, /var/lib/dpkg, /var/spool, a .ssh directory or kvmctl's state, and not /home, /var, /tmp… itself)"),
  sourceDev: list('--source-dev <device>', 'fs: the block device; logical: a physical volume for a new volume group (repeatable)'),
  sourceHost: value('--source-host <host>', 'netfs: the NFS server'),
  sourcePath: value('--source-path <path>', 'netfs: the exported directory'),
  sourceFormat: value('--source-format <format>', 'fs: the filesystem (default auto); netfs: nfs, cifs… (default auto)'),
  vg: value('--vg <name>', 'logical: the volume group (default: the pool name)'),
  start: negatable('--no-start', 'define and build only; do not start the pool'),
  autostart: negatable('--no-autostart', 'do not start the pool when libvirtd starts'),
  printXml: flag('--print-xml', 'print the pool XML and change nothing'),
};

export type PoolCreateOptions = OptionsOf<typeof options>;

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$|^\d{1,3}(\.\d{1,3}){3}$|^\[?[0-9A-Fa-f:]+\]?$/;
const FORMAT = /^[a-z0-9]+$/;

/** Options -> a spec for one pool type; every rule is checked before libvirt is asked anything. */
export function poolSpecFromOptions(name: string, o: PoolCreateOptions, uri?: string): PoolSpec {
  validateNewName('pool', name);
  const type = o.type;
  if (!(POOL_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`unknown pool type ${JSON.stringify(type)}`, `use --type ${POOL_TYPES.join(', --type ')}`);
  }
  const allowed: Record<string, string[]> = {
    dir: ['path'],
    fs: ['path', 'sourceDev', 'sourceFormat'],
    netfs: ['path', 'sourceHost', 'sourcePath', 'sourceFormat'],
    logical: ['sourceDev', 'vg'],
  };
  const flag: Record<string, string> = {
    path: '--path', sourceDev: '--source-dev', sourceHost: '--source-host', sourcePath: '--source-path', sourceFormat: '--source-format', vg: '--vg',
  };
  for (const key of Object.keys(flag)) {
    const v = o[key as keyof PoolCreateOptions];
    const given = Array.isArray(v) ? v.length > 0 : v !== undefined;
    if (given && !allowed[type]!.includes(key)) {
      throw new UsageError(`${flag[key]} does not apply to a ${type} pool`, `a ${type} pool takes ${allowed[type]!.map((k) => flag[k]).join(', ')}`);
    }
  }
  const need = (key: keyof PoolCreateOptions, example: string) => {
    const v = o[key];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) throw new UsageError(`a ${type} pool needs ${flag[key]}`, `e.g. ${kvmctlCommand(uri, 'pool', 'create', name, '--type', type, ...example.split(' '))}`);
  };
  const device = (d: string) => {
    if (!d.startsWith('/dev/') || d.includes('/../') || /[\u0000-\u001f]/.test(d)) throw new UsageError(`invalid --source-dev ${JSON.stringify(d)}: not a device path under /dev`, 'e.g. --source-dev /dev/sdb1');
    return d;
  };
  const format = () => {
    if (o.sourceFormat !== undefined && !FORMAT.test(o.sourceFormat)) throw new UsageError(`invalid --source-format ${JSON.stringify(o.sourceFormat)}`, 'e.g. --source-format ext4 (fs) or nfs (netfs)');
    return o.sourceFormat;
  };
  switch (type) {
    case 'dir':
      need('path', '--path /var/lib/libvirt/images');
      return { type, name, path: checkPoolPathSyntax('--path', o.path!) };
    case 'fs': {
      need('path', '--source-dev /dev/sdb1 --path /srv/vm');
      need('sourceDev', '--source-dev /dev/sdb1 --path /srv/vm');
      if (o.sourceDev!.length > 1) throw new UsageError('a fs pool takes one --source-dev', 'give the one block device that holds the filesystem');
      return { type, name, path: checkPoolPathSyntax('--path', o.path!), sourceDev: device(o.sourceDev![0]!), sourceFormat: format() };
    }
    case 'netfs': {
      const example = '--source-host nfs.example.com --source-path /export/vm --path /mnt/vm';
      need('path', example);
      need('sourceHost', example);
      need('sourcePath', example);
      if (!HOST.test(o.sourceHost!)) throw new UsageError(`invalid --source-host ${JSON.stringify(o.sourceHost)}`, 'give a host name or an IP address');
      if (!o.sourcePath!.startsWith('/') || /[\u0000-\u001f]/.test(o.sourcePath!)) throw new UsageError(`invalid --source-path ${JSON.stringify(o.sourcePath)}: not an absolute path`, 'e.g. --source-path /export/vm');
      return { type, name, path: checkPoolPathSyntax('--path', o.path!), sourceHost: o.sourceHost!, sourcePath: o.sourcePath!, sourceFormat: format() };
    }
    default: {
      if (o.vg === undefined && (o.sourceDev ?? []).length === 0) {
        throw new UsageError('a logical pool needs --vg (an existing volume group) or --source-dev (devices for a new one)', `e.g. ${kvmctlCommand(uri, 'pool', 'create', name, '--type', 'logical', '--vg', 'vg0')}`);
      }
      const vg = o.vg ?? name;
      if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/.test(vg)) throw new UsageError(`invalid --vg ${JSON.stringify(vg)}`, 'LVM names use letters, digits and + _ . -');
      return { type: 'logical', name, vg, sourceDevs: (o.sourceDev ?? []).map(device) };
    }
  }
}

/** The steps that make the pool: define, build (when it makes something), start, autostart. */
export function poolCreatePlan(spec: PoolSpec, o: Pick<PoolCreateOptions, 'start' | 'autostart'>, dirExisted: boolean): Plan {
  const name = spec.name;
  const target = poolDefinitionOf(spec).targetPath;
  // dir/fs/netfs: only makes the directory (an fs pool's device is never formatted); logical: --no-overwrite keeps libvirt from wiping devices that hold data.
  const build = spec.type !== 'logical' || spec.sourceDevs.length > 0;
  return {
    label: `pool create ${name}`,
    steps: [
      { what: `storage pool ${name} (definition)`, do: { virsh: poolCalls.define(name, buildPoolXml(spec)) }, undo: { virsh: poolCalls.undefine(name) } },
      // libvirt's pool-delete would remove the directory: undo the build only when it created it.
      ...when(build, {
        what: `directory ${target}`,
        do: { virsh: poolCalls.build(name, spec.type === 'logical') },
        ...(!dirExisted && { undo: { virsh: poolCalls.delete(name) }, manual: shellLine('rmdir', '--', target ?? '') }),
      }),
      ...when(o.start, { what: `storage pool ${name} (running)`, do: { virsh: poolCalls.start(name) }, undo: { virsh: poolCalls.destroy(name) } }),
      ...when(o.autostart, { what: `storage pool ${name} (autostart)`, do: { virsh: poolCalls.autostart(name, true) } }),
    ],
  };
}

export async function runPoolCreate(ctx: Context, name: string, o: PoolCreateOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  const spec = poolSpecFromOptions(name, o, ctx.uri);
  const local = isLocalUri(ctx.uri);
  if (spec.type !== 'logical') await checkPoolPath('--path', spec.path, local, files, ctx.stateDir);
  if (o.printXml) return ctx.out.raw(planInputs(poolCreatePlan(spec, o, true)).join(''));
  if (!o.start && o.autostart) ctx.out.info('note: --no-start given; the pool will still start with libvirtd (add --no-autostart to prevent that)');
  await ctx.withLock(`pool ${name}`, async () => {
    const pools = await loadPools(ctx.runner, ctx.uri);
    const existing = pools.find((p) => p.name === name);
    if (existing) {
      const diffs = poolSpecDifferences(await parsePoolXml(await ctx.virsh.run(poolCalls.dumpxml(name))), spec);
      if (diffs.length > 0) {
        throw new ConflictError(`storage pool ${name} already exists with another definition (${diffs.join('; ')})`, `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'pool', 'delete', name)}`, { object: { kind: 'pool', name } });
      }
      await requirePoolDirectory(existing, ctx.uri, local, files);
      ctx.out.done(`storage pool ${name} already exists as asked: unchanged`, poolResult(false, existing));
      return;
    }
    const def = poolDefinitionOf(spec);
    const clash = pools.find((p) => p.targetPath !== undefined && p.targetPath === def.targetPath);
    if (clash) throw new ConflictError(`storage pool ${clash.name} already uses ${def.targetPath}`, `use that pool, or choose another --path`);
    const dirExisted = spec.type === 'logical' || !local ? true : (await files.stat(spec.path)) !== undefined;
    await runPlan(ctx, poolCreatePlan(spec, o, dirExisted));
    ctx.out.done(
      `storage pool ${name} created (${spec.type}, ${def.targetPath})${o.start ? ', started' : ''}${o.autostart ? ', autostart on' : ''}`,
      // The pool as made: sizes and the uuid are libvirt's to report (kvmctl pool info), a started pool holds no volumes yet.
      poolResult(true, { name, type: def.type, state: o.start ? 'running' : 'inactive', active: o.start, autostart: o.autostart, persistent: true, targetPath: def.targetPath, source: def.source, volumes: o.start ? [] : undefined }),
    );
  });
}

export const poolCreateCommand = verb('create', 'define, build, start and autostart a pool; "unchanged" when it already exists as asked', runPoolCreate, {
  args: [arg('<name>', `pool name: ${NEW_NAME_HELP}`)],
  options,
  examples: [
    'kvmctl pool create images --type dir --path /srv/images',
    'kvmctl pool create data --type fs --source-dev /dev/sdb1 --path /srv/data',
    'kvmctl pool create nfs --type netfs --source-host nas.lan --source-path /export/vm --path /mnt/vm',
    'kvmctl pool create vg0 --type logical --vg vg0',
    'kvmctl pool create images --path /srv/images --print-xml',
  ],
  notes: "\nA fs pool's device is never formatted; a logical pool built from --source-dev is refused\nby libvirt when a device already holds data (pool-build --no-overwrite).\n",
});
