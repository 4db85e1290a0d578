/**
 * The single executable (npm run build:binary) run the way a user without Node
 * would: copied alone into an empty folder and started with a PATH on which no
 * `node` can be found, only the host tools kvmctl drives.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvmctlJson, lab } from './lab.js';
import { snapshotHost } from './host-state.js';
import { machine } from './machine.js';
import { parseOutput } from '../support/schemas.js';

const BINARY_NAME = `kvmctl-${process.platform}-${process.arch}`;
const BUILT = resolve('dist', BINARY_NAME);
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
// What `kvmctl host` runs or looks for; iptables-save and iptables are multi-call
// binaries, so each is linked under its own name.
const HOST_TOOLS = ['virsh', 'qemu-img', 'ip', 'iptables', 'iptables-save'];

const work = mkdtempSync(join(tmpdir(), 'kvmctl-binary-'));
const binary = join(work, 'app', BINARY_NAME);
const toolsDir = join(work, 'tools');
let ipPath = '';

function which(program: string): string {
  return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', program], { encoding: 'utf8' }).trim();
}

/** The binary with only toolsDir on PATH and nothing inherited from this (node) process's environment. */
function runBinary(args: string[], opts: { netns?: boolean } = {}) {
  const argv = opts.netns ? ['-c', lab.uri, ...args] : args;
  const [cmd, cmdArgs] = opts.netns ? [ipPath, ['netns', 'exec', lab.netns, binary, ...argv]] : [binary, argv];
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', cwd: work, env: { PATH: toolsDir, NO_COLOR: '1', HOME: work }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  // npm test rebuilds dist/kvmctl.cjs first; a binary older than it is stale.
  if (!existsSync(BUILT) || statSync(BUILT).mtimeMs < statSync('dist/kvmctl.cjs').mtimeMs) {
    execFileSync(process.execPath, ['scripts/build-binary.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  mkdirSync(join(work, 'app'));
  copyFileSync(BUILT, binary);
  mkdirSync(toolsDir);
  for (const tool of HOST_TOOLS) symlinkSync(which(tool), join(toolsDir, tool));
  ipPath = which('ip');
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the single executable', () => {
  it('is one ELF file, and node cannot be found on the PATH it runs with', () => {
    expect(readdirSync(join(work, 'app'))).toEqual([BINARY_NAME]);
    const head = Buffer.alloc(4);
    const fd = openSync(binary, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    expect(head.toString('latin1')).toBe('\x7fELF');
    // Only the C and C++ runtime libraries, no libnode.so.
    const libs = execFileSync('ldd', [binary], { encoding: 'utf8' });
    expect(libs).toMatch(/libc\.so/);
    expect(libs).not.toMatch(/libnode|not found/);
    const lookup = spawnSync('/bin/sh', ['-c', 'command -v node || command -v nodejs'], { encoding: 'utf8', env: { PATH: toolsDir } });
    expect(lookup.status).not.toBe(0);
    expect(lookup.stdout).toBe('');
  });

  it('--version prints the package version', () => {
    const r = runBinary(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('--help lists the nouns, examples and exit codes', () => {
    const r = runBinary(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kvmctl \[options\] \[command\]/);
    for (const noun of ['host', 'vm', 'pool', 'volume', 'bridge', 'net']) expect(r.stdout).toMatch(new RegExp(`^  ${noun}\\b`, 'm'));
    expect(r.stdout).toMatch(/Examples:\n  \$ kvmctl host/);
    expect(r.stdout).toMatch(/Exit codes:\n  0 /);
  });

  it('host reports the lab host, using the tools on its PATH', () => {
    const r = runBinary(['host'], { netns: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reachable\s+yes/);
    expect(r.stdout).toMatch(new RegExp(`KVM usable\\s+${machine.kvmUsable ? 'yes' : 'no'}: ${machine.kvmReason.source}`));
    expect(r.stdout).toMatch(/default\s+active\s+yes\s+virbr0\s+nat\s+192\.168\.122\.0\/24/);
    // virbr0 is DOWN until a guest's tap joins it, so only its address is checked.
    expect(r.stdout).toMatch(/^virbr0\s+(UP|DOWN)\s+1500\s+\S+\s+192\.168\.122\.1\/24/m);
  });

  it('host -o json gives the same facts as the JavaScript build', () => {
    const r = runBinary(['host', '-o', 'json'], { netns: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fromBinary = parseOutput(['host'], r.stdout);
    const fromBundle = kvmctlJson(['host']);
    expect(fromBinary.libvirt).toEqual(fromBundle.libvirt);
    expect(fromBinary.libvirt.reachable).toBe(true);
    expect(fromBinary.networks).toEqual(fromBundle.networks);
    expect(fromBinary.nat).toEqual(fromBundle.nat);
    expect(fromBinary.capacity.defined).toEqual(fromBundle.capacity.defined);
    expect(fromBinary.bridges).toEqual(fromBundle.bridges);
    expect(fromBinary.tools).toContainEqual({ name: 'virsh', path: join(toolsDir, 'virsh') });
  });

  it('an unknown command is exit 2 with the usage hint, and changes nothing', () => {
    const before = snapshotHost();
    const r = runBinary(['frobnicate'], { netns: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/kvmctl: unknown command 'frobnicate'\n\(run with --help for usage\)/);
    expect(r.stdout).toBe('');
    expect(snapshotHost()).toEqual(before);
  });
});
