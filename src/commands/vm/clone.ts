/**
 * `vm clone SRC NEW [--linked] [--hostname H]`: a new VM with SRC's devices, a
 * new uuid and new MACs, and its own copy of each writable disk
 * (`vol-create-from`), or with --linked a thin qcow2 overlay on each. SRC must
 * be shut off, so the copy is consistent, and is never changed. Shared
 * read-only media (install ISOs) stay shared. A cloud-init seed `vm create`
 * made for SRC is not shared: NEW gets its own (a new instance-id, its own
 * host name, SRC's user-data, the network config moved to NEW's MACs), so
 * cloud-init in the clone runs as a new instance (new ssh host keys; /etc/machine-id stays the source's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { runPlan, type Plan, type Step } from '../../exec/plan.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { cloneSeedFiles, readSeedImage, SEED_ISO_TOOLS, SEED_READ_TOOLS, writeSeedImage, type NoCloudFiles, type SeedImage } from '../../libvirt/cloud-init.js';
import { domainCalls, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';
import { newUuid } from '../../libvirt/domain-builder.js';
import { cloneDomainNode } from '../../libvirt/domain-clone.js';
import { diskPath, domainFromNode, parseDomainXml, sourceKey, type DomainDisk } from '../../libvirt/domain-xml.js';
import { vmObject } from './vm-object.js';
import { macsInUse, randomMacs } from '../../libvirt/mac.js';
import { loadDomains } from '../../libvirt/domains.js';
import { loadPools, thinAllocation, volumeCalls, type PoolRecord, type VolumeFormat } from '../../libvirt/storage.js';
import type { VirshCall } from '../../libvirt/virsh-client.js';
import { parseVolumeXml } from '../../libvirt/volume-xml.js';
import { decodeXml, encodeXml } from '../../libvirt/xml-codec.js';
import { NEW_NAME_HELP, validateNewName } from '../../validate/names.js';
import { refuseUnsafeVolumes } from '../../storage/inventory.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { checkVmName } from './domain-state.js';
import { checkHostname, HOSTNAME } from '../../validate/hostname.js';
import { pickSeedTool } from './create-inputs.js';
import { arg, flag, value, verb, type OptionsOf } from '../../verb.js';

interface DiskCopy {
  target: string;
  key: string;
  source: { pool: string; volume: string; path: string; format: VolumeFormat; capacityBytes: number };
  copy: { pool: string; volume: string; path: string; allocationBytes?: number };
}

/** The call that reads a disk's volume: by pool/name for a volume-type source, else by path (libvirt's vol key, whose pool is asked too). */
function volumeLookup(disk: DomainDisk): { xml: VirshCall; pool?: VirshCall } {
  const src = disk.source;
  if (src?.pool !== undefined && src.volume !== undefined) return { xml: volumeCalls.dumpxml(src.pool, src.volume) };
  const path = diskPath(disk) ?? '';
  return { xml: volumeCalls.dumpxmlByPath(path), pool: volumeCalls.poolOfPath(path) };
}

function extensionOf(format: string): string {
  return format === 'qcow2' ? 'qcow2' : 'img';
}

/** The seed the clone gets: a new volume beside SRC's seed. */
interface NewSeed {
  pool: string;
  volume: string;
  path: string;
  /** sourceKey of SRC's seed disk, which the clone's disk of the same target now points away from. */
  sourceKey: string;
  hostname: string;
  files: NoCloudFiles;
}

export const options = {
  linked: flag('--linked', 'thin qcow2 overlays on the source disks instead of full copies (the source must then stay shut off; vm start refuses it)'),
  hostname: value('--hostname <name>', "the clone's host name in its new cloud-init seed (default: the clone's name)"),
};
export type VmCloneOptions = OptionsOf<typeof options>;

export async function runVmClone(ctx: Context, src: string, newName: string, opts: VmCloneOptions, files: StorageFiles = realStorageFiles): Promise<void> {
  checkVmName(src);
  validateNewName('VM', newName);
  if (opts.hostname !== undefined) checkHostname('--hostname', opts.hostname);
  const linked = opts.linked === true;
  await ctx.withLock(`vm ${newName}`, async () => {
    const first = await ctx.virsh.batchWithStderr({ state: domainCalls.domstate(src), xml: domainCalls.dumpxml(src, true), newInfo: domainCalls.dominfo(newName) });
    const { state: stateOut, xml, newInfo } = first.out;
    if (!xml.trim()) {
      // The batch's stderr also holds the (expected) failed lookup of the new name: leave it out of the reason.
      const stderr = first.stderr.split('\n').filter((l) => !l.includes(`'${newName}'`)).join('\n');
      throw ctx.virsh.failed(domainCalls.dumpxml(src, true), stderr);
    }
    if (newInfo.trim()) throw new ConflictError(`VM ${JSON.stringify(newName)} already exists; it was left unchanged`, `choose another name for the clone, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'delete', newName)}`);
    const state = stateKey(parseDomstate(stateOut).state);
    if (state !== 'shutoff') {
      throw new RefusedError(`VM ${JSON.stringify(src)} is ${state}: a clone of a running VM's disks would not be consistent`, `stop it first: ${kvmctlCommand(ctx.uri, 'vm', 'stop', src)}`);
    }
    const tree = await decodeXml(xml);
    const def = domainFromNode(tree);
    const seedRef = def.kvmctl?.seed;
    const isSeed = (d: DomainDisk) =>
      seedRef !== undefined && ((d.source?.pool === seedRef.pool && d.source.volume === seedRef.volume) || basename(diskPath(d) ?? '') === seedRef.volume);
    const seedDisk = def.disks.find(isSeed);
    const hostname = opts.hostname ?? newName;
    if (seedDisk && !HOSTNAME.test(hostname)) {
      throw new UsageError(`VM ${JSON.stringify(newName)} is no valid host name for the clone's cloud-init seed`, `give one with --hostname, e.g. ${kvmctlCommand(ctx.uri, 'vm', 'clone', src, newName, '--hostname', 'web2')}`);
    }
    const toCopy = def.disks.filter((d) => d.device === 'disk' && d.readonly !== true);

    const lookups = toCopy.map(volumeLookup);
    const { lookups: answers } = await ctx.virsh.batch({ lookups: lookups.map((l) => ({ pool: l.pool, xml: l.xml })) });
    const sources = await Promise.all(
      toCopy.map(async (d, i) => {
        const pool = (answers[i]?.pool ?? d.source?.pool ?? '').trim();
        const volXml = answers[i]?.xml ?? '';
        if (!pool || !volXml.trim()) {
          throw new RefusedError(
            `disk ${d.target.dev} of VM ${JSON.stringify(src)} (${diskPath(d) ?? sourceKey(d.source) ?? '?'}) is not a volume of an active storage pool, so libvirt cannot copy it`,
            'put the image in a storage pool (kvmctl pool create NAME --type dir --path DIR), or copy it by hand',
          );
        }
        const v = await parseVolumeXml(volXml);
        return { disk: d, pool, name: v.name, path: v.path ?? diskPath(d) ?? '', format: (v.format ?? 'raw') as VolumeFormat, capacityBytes: v.capacityBytes ?? 0, backingFile: v.backingStore?.path };
      }),
    );
    const poolNames = new Set(sources.map((s) => s.pool));
    if (seedDisk && seedRef) poolNames.add(seedRef.pool);
    const [poolList, domains] = await Promise.all([loadPools(ctx.runner, ctx.uri, [...poolNames]), loadDomains(ctx.runner, ctx.uri)]);
    const pools = new Map(poolList.map((p) => [p.name, p]));
    // No disk is copied through a symlink out of its pool, or through a header naming a file of no pool.
    await refuseUnsafeVolumes(ctx, sources.map((s) => ({ ref: { pool: s.pool, volume: s.name }, path: s.path, backingFile: s.backingFile })), pools, files, 'copy');
    const copies: DiskCopy[] = sources.map((s, i) => {
      const pool = pools.get(s.pool) as PoolRecord | undefined;
      if (!pool?.targetPath) throw new NotFoundError(`storage pool ${JSON.stringify(s.pool)} of disk ${s.disk.target.dev} is gone or has no target path`, 'list the pools with: kvmctl pool list');
      const volume = validateNewName('volume', i === 0 ? `${newName}.${extensionOf(linked ? 'qcow2' : s.format)}` : `${newName}-${s.disk.target.dev}.${extensionOf(linked ? 'qcow2' : s.format)}`);
      if (pool.volumes?.some((v) => v.name === volume)) {
        throw new ConflictError(`volume ${s.pool}/${volume} already exists (the clone's disk ${s.disk.target.dev} would be it)`, `delete it if it is left over (${kvmctlCommand(ctx.uri, 'volume', 'delete', `${s.pool}/${volume}`)}), or choose another name`);
      }
      return {
        target: s.disk.target.dev,
        key: sourceKey(s.disk.source) ?? s.path,
        source: { pool: s.pool, volume: s.name, path: s.path, format: s.format, capacityBytes: s.capacityBytes },
        copy: { pool: s.pool, volume, path: `${pool.targetPath.replace(/\/+$/, '')}/${volume}`, allocationBytes: thinAllocation(pool.type) },
      };
    });

    // New MACs no defined VM uses (the source included).
    const macs = randomMacs(def.interfaces.length, macsInUse([def, ...domains.map((d) => d.definition)]));
    const uuid = newUuid();
    const seed = seedDisk && seedRef ? await planSeed(ctx, seedRef, sourceKey(seedDisk.source) ?? '', pools.get(seedRef.pool), { newName, uuid, hostname, macs: def.interfaces.map((n, i) => [n.mac ?? '', macs[i] ?? ''] as [string, string]).filter(([a]) => a !== '') }) : undefined;
    const disks = new Map<string, string | null>(copies.map((c) => [c.key, c.copy.path]));
    if (seed) disks.set(seed.sourceKey, seed.path);
    const srcLog = def.serialLogs[0];
    const firstSrc = copies[0]?.source.path;
    const serialLog = srcLog === undefined ? undefined : `${firstSrc !== undefined && dirname(srcLog) === dirname(firstSrc) && copies[0] ? dirname(copies[0].copy.path) : dirname(srcLog)}/${newName}.serial.log`;
    const cloneXml = encodeXml(cloneDomainNode(tree, { name: newName, uuid, disks, macs, serialLog, metadata: seed ? { seed: { pool: seed.pool, volume: seed.volume }, ssh: def.kvmctl?.ssh } : undefined }));

    const seedImage: SeedImage | undefined = seed ? await writeSeedImage(ctx.runner, await pickSeedTool(ctx, SEED_ISO_TOOLS), seed.files) : undefined;
    try {
      await runPlan(ctx, cloneSteps({ src, newName, linked, copies, cloneXml, seed: seed && seedImage ? { ...seed, image: seedImage, poolType: pools.get(seed.pool)?.type ?? 'dir' } : undefined }));
    } finally {
      await seedImage?.dispose();
    }

    if (linked && copies.length > 0) {
      ctx.out.warn(`the disks of ${src} are now the base images of ${newName}'s overlays: writing to them (starting ${src}) would corrupt ${newName}'s disks; keep ${src} shut off while ${newName} exists (${kvmctlCommand(ctx.uri, 'vm', 'start', src)} refuses it)`);
    }
    const list = copies.map((c) => `${c.copy.pool}/${c.copy.volume} (${linked ? 'overlay on' : 'copy of'} ${c.source.pool}/${c.source.volume})`).join(', ');
    const seedText = seed ? `; new cloud-init seed ${seed.pool}/${seed.volume} (instance-id ${uuid}, hostname ${seed.hostname})` : seedRef ? `; the cloud-init seed of ${src} was not found, so it was not attached` : '';
    // The VM as it was defined: shut off, no snapshots, each copy as large as its source.
    const capacity = new Map(copies.map((c) => [c.target, c.source.capacityBytes] as const));
    const json = ctx.out.json ? { changed: !ctx.dryRun, ...vmObject(await parseDomainXml(cloneXml), { state: 'shutoff', autostart: false, persistent: true, capacity, snapshots: [] }) } : undefined;
    ctx.out.done(`vm ${newName} cloned from ${src}${list ? `: ${list}` : ''}${seedText}`, json);
  });
}

/** The clone's steps, as data: each disk's copy (or overlay), its own seed, the definition. */
function cloneSteps(o: { src: string; newName: string; linked: boolean; copies: DiskCopy[]; cloneXml: string; seed?: NewSeed & { image: SeedImage; poolType: string } }): Plan {
  const volumeStep = (pool: string, volume: string, create: VirshCall): Step => ({ what: `volume ${pool}/${volume}`, do: { virsh: create }, undo: { virsh: volumeCalls.delete(pool, volume) } });
  const seed = o.seed;
  return {
    label: `vm clone ${o.src} ${o.newName}`,
    steps: [
      ...o.copies.map((c) =>
        volumeStep(
          c.copy.pool,
          c.copy.volume,
          o.linked
            ? volumeCalls.create({ pool: c.copy.pool, name: c.copy.volume, capacityBytes: c.source.capacityBytes, format: 'qcow2', backingPath: c.source.path, backingFormat: c.source.format })
            : volumeCalls.copy({ pool: c.source.pool, source: c.source.volume, name: c.copy.volume, capacityBytes: c.source.capacityBytes, format: c.source.format, allocationBytes: c.copy.allocationBytes }),
        ),
      ),
      ...(seed
        ? [
            volumeStep(seed.pool, seed.volume, volumeCalls.create({ pool: seed.pool, name: seed.volume, capacityBytes: seed.image.bytes, format: 'raw', allocationBytes: thinAllocation(seed.poolType) })),
            { what: `cloud-init seed in ${seed.pool}/${seed.volume}`, do: { virsh: volumeCalls.upload(seed.pool, seed.volume, seed.image.file) } },
          ]
        : []),
      { what: `VM ${o.newName} (definition)`, do: { virsh: domainCalls.define(o.newName, o.cloneXml) }, undo: { virsh: domainCalls.undefine(o.newName) } },
    ],
  };
}

/**
 * Reads SRC's seed (downloaded through libvirt into a private temporary
 * directory) and plans the clone's: the volume NEW-seed.iso beside it.
 */
async function planSeed(
  ctx: Context,
  ref: { pool: string; volume: string },
  key: string,
  pool: PoolRecord | undefined,
  o: { newName: string; uuid: string; hostname: string; macs: Array<[string, string]> },
): Promise<NewSeed> {
  if (!pool?.targetPath) throw new NotFoundError(`storage pool ${JSON.stringify(ref.pool)} of the cloud-init seed is gone or inactive`, `start it (${kvmctlCommand(ctx.uri, 'pool', 'start', ref.pool)}), then clone again`);
  const volume = validateNewName('volume', `${o.newName}-seed.iso`);
  if (pool.volumes?.some((v) => v.name === volume)) {
    throw new ConflictError(`volume ${ref.pool}/${volume} already exists (the clone's cloud-init seed would be it)`, `delete it if it is left over (${kvmctlCommand(ctx.uri, 'volume', 'delete', `${ref.pool}/${volume}`)}), or choose another name`);
  }
  const tool = await pickSeedTool(ctx, SEED_READ_TOOLS);
  // mkdtemp makes the directory 0700: no other local user can swap the image kvmctl reads.
  const dir = await mkdtemp(join(tmpdir(), 'kvmctl-seed-'));
  try {
    const image = join(dir, 'source.iso');
    await ctx.virsh.run(volumeCalls.download(ref.pool, ref.volume, image));
    const files = await readSeedImage(ctx.runner, tool, image, dir);
    if (files.userData === undefined && files.metaData === undefined) {
      throw new RefusedError(`the cloud-init seed ${ref.pool}/${ref.volume} holds no user-data or meta-data, so the clone's seed cannot be made from it`, `clone without it: detach it from the source, or create the clone with kvmctl vm create … --cloud-init`);
    }
    return { pool: ref.pool, volume, path: `${pool.targetPath.replace(/\/+$/, '')}/${volume}`, sourceKey: key, hostname: o.hostname, files: cloneSeedFiles(files, { instanceId: o.uuid, hostname: o.hostname, macs: o.macs }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const vmCloneCommand = verb('clone', 'copy a shut-off VM: new uuid and MACs, its own copy of each disk (or thin overlays with --linked)', runVmClone, {
  args: [arg('<source>', 'the VM to copy (it is not changed)'), arg('<name>', `name of the new VM: ${NEW_NAME_HELP}`)],
  options,
  examples: ['kvmctl vm clone web1 web2', 'kvmctl vm clone golden test1 --linked', 'kvmctl vm clone web1 web-2 --linked --hostname web2'],
});
