/**
 * `vm top [--interval S] [--once] [--count N]`: each running VM's CPU %,
 * memory, disk and network rates. One `virsh domstats` per refresh, whatever
 * the number of VMs; a rate is the difference of two readings' counters over
 * the time between them, so the first sample comes one interval after start.
 * On a terminal the table is redrawn in place (q or Ctrl-C quits); else one
 * table per sample, or with -o json one JSON object a line (NDJSON).
 */
import type { Context } from '../../context.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { domstatsCall, numberStat, parseDomstats, stateName, type DomainStats } from '../../libvirt/domstats.js';
import { byText, type Column } from '../../output/table.js';
import { formatBytes } from '../../units/size.js';
import { flag, value, verb, type OptionsOf } from '../../verb.js';
import { sleep } from './wait.js';

export interface Reading {
  /** When the domstats call returned (ms, monotonic). */
  atMs: number;
  stats: DomainStats[];
}

/** One VM in one sample: its counters at the second reading and the rates since the first (null when it was not running at both). */
export interface TopRow {
  name: string;
  state: string;
  vcpus: number | null;
  /** CPU time the VM used since it started. */
  cpuTimeSeconds: number | null;
  memoryBytes: number | null;
  diskReadBytes: number;
  diskWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  /** Percent of one host CPU (100 = one CPU busy the whole interval). */
  cpuPercent: number | null;
  diskReadBytesPerSecond: number | null;
  diskWriteBytesPerSecond: number | null;
  netRxBytesPerSecond: number | null;
  netTxBytesPerSecond: number | null;
}

export interface TopSample {
  sampledAt: string;
  intervalSeconds: number;
  vms: TopRow[];
}

function sum(stats: Record<string, string>, group: 'block' | 'net', key: string): number {
  let total = 0;
  const count = numberStat(stats, `${group}.count`) ?? 0;
  for (let i = 0; i < count; i++) total += numberStat(stats, `${group}.${i}.${key}`) ?? 0;
  return total;
}

function countersOf(d: DomainStats) {
  const s = d.stats;
  // balloon.rss: what QEMU holds on the host (KiB); balloon.current: what the guest has.
  const kib = numberStat(s, 'balloon.rss') ?? numberStat(s, 'balloon.current');
  return {
    name: d.name,
    state: stateName(s),
    vcpus: numberStat(s, 'vcpu.current') ?? null,
    cpuTimeNs: numberStat(s, 'cpu.time'),
    memoryBytes: kib === undefined ? null : kib * 1024,
    diskReadBytes: sum(s, 'block', 'rd.bytes'),
    diskWriteBytes: sum(s, 'block', 'wr.bytes'),
    netRxBytes: sum(s, 'net', 'rx.bytes'),
    netTxBytes: sum(s, 'net', 'tx.bytes'),
  };
}

/** A counter that went down belongs to a new run of the VM: no rate from it. */
function rate(now: number | undefined, before: number | undefined, seconds: number): number | null {
  if (now === undefined || before === undefined || now < before || seconds <= 0) return null;
  return (now - before) / seconds;
}

export function computeSample(first: Reading, second: Reading, now: Date): TopSample {
  const seconds = (second.atMs - first.atMs) / 1000;
  const before = new Map(first.stats.map((d) => [d.name, countersOf(d)]));
  const vms = second.stats.map((d): TopRow => {
    const { cpuTimeNs, ...c } = countersOf(d);
    const b = before.get(d.name);
    const cpu = rate(cpuTimeNs, b?.cpuTimeNs, seconds);
    return {
      ...c,
      cpuTimeSeconds: cpuTimeNs === undefined ? null : cpuTimeNs / 1e9,
      cpuPercent: cpu === null ? null : Math.round((cpu / 1e9) * 1000) / 10,
      diskReadBytesPerSecond: rate(c.diskReadBytes, b?.diskReadBytes, seconds),
      diskWriteBytesPerSecond: rate(c.diskWriteBytes, b?.diskWriteBytes, seconds),
      netRxBytesPerSecond: rate(c.netRxBytes, b?.netRxBytes, seconds),
      netTxBytesPerSecond: rate(c.netTxBytes, b?.netTxBytes, seconds),
    };
  });
  vms.sort((x, y) => (y.cpuPercent ?? -1) - (x.cpuPercent ?? -1) || byText(x.name, y.name));
  return { sampledAt: now.toISOString(), intervalSeconds: Math.round(seconds * 1000) / 1000, vms };
}

const perSecond = (v: number | null) => (v === null ? undefined : `${formatBytes(Math.round(v))}/s`);
const visible = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');

export const TOP_COLUMNS: Column<TopRow>[] = [
  { header: 'NAME', value: (r) => visible(r.name) },
  { header: 'CPU%', value: (r) => (r.cpuPercent === null ? undefined : r.cpuPercent.toFixed(1)) },
  { header: 'VCPUS', value: (r) => r.vcpus },
  { header: 'MEMORY', value: (r) => formatBytes(r.memoryBytes) },
  { header: 'DISK READ', value: (r) => perSecond(r.diskReadBytesPerSecond) },
  { header: 'DISK WRITE', value: (r) => perSecond(r.diskWriteBytesPerSecond) },
  { header: 'NET RX', value: (r) => perSecond(r.netRxBytesPerSecond) },
  { header: 'NET TX', value: (r) => perSecond(r.netTxBytesPerSecond) },
];

const options = {
  interval: value('--interval <seconds>', 'time between refreshes (default 2); each rate is over this interval'),
  once: flag('--once', 'print one sample (two readings one interval apart) and end'),
  count: value('--count <n>', 'print this many samples and end'),
};
export type TopFlags = OptionsOf<typeof options>;

function parseSeconds(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n) || n < 0.2 || n > 3600) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected seconds between 0.2 and 3600`, `e.g. ${flag} 2`);
  return n;
}

export async function runVmTop(ctx: Context, flags: TopFlags): Promise<void> {
  const intervalS = flags.interval === undefined ? 2 : parseSeconds(flags.interval, '--interval');
  let samples = flags.once ? 1 : Infinity;
  if (flags.count !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(flags.count)) throw new UsageError(`--count ${JSON.stringify(flags.count)}: expected a whole number of samples, at least 1`, 'e.g. --count 5');
    if (flags.once) throw new UsageError('--once and --count both say how many samples: give one of them', 'e.g. --count 5');
    samples = Number(flags.count);
  }
  const live = !ctx.out.json && ctx.io.stdoutIsTTY && samples > 1;
  // q (or Ctrl-C, which raw mode delivers as a key) ends it like a signal would.
  const quit = new AbortController();
  const onAbort = () => quit.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const stopKeys = live ? ctx.io.onKeys?.((k) => (k === 'q' || k === 'Q' || k === '\x03' ? quit.abort() : undefined)) : undefined;
  const call = domstatsCall(['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'], 'active');
  const read = async (): Promise<Reading> => {
    const out = await ctx.virsh.run(call);
    return { atMs: performance.now(), stats: parseDomstats(out) };
  };
  try {
    let previous = await read();
    for (let n = 0; n < samples; n++) {
      await sleep(intervalS * 1000, quit.signal);
      const current = await read();
      render(ctx, computeSample(previous, current, new Date()), live, n);
      previous = current;
    }
  } catch (err) {
    if (!(err instanceof InterruptedError) || !quit.signal.aborted) throw err;
  } finally {
    stopKeys?.();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export const topCommand = verb('top', "each running VM's CPU %, memory, disk and network rates, from one domstats call per refresh; live on a terminal (q or Ctrl-C quits)", runVmTop, {
  options,
  examples: ['kvmctl vm top', 'kvmctl vm top --once', 'kvmctl -o json vm top --interval 5 --count 12 > load.ndjson'],
  notes:
    '\nCPU% is of one host CPU (200.0 = two CPUs busy). With -o json, one JSON object a line (NDJSON): sampledAt, intervalSeconds,\n' +
    'and per VM the counters of the second reading (cpuTimeSeconds, diskReadBytes, …) and the rates (cpuPercent, diskReadBytesPerSecond, …).\n' +
    'Ends with exit 0 on q, Ctrl-C or SIGTERM.\n',
});

function render(ctx: Context, sample: TopSample, live: boolean, n: number): void {
  if (ctx.out.json) return ctx.io.stdout(JSON.stringify(sample) + '\n');
  const title = `${sample.sampledAt}  ${sample.vms.length} running VM${sample.vms.length === 1 ? '' : 's'}, rates over ${sample.intervalSeconds} s${live ? '  (q quits)' : ''}`;
  // Home, clear the screen: the table is redrawn in place.
  if (live) ctx.io.stdout('\x1b[H\x1b[2J');
  else if (n > 0) ctx.io.stdout('\n');
  ctx.io.stdout(title + '\n');
  if (sample.vms.length === 0) return ctx.io.stdout('(no running VM)\n');
  ctx.out.list(TOP_COLUMNS, sample.vms);
}
