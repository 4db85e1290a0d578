/** Runs the built CLI (bin/kvmctl) against libvirt's test driver: no daemon, no root, a fresh host per virsh process. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseOutput } from '../support/schemas.js';

/** The test driver's built-in host: one running domain `test`, pool `default-pool`, network `default`. */
export const DEFAULT_URI = 'test:///default';
/** A host of our own (fixtures/host.xml): two domains, a pool with their volumes, a NAT network with a reservation. */
export const HOST_URI = `test://${resolve('test/integration/fixtures/host.xml')}`;

const STATE_DIR = mkdtempSync(join(tmpdir(), 'kvmctl-integration-state-'));

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export function kvmctl(uri: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [resolve('bin/kvmctl'), '-c', uri, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KVMCTL_STATE_DIR: STATE_DIR, NO_COLOR: '1', LC_ALL: 'C', KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' },
  });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `-o json` output, parsed and checked against its command's schema; the command must succeed. */
export function json<T = unknown>(uri: string, ...args: string[]): T {
  const r = kvmctl(uri, '-o', 'json', ...args);
  if (r.code !== 0) throw new Error(`kvmctl ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return parseOutput<T>(args, r.out);
}

const MUTATING = new Set([
  'start', 'destroy', 'shutdown', 'reboot', 'suspend', 'resume', 'define', 'undefine', 'autostart', 'setmem', 'setmaxmem', 'setvcpus',
  'vol-create', 'vol-create-as', 'vol-create-from', 'vol-delete', 'vol-resize', 'vol-wipe', 'vol-upload',
  'pool-define', 'pool-build', 'pool-start', 'pool-destroy', 'pool-delete', 'pool-undefine', 'pool-autostart',
  'net-define', 'net-start', 'net-destroy', 'net-undefine', 'net-update', 'net-autostart',
  'snapshot-create', 'snapshot-create-as', 'snapshot-delete', 'snapshot-revert',
]);

/** The virsh commands one "+ virsh -c URI …" line runs: its first word, or for a batch (one shell-quoted argument) the first word of each command in it. */
function commandWords(line: string): string[] {
  const rest = line.replace(/^\+ virsh -c \S+ /, '');
  if (!rest.startsWith("'")) return [rest.split(' ')[0] ?? ''];
  const script = rest.slice(1, -1).replaceAll("'\\''", "'");
  return script.split(/\s*;\s*/).map((c) => (c.trim().split(/\s+/)[0] ?? '').replace(/^'|'$/g, ''));
}

/** The virsh calls of a -v run (its "+ virsh …" lines) that would change state. */
export function mutatingCalls(err: string): string[] {
  return err
    .split('\n')
    .filter((l) => l.startsWith('+ virsh '))
    .filter((l) => commandWords(l).some((w) => MUTATING.has(w)));
}
