/**
 * cloud-init NoCloud seeds (https://cloudinit.readthedocs.io/en/latest/reference/datasources/nocloud.html):
 * the meta-data / user-data / network-config files and the ISO 9660 image,
 * volume label `cidata`, that carries them to the guest as a CD-ROM.
 *
 * The image is built on this machine in a private temporary directory and
 * then streamed into a volume with `vol-upload`, so it works the same for a
 * remote libvirt URI.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCommand, type Command } from '../exec/command.js';
import { runChecked, type Runner } from '../exec/runner.js';

export interface NoCloudFiles {
  metaData: string;
  userData: string;
  networkConfig?: string;
}

/** The tools that can write the image, in order of preference (Debian: genisoimage, xorriso). */
export const SEED_ISO_TOOLS = ['genisoimage', 'xorriso'] as const;
export type SeedIsoTool = (typeof SEED_ISO_TOOLS)[number];

/** The volume label NoCloud looks for. */
export const SEED_LABEL = 'cidata';

// JSON strings are valid YAML scalars, so no value can break the document's structure.
const yamlString = (s: string) => JSON.stringify(s);

/** meta-data: a new instance-id makes cloud-init run its once-per-instance steps (host keys, users). */
export function buildMetaData(instanceId: string, hostname?: string): string {
  return `instance-id: ${yamlString(instanceId)}\n` + (hostname !== undefined ? `local-hostname: ${yamlString(hostname)}\n` : '');
}

/** user-data for the short forms --ssh-key and --hostname. */
export function buildUserData(opts: { hostname?: string; sshKeys: string[] }): string {
  const lines = ['#cloud-config'];
  if (opts.hostname !== undefined) lines.push(`hostname: ${yamlString(opts.hostname)}`);
  if (opts.sshKeys.length > 0) {
    lines.push('ssh_authorized_keys:');
    for (const key of opts.sshKeys) lines.push(`  - ${yamlString(key)}`);
  }
  return lines.join('\n') + '\n';
}

/** The public keys of an authorized_keys-style file: non-empty lines that are not comments. */
export function sshKeysOf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Whether a line looks like an OpenSSH public key ("ssh-ed25519 AAAA… comment"). */
export function isSshPublicKey(line: string): boolean {
  return /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/=]+(\s.*)?$/.test(line);
}

const FILE_NAMES: Array<[keyof NoCloudFiles, string]> = [
  ['userData', 'user-data'],
  ['metaData', 'meta-data'],
  ['networkConfig', 'network-config'],
];

/**
 * The argv that writes the seed image. Rock Ridge and Joliet keep the file
 * names (user-data, not USER_DAT) for every reader cloud-init uses.
 */
export function seedIsoCommand(tool: SeedIsoTool, output: string, files: string[]): Command {
  const common = ['-output', output, '-volid', SEED_LABEL, '-joliet', '-rock'];
  // The image goes to a private temporary directory, not to the host's state: not a mutation.
  if (tool === 'xorriso') return readCommand('xorriso', ['-as', 'mkisofs', ...common, '-quiet', ...files]);
  return readCommand('genisoimage', [...common, '-input-charset', 'utf-8', '-quiet', ...files]);
}

export interface SeedImage {
  /** The image file, in a directory only this process uses. */
  file: string;
  bytes: number;
  /** Removes the temporary directory. */
  dispose(): Promise<void>;
}

/** Writes the files and the image into a new private temporary directory. */
export async function writeSeedImage(runner: Runner, tool: SeedIsoTool, files: NoCloudFiles): Promise<SeedImage> {
  // mkdtemp creates the directory 0700: other local users cannot swap the files.
  const dir = await mkdtemp(join(tmpdir(), 'kvmctl-seed-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const paths: string[] = [];
    for (const [key, name] of FILE_NAMES) {
      const content = files[key];
      if (content === undefined) continue;
      const p = join(dir, name);
      await writeFile(p, content, { mode: 0o600 });
      paths.push(p);
    }
    const file = join(dir, 'seed.iso');
    await runChecked(runner, seedIsoCommand(tool, file, paths));
    return { file, bytes: (await stat(file)).size, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

// ---- a seed for a clone ------------------------------------------------------------

/** The tools that read files out of a seed image: isoinfo (genisoimage's package), xorriso. */
export const SEED_READ_TOOLS = ['isoinfo', 'xorriso'] as const;
export type SeedReadTool = (typeof SEED_READ_TOOLS)[number];

/** The argv that copies one file of the image (by its Rock Ridge name) to stdout (isoinfo) or to OUT (xorriso). */
export function seedExtractCommand(tool: SeedReadTool, image: string, name: string, out: string): Command {
  if (tool === 'xorriso') return readCommand('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', `/${name}`, out]);
  return readCommand('isoinfo', ['-R', '-i', image, '-x', `/${name}`]);
}

/**
 * The files of a seed image at IMAGE (a private local copy). Files the image
 * lacks (network-config) are absent; isoinfo prints nothing for them.
 */
export async function readSeedImage(runner: Runner, tool: SeedReadTool, image: string, workDir: string): Promise<Partial<NoCloudFiles>> {
  const files: Partial<NoCloudFiles> = {};
  for (const [key, name] of FILE_NAMES) {
    const out = join(workDir, `${name}.out`);
    const r = await runner.run(seedExtractCommand(tool, image, name, out));
    let text = r.stdout;
    if (tool === 'xorriso') text = r.exitCode === 0 ? await readFile(out, 'utf8').catch(() => '') : '';
    if (text !== '') files[key] = text;
  }
  return files;
}

/** Top-level YAML keys of a cloud-config or meta-data document, replaced or added as one line each. */
function setTopLevel(doc: string, values: Record<string, string>, drop: string[] = []): string {
  const keys = new Set([...Object.keys(values), ...drop]);
  const kept = doc.split('\n').filter((line) => {
    const key = /^([A-Za-z_-]+):/.exec(line)?.[1];
    return key === undefined || !keys.has(key);
  });
  const added = Object.entries(values).map(([k, v]) => `${k}: ${yamlString(v)}`);
  // A #cloud-config header must stay the first line.
  const head = kept[0]?.startsWith('#') ? [kept.shift() ?? ''] : [];
  return [...head, ...added, ...kept].join('\n');
}

/**
 * The seed of a clone, from its source's: a new instance-id (cloud-init then
 * makes new ssh host keys and reapplies network config), the
 * clone's host name in meta-data and (when the user-data sets one) in
 * user-data, everything else of the user-data unchanged, and the network
 * config with each of the source's MACs replaced by the clone's.
 */
export function cloneSeedFiles(src: Partial<NoCloudFiles>, o: { instanceId: string; hostname: string; macs: Array<[string, string]> }): NoCloudFiles {
  const metaData = setTopLevel(src.metaData ?? '', { 'instance-id': o.instanceId, 'local-hostname': o.hostname });
  let userData = src.userData ?? '#cloud-config\n';
  if (/^(hostname|fqdn):/m.test(userData)) userData = setTopLevel(userData, { hostname: o.hostname }, ['fqdn']);
  let networkConfig = src.networkConfig;
  for (const [from, to] of o.macs) {
    if (networkConfig !== undefined) networkConfig = networkConfig.replace(new RegExp(from.replace(/:/g, '[:-]'), 'gi'), to);
  }
  return { metaData: metaData.endsWith('\n') ? metaData : `${metaData}\n`, userData, networkConfig };
}
