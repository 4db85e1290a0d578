/**
 * `kvmctl -H a -H b host` in the middle of a live migration a -> b, from recorded
 * output: the lab host's facts (test/fixtures/recorded/virsh-host-batch.txt) with
 * the domstats recorded on the source and on the target during the migration of
 * fxmig (test/fixtures/recorded/migration). The VM is counted once, on the source.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../../src/main.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { memoryIO } from '../../../../src/output/io.js';
import { memoryFs } from '../../../../src/local-fs.js';
import { parseOutput } from '../../../support/schemas.js';
import { stubSessionOutputs } from '../../../support/harness.js';

const rec = (f: string) => readFileSync(new URL(`../../../fixtures/recorded/${f}`, import.meta.url), 'utf8');
const SEPARATOR = 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n';
const U = (n: string) => `qemu+unix:///system?socket=/run/${n}/libvirt-sock`;
const dir = mkdtempSync(join(tmpdir(), 'kvmctl-fleet-host-'));
const hostsFile = join(dir, 'hosts.yaml');
writeFileSync(hostsFile, `hosts:\n  a: {uri: "${U('a')}"}\n  b: {uri: "${U('b')}"}\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where fxmig is during the migration: running on a (the source), paused for the migration on b. */
const DURING = { a: rec('migration/domstats-during-source.txt'), b: rec('migration/domstats-list-nowait-during-target.txt') };
const TARGET_MEMORY = 204800 * 1024;

/** Each host's session answers the recorded host batch, its domstats (the 4th read) replaced by the one recorded there. */
function fleetRunner(domstats: Partial<Record<'a' | 'b', string>>): FakeRunner {
  const r = new FakeRunner();
  for (const [h, stats] of Object.entries(domstats)) {
    const outputs = rec('virsh-host-batch.txt').split(SEPARATOR);
    outputs[3] = stats;
    stubSessionOutputs(r, [outputs, [rec('virsh-net-dumpxml-default.xml')]], U(h));
  }
  const hosts = Object.keys(domstats).length;
  return r.stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: rec('ip-j-d-addr-show.json') }, hosts).stub(['iptables-save'], { stdout: rec('iptables-save.txt') }, hosts);
}

async function kvmctl(args: string[], runner: FakeRunner) {
  const io = memoryIO({ PATH: '/usr/bin', KVMCTL_STATE_DIR: join(dir, 'state'), KVMCTL_HOSTS: hostsFile });
  const fs = memoryFs({ '/proc/cpuinfo': rec('proc-cpuinfo-first-cpu.txt'), '/usr/bin/virsh': '' });
  const code = await main(['node', 'kvmctl', ...args], { io, runner, fs, version: '0', signal: new AbortController().signal, argv: [] });
  return { code, out: io.out, err: io.err };
}

describe('-H host during a live migration', () => {
  it('counts the VM once, as running on the source; the target lists it as incoming and leaves it out of its counts', async () => {
    const runner = fleetRunner(DURING);
    const r = await kvmctl(['-H', 'a', '-H', 'b', 'host', '-o', 'json'], runner);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const { items, hosts } = parseOutput(['-H', 'a', '-H', 'b', 'host'], r.out);
    expect(hosts).toEqual([
      { host: 'a', ok: true, error: null },
      { host: 'b', ok: true, error: null },
    ]);
    const [a, b] = items;
    expect(a.host).toBe('a');
    expect(a.capacity).toMatchObject({ running: { vms: 1 }, defined: { vms: 1 }, incoming: [] });
    expect(b.host).toBe('b');
    expect(b.capacity).toMatchObject({ running: { vms: 0, vcpus: 0, memoryBytes: 0 }, defined: { vms: 0, vcpus: 0, memoryBytes: 0 }, incoming: [{ name: 'fxmig', from: 'a', vcpus: 1, memoryBytes: TARGET_MEMORY }] });
    expect(b.capacity.cpuOvercommit.running).toBe(0);
    // Over the fleet: one running VM.
    expect(items.reduce((n: number, h: { capacity: { running: { vms: number } } }) => n + h.capacity.running.vms, 0)).toBe(1);
    runner.verify();
  });

  it('the table of the target names the incoming VM and where it is counted', async () => {
    const r = await kvmctl(['-H', 'a', '-H', 'b', 'host'], fleetRunner(DURING));
    expect(r.code).toBe(0);
    const [, onA, onB] = r.out.split(/^== [ab] ==\n/m);
    expect(onA).toMatch(/^running VMs\s+1 \(/m);
    expect(onA).not.toMatch(/^incoming VMs/m);
    expect(onB).toMatch(/^running VMs\s+0 \(0 vCPUs, 0 B\)$/m);
    expect(onB).toMatch(/^incoming VMs\s+1 \(fxmig from a; counted there until it has moved\)$/m);
  });

  it('the target alone (its source not in the report) counts the VM as it sees it: paused, so running', async () => {
    const r = await kvmctl(['-H', 'b', 'host', '-o', 'json'], fleetRunner({ b: DURING.b }));
    expect(r.code).toBe(0);
    const [b] = parseOutput(['-H', 'b', 'host'], r.out).items;
    expect(b.capacity).toMatchObject({ running: { vms: 1, vcpus: 1, memoryBytes: TARGET_MEMORY }, incoming: [] });
  });

  it('one name running on two hosts, neither migrating, is two VMs', async () => {
    const r = await kvmctl(['-H', 'a', '-H', 'b', 'host', '-o', 'json'], fleetRunner({ a: DURING.a, b: DURING.a }));
    expect(r.code).toBe(0);
    expect(parseOutput(['-H', 'a', '-H', 'b', 'host'], r.out).items.map((h: { capacity: { running: { vms: number }; incoming: unknown[] } }) => [h.capacity.running.vms, h.capacity.incoming.length])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });
});
