/** `host list`: the inventory, and each host's probe replayed from recorded virsh output. */
import { readFileSync, writeFileSync } from 'node:fs';
import { NotFoundError } from '../../../../src/errors.js';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { CommandTimeoutError } from '../../../../src/exec/runner.js';
import { selectHosts, loadInventory } from '../../../../src/inventory/hosts-file.js';
import { virshBatch } from '../../../../src/libvirt/virsh.js';
import { folder, kvmctl } from './inventory-folder.js';
import { parseOutput } from '../../../support/schemas.js';

const rec = (f: string) => readFileSync(new URL(`../../../fixtures/recorded/${f}`, import.meta.url), 'utf8');

describe('host list', () => {
  const URI1 = 'qemu+unix:///system?socket=/run/a/libvirt-sock';
  const URI2 = 'qemu+unix:///system?socket=/run/gone/libvirt-sock';
  const probe = (uri: string) => virshBatch(uri, [['version', '--daemon'], ['nodecpustats', '--percent'], ['nodememstats']]);
  const SEP = 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n';

  it('an empty KVMCTL_URI is unset, not a malformed URI: host list runs (it needs no URI)', async () => {
    writeFileSync(folder.file, `hosts:\n  a:\n    uri: "${URI1}"\n`);
    const r = await kvmctl(['host', 'list', '--no-probe', '-o', 'json'], new FakeRunner(), { KVMCTL_HOSTS: folder.file, KVMCTL_URI: '' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(parseOutput(['host', 'list'], r.out).map((h: { name: string }) => h.name)).toEqual(['a']);
    expect(r.runner.calls).toEqual([]);
  });

  it('asks every host once (one virsh each, with the host timeout) and shows who answers', async () => {
    writeFileSync(folder.file, `hosts:\n  a:\n    uri: "${URI1}"\n    labels: {rack: a1}\n  gone:\n    uri: "${URI2}"\ngroups:\n  web: [a, gone]\n`);
    const runner = new FakeRunner()
      .stub([probe(URI1).program, ...probe(URI1).args], { stdout: rec('virsh-version-daemon.txt') + SEP + rec('virsh-nodecpustats-percent.txt') + SEP + rec('virsh-nodememstats.txt') })
      .stub([probe(URI2).program, ...probe(URI2).args], { exitCode: 1, stderr: rec('err-virsh-unreachable.stderr') });
    const r = await kvmctl(['host', 'list', '-o', 'json', '--host-timeout', '3'], runner);
    expect(r.code).toBe(0);
    const hosts = parseOutput(['host', 'list'], r.out);
    expect(hosts[0]).toMatchObject({ name: 'a', answers: true, libvirtVersion: '9.0.0', labels: { rack: 'a1' }, groups: ['web'] });
    expect(typeof hosts[0].cpuUsedPercent).toBe('number');
    expect(hosts[0].memoryFreeBytes).toBeGreaterThan(0);
    expect(hosts[1]).toMatchObject({ name: 'gone', answers: false, error: expect.stringMatching(/Failed to connect socket/) });
    expect(runner.calls).toHaveLength(2);
    expect(runner.calls.every((c) => c.timeoutMs === 3000)).toBe(true);
  });

  it('a host out of --host-timeout reads as -H says it; the table shows each migration address', async () => {
    writeFileSync(folder.file, `hosts:\n  a:\n    uri: "${URI1}"\n    migrationAddress: fd00::11\n  slow:\n    uri: "${URI2}"\n`);
    const runner = new FakeRunner()
      .stub([probe(URI1).program, ...probe(URI1).args], { stdout: rec('virsh-version-daemon.txt') + SEP + rec('virsh-nodecpustats-percent.txt') + SEP + rec('virsh-nodememstats.txt') })
      .stub([probe(URI2).program, ...probe(URI2).args], (cmd) => {
        throw new CommandTimeoutError(cmd);
      });
    const r = await kvmctl(['host', 'list', '--host-timeout', '2.5'], runner);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NAME\s+URI\s+GROUPS\s+LABELS\s+MIGRATION\s+ANSWERS\s+LIBVIRT\s+CPU\s+MEM FREE$/m);
    expect(r.out).toMatch(/^a\s+\S+\s+-\s+-\s+fd00::11\s+yes\s+9\.0\.0\s/m);
    expect(r.out).toMatch(/^slow\s+\S+\s+-\s+-\s+-\s+no: no answer within 2\.5 s; its programs were stopped\s/m);
  });

  it('bad --parallel and --host-timeout are exit 2 before any host is asked', async () => {
    writeFileSync(folder.file, `hosts:\n  a:\n    uri: "${URI1}"\n`);
    for (const args of [['--parallel', '0'], ['--parallel', '1e3'], ['--host-timeout', '-1'], ['--host-timeout', 'x']]) {
      const r = await kvmctl(['host', 'list', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/invalid --(parallel|host-timeout)/);
      expect(r.runner.calls).toEqual([]);
    }
  });

  it('selects hosts by name, @group and all; an unknown one is exit 3', async () => {
    writeFileSync(folder.file, `hosts:\n  a: {uri: "${URI1}"}\n  b: {uri: "${URI2}"}\ngroups:\n  web: [b]\n`);
    const inv = await loadInventory(folder.file);
    expect(selectHosts(inv, ['all']).map((h) => h.name)).toEqual(['a', 'b']);
    expect(selectHosts(inv, ['@web', 'b']).map((h) => h.name)).toEqual(['b']);
    expect(() => selectHosts(inv, ['zz'])).toThrow(/no host "zz"/);
    expect(() => selectHosts(inv, ['@nope'])).toThrow(/no group "nope"/);
    expect(() => selectHosts(inv, ['@nope'])).toThrow(NotFoundError);
  });

  it("a file naming a host 'auto', or a URI that is no host's, is refused with the line's problem", async () => {
    for (const [text, message] of [
      [`hosts:\n  auto: {uri: "${URI1}"}\n`, /invalid host name "auto": 'auto' means placement/],
      ['hosts:\n  a: {uri: "qemu:///system;ls"}\n', /host a: uri: "qemu:\/\/\/system;ls" is not a libvirt URI of a host: the path is "\/system;ls"/],
    ] as const) {
      writeFileSync(folder.file, text);
      await expect(loadInventory(folder.file)).rejects.toThrow(message);
    }
  });
});
