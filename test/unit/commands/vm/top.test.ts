/** vm top: rates from a recorded domstats pair, and its readings over a fake runner. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { parseDomstats } from '../../../../src/libvirt/domstats.js';
import { computeSample, runVmTop } from '../../../../src/commands/vm/top.js';
import { parseLines } from '../../../support/schemas.js';
import { testContext, URI } from '../../../support/harness.js';

const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures/recorded', dir, file), 'utf8');
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('vm top rates (a recorded domstats pair)', () => {
  const first = { atMs: 10_000, stats: parseDomstats(fixture('top', 'virsh-domstats-top-1.txt')) };
  const second = { atMs: 12_000, stats: parseDomstats(fixture('top', 'virsh-domstats-top-2.txt')) };
  const sample = computeSample(first, second, new Date('2026-12-01T22:14:40Z'));

  it('CPU % of one host CPU, memory (rss), and per-second disk and network rates over the 2 s between readings', () => {
    expect(sample.sampledAt).toBe('2026-12-01T22:14:40.000Z');
    expect(sample.intervalSeconds).toBe(2);
    // busiest first
    expect(sample.vms.map((v) => v.name)).toEqual(['tiny19', 'g19']);
    const [tiny, g19] = sample.vms;
    // (1540000000 - 1020000000) ns / 2 s = 26 % of a CPU; (106890000000 - 106870000000) / 2 s = 1 %
    expect(tiny).toMatchObject({ cpuPercent: 26, memoryBytes: 156064 * 1024, netRxBytesPerSecond: 0, cpuTimeSeconds: 1.54 });
    expect(g19).toMatchObject({ cpuPercent: 1, memoryBytes: 1399452 * 1024, netRxBytes: 28888, netRxBytesPerSecond: 26, netTxBytesPerSecond: 0, diskReadBytesPerSecond: 0, diskReadBytes: 126363136 + 333824 });
  });

  it('a VM missing from the first reading, or whose counters went down (restarted), has no rates', () => {
    const only = computeSample({ atMs: 0, stats: first.stats.filter((d) => d.name !== 'tiny19') }, { ...second, atMs: 2000 }, new Date(0));
    expect(only.vms.find((v) => v.name === 'tiny19')).toMatchObject({ cpuPercent: null, netRxBytesPerSecond: null });
    const restarted = computeSample({ atMs: 0, stats: second.stats }, { atMs: 2000, stats: first.stats }, new Date(0));
    expect(restarted.vms.find((v) => v.name === 'tiny19')?.cpuPercent).toBeNull();
  });
});

describe('vm top over a fake runner', () => {
  it('one domstats call per reading however many VMs (--count 2: three readings), NDJSON samples', async () => {
    const argv = ['virsh', '-c', URI, 'domstats', '--raw', '--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block', '--list-active'];
    const readings = [fixture('top', 'virsh-domstats-top-1.txt'), fixture('top', 'virsh-domstats-top-2.txt'), fixture('top', 'virsh-domstats-top-2.txt')];
    const fake = new FakeRunner().stub(argv, () => ({ stdout: readings.shift() ?? '' }), 3);
    const { ctx, io } = testContext(fake, { output: 'json' });
    await runVmTop(ctx, { interval: '0.2', count: '2' });
    fake.verify();
    expect(fake.calls).toHaveLength(3);
    const samples = parseLines(['vm', 'top'], io.out);
    expect(samples).toHaveLength(2);
    expect(samples[0].vms.map((v: { name: string }) => v.name)).toEqual(['tiny19', 'g19']);
    // The third reading repeats the second: nothing moved.
    expect(samples[1].vms.every((v: { cpuPercent: number }) => v.cpuPercent === 0)).toBe(true);
  });
});
