/**
 * The npm package as a new user gets it: packed with `npm pack` from a checkout that
 * has only the repository's files (no dist/), installed into an empty folder (and
 * globally into a prefix), then run with nothing else from the repository.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvmctl, lab } from './lab.js';
import { collectHelp, pageDisagreements, renderWithMan } from '../unit/help-facts.js';
import { parseOutput } from '../support/schemas.js';

const execFileAsync = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'kvmctl-pack-'));
const checkout = join(work, 'checkout');
// npm must not reach for the registry: the package has no dependencies to fetch.
const npmEnv = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** The files a clean clone of this tree has: tracked and new ones, nothing ignored (no dist/, no node_modules/). */
function cleanCheckout(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(f));
  for (const f of files) {
    mkdirSync(join(checkout, dirname(f)), { recursive: true });
    cpSync(f, join(checkout, f));
  }
  // The build tools only: installing them again would need the registry.
  symlinkSync(resolve('node_modules'), join(checkout, 'node_modules'));
}

function pack(...flags: string[]): string {
  const out = execFileSync('npm', ['pack', '--pack-destination', work, '--silent', ...flags], { cwd: checkout, encoding: 'utf8', env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return join(work, out.split('\n').pop() ?? '');
}

function installInto(folder: string, tarball: string): void {
  mkdirSync(folder);
  execFileSync('npm', ['install', '--no-save', tarball], { cwd: folder, encoding: 'utf8', env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** npx in the folder, as a user would type it; netns: inside the lab's network namespace. */
function npx(folder: string, args: string[], netns?: string) {
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'npx', 'kvmctl', ...args]] : ['npx', ['kvmctl', ...args]];
  const r = spawnSync(cmd, argv, { cwd: folder, encoding: 'utf8', env: { ...npmEnv, HOME: work, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  cleanCheckout();
  expect(existsSync(join(checkout, 'dist'))).toBe(false);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  let tarball = '';
  const app = join(work, 'app');
  const installed = join(app, 'node_modules', 'kvmctl');

  it('npm pack builds first (prepack): the tarball holds the bundle, its code cache, what runs before it and the man page', () => {
    tarball = pack();
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(listing).toEqual(expect.arrayContaining(['package/dist/kvmctl.cjs', 'package/dist/kvmctl.cjs.cache', 'package/dist/early.cjs', 'package/dist/kvmctl.1', 'package/schemas/error.schema.json', 'package/bin/kvmctl', 'package/package.json']));
  });

  it('installs into an empty folder and runs: npx kvmctl --help, host -o json against the lab, man -l on its page', async () => {
    installInto(app, tarball);
    // Everything the CLI needs is bundled: the installed package has no node_modules of its own.
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json', 'schemas']);
    // The JSON Schemas of -o json ship as they are in the repository.
    for (const f of readdirSync('schemas')) expect(readFileSync(join(installed, 'schemas', f), 'utf8')).toBe(readFileSync(join('schemas', f), 'utf8'));
    expect(readdirSync(join(installed, 'schemas')).sort()).toEqual(readdirSync('schemas').sort());
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['early.cjs', 'kvmctl.1', 'kvmctl.cjs', 'kvmctl.cjs.cache']);
    const shippedCache = readFileSync(join(installed, 'dist', 'kvmctl.cjs.cache'));

    const usage = npx(app, ['--help']);
    expect(usage.stderr).toBe('');
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^Usage: kvmctl \[options\] \[command\]/);

    const host = npx(app, ['-c', lab.uri, 'host', '-o', 'json'], lab.netns);
    expect(host.code).toBe(0);
    const facts = parseOutput(['host'], host.stdout);
    expect(facts.libvirt).toMatchObject({ reachable: true, uri: lab.uri });
    expect(facts.networks.map((n: { name: string }) => n.name)).toContain('default');
    // vm list's session, started by dist/early.cjs before the bundle loads.
    const vms = npx(app, ['-c', lab.uri, 'vm', 'list', '-o', 'json'], lab.netns);
    expect(vms.stderr).toBe('');
    expect(vms.code).toBe(0);
    expect(Array.isArray(parseOutput(['vm', 'list'], vms.stdout))).toBe(true);

    // The installed page says what the installed CLI's --help says, command by command.
    const rendered = renderWithMan(join(installed, 'dist', 'kvmctl.1'));
    expect(rendered).toMatch(/^KVMCTL\(1\)/);
    // The installed program itself (npx would only add its own start-up to each of ~80 runs).
    const help = await collectHelp(async (path) => (await execFileAsync(process.execPath, [join(installed, 'bin', 'kvmctl'), ...path, '--help'], { cwd: app, encoding: 'utf8' })).stdout);
    expect(help.size).toBeGreaterThan(70);
    expect(pageDisagreements(rendered, help)).toEqual([]);
    // A run uses the shipped code cache and leaves it as it is.
    expect(readFileSync(join(installed, 'dist', 'kvmctl.cjs.cache')).equals(shippedCache)).toBe(true);
  });

  it('npm install -g puts the command on PATH and the page where man finds it', () => {
    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, tarball], { encoding: 'utf8', env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: work, MANPATH: join(prefix, 'share', 'man'), LC_ALL: 'C.UTF-8', MANWIDTH: '120', PAGER: 'cat' };
    const version = spawnSync('kvmctl', ['--version'], { encoding: 'utf8', cwd: work, env });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')).version);
    expect(version.status).toBe(0);
    expect(lstatSync(join(prefix, 'share', 'man', 'man1', 'kvmctl.1')).isSymbolicLink()).toBe(true);
    const page = spawnSync('man', ['kvmctl'], { encoding: 'utf8', cwd: work, env });
    expect(page.status).toBe(0);
    expect(page.stdout).toMatch(/^KVMCTL\(1\)/);
    expect(page.stdout).toMatch(/^ {3}kvmctl vm create \[options\] <name>$/m);
  });

  it('a package packed without building fails --help and the --version probe alike: one line, exit 1', () => {
    rmSync(join(checkout, 'dist'), { recursive: true, force: true });
    const broken = pack('--ignore-scripts');
    const folder = join(work, 'broken');
    installInto(folder, broken);
    expect(existsSync(join(folder, 'node_modules', 'kvmctl', 'dist'))).toBe(false);
    for (const args of [['--help'], ['--version'], ['host']]) {
      const r = npx(folder, args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^kvmctl: error: this install has no \/.*\/node_modules\/kvmctl\/dist\/kvmctl\.cjs: it was packed without building; reinstall .*npm run build.*\n$/);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });
});

describe('missing tools', () => {
  it('a missing virsh is exit 5 naming the Debian and Fedora packages', () => {
    // No netns: `ip netns exec` itself would not be found on this PATH.
    const r = kvmctl(['host', 'check'], { netns: null, env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/virsh is not installed/);
    expect(r.stdout).toMatch(/apt-get install libvirt-clients/);
    expect(r.stdout).toMatch(/dnf install libvirt-client/);
  });
});
