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
import { formatCommand, kvmctlCommand, type Command } from '../../exec/command.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { cloneSeedFiles, readSeedImage, SEED_ISO_TOOLS, SEED_READ_TOOLS, writeSeedImage, type NoCloudFiles, type SeedImage } from '../../libvirt/cloud-init.js';
import { domainArgs, domainCommands, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';
import { newUuid } from '../../libvirt/domain-builder.js';
import { cloneDomainNode } from '../../libvirt/domain-clone.js';
import { diskPath, domainFromNode, sourceKey, type DomainDisk } from '../../libvirt/domain-xml.js';
import { macsInUse, randomMacs } from '../../libvirt/mac.js';
import { loadPools, thinAllocation, volumeCommands, type PoolRecord, type VolumeFormat } from '../../libvirt/storage.js';
import { parseVolumeXml } from '../../libvirt/volume-xml.js';
import { classifyVirshError, runVirsh, runVirshBatch, virshRead } from '../../libvirt/virsh.js';
import { decodeXml, encodeXml } from '../../libvirt/xml-codec.js';
import { validateName } from '../../validate/names.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { refuseUnsafeVolumes } from '../../storage/inventory.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { checkVmName } from './domain-state.js';
import { checkHostname, HOSTNAME } from '../../validate/hostname.js';
import { pickSeedTool } from './create.js';

interface DiskCopy {
  target: string;
  key: string;
  source: { pool: string; volume: string; path: string; format: VolumeFormat; capacityBytes: number };
  copy: { pool: string; volume: string; path: string; allocationBytes?: number };
}

/** Words that find a disk's volume: by pool/name for a volume-type source, else by path (libvirt's vol key). */
function volumeLookup(disk: DomainDisk): string[][] {
  const src = disk.source;
  if (src?.pool !== undefined && src.volume !== undefined) {
    return [['echo', src.pool], ['vol-dumpxml', '--pool', src.pool, '--vol', src.volume]];
  }
  const path = diskPath(disk) ?? '';
  return [['vol-pool', '--vol', path], ['vol-dumpxml', '--vol', path]];
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

export async function runVmClone(ctx: Context, src: string, newName: string, opts: { linked?: boolean; hostname?: string }, files: StorageFiles = realStorageFiles): Promise<void> {
  checkVmName(src);
  validateName('VM', newName);
  if (opts.hostname !== undefined) checkHostname('--hostname', opts.hostname);
  const linked = opts.linked === true;
  await ctx.withLock(`vm ${newName}`, async () => {
    const first = await runVirshBatch(ctx.runner, ctx.uri, [domainArgs.domstate(src), domainArgs.dumpxml(src, true), domainArgs.dominfo(newName)]);
    const [stateOut = '', xml = '', newInfo = ''] = first.outputs;
    if (!xml.trim()) {
      // The batch's stderr also holds the (expected) failed lookup of the new name: leave it out of the reason.
      const stderr = first.stderr.split('\n').filter((l) => !l.includes(`'${newName}'`)).join('\n');
      throw classifyVirshError(virshRead(ctx.uri, domainArgs.dumpxml(src, true)), { stdout: '', stderr, exitCode: 1 }, { kind: 'vm', name: src }, ctx.uri);
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

    const second = await runVirshBatch(ctx.runner, ctx.uri, toCopy.flatMap(volumeLookup));
    const sources = await Promise.all(
      toCopy.map(async (d, i) => {
        const pool = (second.outputs[i * 2] ?? '').trim();
        const volXml = second.outputs[i * 2 + 1] ?? '';
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
    const pools = new Map((await loadPools(ctx.runner, ctx.uri, [...poolNames])).map((p) => [p.name, p]));
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

    const macs = randomMacs(def.interfaces.length, macsInUse([def]));
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
      await ctx.transaction(`vm clone ${src} ${newName}`).run(async (tx) => {
        for (const c of copies) {
          const create: Command = linked
            ? volumeCommands.create(ctx.uri, { pool: c.copy.pool, name: c.copy.volume, capacityBytes: c.source.capacityBytes, format: 'qcow2', backingPath: c.source.path, backingFormat: c.source.format })
            : volumeCommands.copy(ctx.uri, { pool: c.source.pool, source: c.source.volume, name: c.copy.volume, capacityBytes: c.source.capacityBytes, format: c.source.format, allocationBytes: c.copy.allocationBytes });
          const undo = volumeCommands.delete(ctx.uri, c.copy.pool, c.copy.volume);
          await runVirsh(ctx.runner, create, { kind: 'volume', name: `${c.copy.pool}/${c.copy.volume}` });
          tx.onRollback({ what: `volume ${c.copy.pool}/${c.copy.volume}`, run: async () => void (await runVirsh(ctx.runner, undo)), manual: formatCommand(undo) });
          tx.checkpoint();
        }
        if (seed && seedImage) {
          const subject = { kind: 'volume' as const, name: `${seed.pool}/${seed.volume}` };
          const undo = volumeCommands.delete(ctx.uri, seed.pool, seed.volume);
          await runVirsh(ctx.runner, volumeCommands.create(ctx.uri, { pool: seed.pool, name: seed.volume, capacityBytes: seedImage.bytes, format: 'raw', allocationBytes: thinAllocation(pools.get(seed.pool)?.type ?? 'dir') }), subject);
          tx.onRollback({ what: `volume ${seed.pool}/${seed.volume}`, run: async () => void (await runVirsh(ctx.runner, undo)), manual: formatCommand(undo) });
          tx.checkpoint();
          await runVirsh(ctx.runner, volumeCommands.upload(ctx.uri, seed.pool, seed.volume, seedImage.file), subject);
          tx.checkpoint();
        }
        const undefine = domainCommands.undefine(ctx.uri, newName);
        await runVirsh(ctx.runner, domainCommands.define(ctx.uri, cloneXml), { kind: 'vm', name: newName });
        tx.onRollback({ what: `VM ${newName} (definition)`, run: async () => void (await runVirsh(ctx.runner, undefine)), manual: formatCommand(undefine) });
      });
    } finally {
      await seedImage?.dispose();
    }

    if (linked && copies.length > 0) {
      ctx.out.warn(`the disks of ${src} are now the base images of ${newName}'s overlays: writing to them (starting ${src}) would corrupt ${newName}'s disks; keep ${src} shut off while ${newName} exists (${kvmctlCommand(ctx.uri, 'vm', 'start', src)} refuses it)`);
    }
    const volumes = copies.map((c) => ({ pool: c.copy.pool, name: c.copy.volume, path: c.copy.path, from: `${c.source.pool}/${c.source.volume}`, linked }));
    const list = copies.map((c) => `${c.copy.pool}/${c.copy.volume} (${linked ? 'overlay on' : 'copy of'} ${c.source.pool}/${c.source.volume})`).join(', ');
    const seedText = seed ? `; new cloud-init seed ${seed.pool}/${seed.volume} (instance-id ${uuid}, hostname ${seed.hostname})` : seedRef ? `; the cloud-init seed of ${src} was not found, so it was not attached` : '';
    ctx.out.done(`vm ${newName} cloned from ${src}${list ? `: ${list}` : ''}${seedText}`, {
      name: newName,
      uuid,
      source: src,
      volumes,
      serialLog,
      seed: seed ? { pool: seed.pool, volume: seed.volume, instanceId: uuid, hostname: seed.hostname } : undefined,
    });
  });
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
    await runVirsh(ctx.runner, volumeCommands.download(ctx.uri, ref.pool, ref.volume, image), { kind: 'volume', name: `${ref.pool}/${ref.volume}` });
    const files = await readSeedImage(ctx.runner, tool, image, dir);
    if (files.userData === undefined && files.metaData === undefined) {
      throw new RefusedError(`the cloud-init seed ${ref.pool}/${ref.volume} holds no user-data or meta-data, so the clone's seed cannot be made from it`, `clone without it: detach it from the source, or create the clone with kvmctl vm create … --cloud-init`);
    }
    return { pool: ref.pool, volume, path: `${pool.targetPath.replace(/\/+$/, '')}/${volume}`, sourceKey: key, hostname: o.hostname, files: cloneSeedFiles(files, { instanceId: o.uuid, hostname: o.hostname, macs: o.macs }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
