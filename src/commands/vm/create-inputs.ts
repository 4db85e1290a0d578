/**
 * vm create's inputs, checked before libvirt is asked anything: host paths
 * (no system file, key, mounted device or system directory), the cloud-init
 * files, the tool that writes the seed ISO, and whether KVM works here.
 */
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { MissingToolError } from '../../exec/runner.js';
import { findOnPath } from '../../local-fs.js';
import { buildMetaData, buildUserData, isSshPublicKey, SEED_ISO_TOOLS, sshKeysOf, type NoCloudFiles, type SeedIsoTool } from '../../libvirt/cloud-init.js';
import { isLocalUri } from '../../libvirt/storage.js';
import { readInputFile } from '../../storage/input-file.js';
import { checkDiskPath } from '../../storage/disk-path.js';
import type { StorageFiles } from '../../storage/local-files.js';
import { checkPoolPath } from '../../storage/pool-path.js';
import { assessVirtualization, readVirtualizationInputs } from '../../host/virtualization.js';
import type { CloudInitRequest, CreateRequest } from './create-args.js';
import { HOST_LABEL } from '../../validate/hostname.js';

/** Disks, the install ISO and the log directory: no system file, key, mounted device or system directory. */
export async function checkHostPaths(ctx: Context, req: CreateRequest, files: StorageFiles): Promise<void> {
  const local = isLocalUri(ctx.uri);
  for (const d of req.disks) {
    if (d.kind !== 'path') continue;
    await checkDiskPath('--disk path', d.path, local, files, ctx.stateDir);
    if (local) d.hostPath = await files.resolve(d.path);
  }
  if (req.cdrom?.kind === 'path') await checkDiskPath('--cdrom', req.cdrom.path, local, files, ctx.stateDir, true);
  if (req.logDir !== undefined) await checkPoolPath('--log-dir', req.logDir.replace(/(.)\/+$/, '$1'), local, files, ctx.stateDir);
}

export async function readSeedInputs(ctx: Context, req: CreateRequest, ci: CloudInitRequest, uuid: string): Promise<NoCloudFiles> {
  const warnings: string[] = [];
  const read = async (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    const input = await readInputFile(ctx.fs, flag, file, ctx.io.env);
    warnings.push(...input.warnings);
    return input.text;
  };
  const userData = await read('--cloud-init user-data=', ci.userDataFile);
  if (userData !== undefined && userData.trim() === '') throw new UsageError(`--cloud-init user-data=${ci.userDataFile}: the file is empty`, 'start it with #cloud-config');
  const metaData = await read('--cloud-init meta-data=', ci.metaDataFile);
  const networkConfig = await read('--cloud-init network-config=', ci.networkConfigFile);
  const keyText = await read('--ssh-key', ci.sshKeyFile);
  const sshKeys = keyText === undefined ? [] : sshKeysOf(keyText);
  if (keyText !== undefined) {
    const bad = sshKeys.find((k) => !isSshPublicKey(k));
    if (sshKeys.length === 0 || bad !== undefined) {
      throw new UsageError(
        `--ssh-key ${ci.sshKeyFile}: ${bad !== undefined ? `${JSON.stringify(bad.slice(0, 40))}… is not an OpenSSH public key` : 'no public key in the file'}`,
        'give the .pub file, e.g. --ssh-key ~/.ssh/id_ed25519.pub (never the private key)',
      );
    }
  }
  for (const w of warnings) ctx.out.warn(w);
  return {
    // instance-id: the VM's uuid, unique per VM, so a clone or a re-created VM counts as a new instance.
    metaData: metaData ?? buildMetaData(uuid, ci.hostname ?? (HOST_LABEL.test(req.name) ? req.name : undefined)),
    userData: userData ?? buildUserData({ hostname: ci.hostname, sshKeys }),
    networkConfig,
  };
}

/** The first of the tools found on PATH (each writes or reads seed images); else the package to install. */
export async function pickSeedTool<T extends string>(ctx: Context, tools: readonly T[]): Promise<T> {
  for (const tool of tools) {
    if (await findOnPath(ctx.fs, tool, ctx.io.env.PATH)) return tool;
  }
  throw new MissingToolError('genisoimage');
}

export function pickIsoTool(ctx: Context): Promise<SeedIsoTool> {
  return pickSeedTool(ctx, SEED_ISO_TOOLS);
}

/** Whether KVM works on this machine; undefined for a remote URI (only the remote capabilities count). */
export async function localKvm(ctx: Context): Promise<{ usable: boolean; reason: string } | undefined> {
  if (!isLocalUri(ctx.uri)) return undefined;
  const v = assessVirtualization(await readVirtualizationInputs(ctx.fs));
  return { usable: v.kvmUsable, reason: v.reason };
}
