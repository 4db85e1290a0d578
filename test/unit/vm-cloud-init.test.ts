/**
 * NoCloud seeds: the files kvmctl writes and the image tools' argv. Real images
 * made by the real genisoimage and xorriso: test/integration/seed-iso.test.ts.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';
import { buildMetaData, buildUserData, isSshPublicKey, seedIsoCommand, sshKeysOf, writeSeedImage } from '../../src/libvirt/cloud-init.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx1cD0ucVvcQNmYx9vM3Q0dyV3R5Z3n2mY1zR2w6h1a fx@kvmctl';

describe('NoCloud files', () => {
  it('meta-data carries the instance id and host name as quoted YAML scalars', () => {
    expect(buildMetaData('6f1c2a4e-0b7d-4c39-9a51-3f0e8d2b7c11', 'web1')).toBe('instance-id: "6f1c2a4e-0b7d-4c39-9a51-3f0e8d2b7c11"\nlocal-hostname: "web1"\n');
    expect(buildMetaData('id')).toBe('instance-id: "id"\n');
  });

  it('user-data from the short forms is #cloud-config with the keys as a list', () => {
    expect(buildUserData({ hostname: 'web1', sshKeys: [KEY] })).toBe(`#cloud-config\nhostname: "web1"\nssh_authorized_keys:\n  - ${JSON.stringify(KEY)}\n`);
    expect(buildUserData({ sshKeys: [] })).toBe('#cloud-config\n');
  });

  it('a value cannot break out of its YAML scalar', () => {
    const text = buildUserData({ sshKeys: ['ssh-ed25519 AAAA x"\nruncmd: [reboot]'] });
    expect(text.split('\n').filter((l) => l.startsWith('runcmd'))).toEqual([]);
  });

  it('finds the public keys of an authorized_keys-style file and rejects a private key', () => {
    expect(sshKeysOf(`# mine\n${KEY}\n\n  ecdsa-sha2-nistp256 AAAAE2Vj x@y  \n`)).toEqual([KEY, 'ecdsa-sha2-nistp256 AAAAE2Vj x@y']);
    expect(isSshPublicKey(KEY)).toBe(true);
    expect(isSshPublicKey('-----BEGIN OPENSSH PRIVATE KEY-----')).toBe(false);
    expect(isSshPublicKey('ssh-ed25519')).toBe(false);
  });

  it('builds the image argv for both tools with the cidata label; the image is not host state', () => {
    const g = seedIsoCommand('genisoimage', '/tmp/d/seed.iso', ['/tmp/d/user-data', '/tmp/d/meta-data']);
    expect([g.program, ...g.args]).toEqual(['genisoimage', '-output', '/tmp/d/seed.iso', '-volid', 'cidata', '-joliet', '-rock', '-input-charset', 'utf-8', '-quiet', '/tmp/d/user-data', '/tmp/d/meta-data']);
    expect(g.mutates).toBe(false);
    const x = seedIsoCommand('xorriso', '/tmp/d/seed.iso', ['/tmp/d/user-data']);
    expect(x.args.slice(0, 4)).toEqual(['-as', 'mkisofs', '-output', '/tmp/d/seed.iso']);
  });
});

describe('seed images', () => {
  it('a tool that fails leaves no temporary folder and reports its message', async () => {
    let dir = '';
    const runner = new FakeRunner().stub(
      (c) => c.program === 'genisoimage',
      (c) => {
        dir = dirname(c.args[1] ?? '');
        return { exitCode: 1, stderr: 'genisoimage: No space left on device\n' };
      },
    );
    await expect(writeSeedImage(runner, 'genisoimage', { metaData: 'a', userData: 'b' })).rejects.toThrow(/No space left on device/);
    expect(dir).not.toBe('');
    expect(existsSync(dir)).toBe(false);
    runner.verify();
  });
});
