/**
 * `vm clone SRC NEW [--linked]`: a new VM with SRC's devices, a new uuid and
 * new MACs, and its own copy of each writable disk (`vol-create-from`), or with
 * --linked a thin qcow2 overlay on each. SRC must be shut off, so the copy is
 * consistent, and is never changed. Shared read-only media (install ISOs)
 * stay shared; SRC's cloud-init seed is not carried over.
 */
import { basename, dirname } from 'node:path';
import type { Context } from '../../context.js';
import { formatCommand, kvmctlCommand, type Command } from '../../exec/command.js';
import { ConflictError, NotFoundError, RefusedError } from '../../errors.js';
import { domainArgs, domainCommands, parseDomstate, stateKey } from '../../libvirt/domain-commands.js';
import { cloneDomainNode, diskPath, domainFromNode, newUuid, randomMac, sourceKey, type DomainDisk } from '../../libvirt/domain-xml.js';
import { loadPools, thinAllocation, volumeCommands, type PoolRecord, type VolumeFormat } from '../../libvirt/storage.js';
import { parseVolumeXml } from '../../libvirt/volume-xml.js';
import { classifyVirshError, runVirsh, runVirshBatch, virshRead } from '../../libvirt/virsh.js';
import { decodeXml, encodeXml } from '../../libvirt/xml-codec.js';
import { validateName } from '../../validate/names.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { checkVmName } from './domain-state.js';

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

export async function runVmClone(ctx: Context, src: string, newName: string, opts: { linked?: boolean }): Promise<void> {
  checkVmName(src);
  validateName('VM', newName);
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
    const seedPath = def.kvmctl?.seed?.volume;
    const isSeed = (d: DomainDisk) => d.device === 'cdrom' && seedPath !== undefined && basename(diskPath(d) ?? '') === seedPath;
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
        return { disk: d, pool, name: v.name, path: v.path ?? diskPath(d) ?? '', format: (v.format ?? 'raw') as VolumeFormat, capacityBytes: v.capacityBytes ?? 0 };
      }),
    );
    const pools = new Map((await loadPools(ctx.runner, ctx.uri, [...new Set(sources.map((s) => s.pool))])).map((p) => [p.name, p]));
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

    const disks = new Map<string, string | null>(copies.map((c) => [c.key, c.copy.path]));
    for (const d of def.disks) if (isSeed(d)) disks.set(sourceKey(d.source) ?? '', null);
    const srcLog = def.serialLogs[0];
    const firstSrc = copies[0]?.source.path;
    const serialLog = srcLog === undefined ? undefined : `${firstSrc !== undefined && dirname(srcLog) === dirname(firstSrc) && copies[0] ? dirname(copies[0].copy.path) : dirname(srcLog)}/${newName}.serial.log`;
    const uuid = newUuid();
    const cloneXml = encodeXml(cloneDomainNode(tree, { name: newName, uuid, disks, macs: def.interfaces.map(() => randomMac()), serialLog }));

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
      const undefine = domainCommands.undefine(ctx.uri, newName);
      await runVirsh(ctx.runner, domainCommands.define(ctx.uri, cloneXml), { kind: 'vm', name: newName });
      tx.onRollback({ what: `VM ${newName} (definition)`, run: async () => void (await runVirsh(ctx.runner, undefine)), manual: formatCommand(undefine) });
    });

    if (linked && copies.length > 0) {
      ctx.out.warn(`the disks of ${src} are now the base images of ${newName}'s overlays: writing to them (starting ${src}) would corrupt ${newName}'s disks; keep ${src} shut off while ${newName} exists`);
    }
    const volumes = copies.map((c) => ({ pool: c.copy.pool, name: c.copy.volume, path: c.copy.path, from: `${c.source.pool}/${c.source.volume}`, linked }));
    const list = copies.map((c) => `${c.copy.pool}/${c.copy.volume} (${linked ? 'overlay on' : 'copy of'} ${c.source.pool}/${c.source.volume})`).join(', ');
    ctx.out.done(`vm ${newName} cloned from ${src}${list ? `: ${list}` : ''}${seedPath ? `; the cloud-init seed of ${src} was not attached` : ''}`, { name: newName, uuid, source: src, volumes, serialLog });
  });
}
