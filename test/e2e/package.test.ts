import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kvmctl } from './lab.js';

describe('the npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'kvmctl-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs into a tarball that installs globally and runs with nothing else from the repo', () => {
    const out = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { encoding: 'utf8' }).trim();
    const tarball = join(work, out.split('\n').pop() ?? '');
    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { encoding: 'utf8' });
    // Everything the CLI needs is bundled: the installed package has no node_modules of its own.
    const installed = join(prefix, 'lib', 'node_modules', 'kvmctl');
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
    const bin = join(prefix, 'bin', 'kvmctl');
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: work };
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8', cwd: work, env });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // The bundle ships with the V8 code cache made from it; a run uses it and leaves it as it is.
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['kvmctl.cjs', 'kvmctl.cjs.cache']);
    const cache = join(installed, 'dist', 'kvmctl.cjs.cache');
    const shipped = readFileSync(cache);
    const help = spawnSync(bin, ['vm', '--help'], { encoding: 'utf8', cwd: work, env });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: kvmctl vm/);
    expect(readFileSync(cache).equals(shipped)).toBe(true);
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
