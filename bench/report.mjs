// The benchmark's results: the machine they were taken on, the table of medians and
// ratios, the verdict on each target of the performance issue, as text, Markdown and JSON.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const MIB = 1024 * 1024;

export const TARGETS = {
  versionVsNode: 1.25,
  vmListVsVirsh: 1.2,
  hostVsVirsh: 2,
  vmListPeakRssBytes: 100 * MIB,
  volumeListPoolVsVirsh: 1.5,
  poolListVsVirsh: 2,
  purgeVsVirsh: 2,
  // Every list and host at the largest N.
  listPeakRssBytes: 150 * MIB,
  // Two medians of the same work differ by a few per cent on a shared machine.
  jsonNoSlowerTolerance: 1.05,
};

export function machineFacts(uri) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const version = spawnSync('virsh', ['-c', uri, 'version', '--daemon'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }).stdout ?? '';
  const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return {
    date: new Date().toISOString(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    libvirtLibrary: /Using library: libvirt (\S+)/.exec(version)?.[1],
    libvirtDaemon: /Running against daemon: (\S+)/.exec(version)?.[1],
    qemu: /version (\S+)/.exec(qemu)?.[1],
    hardwareVirtualization: /\b(vmx|svm)\b/.test(cpuinfo),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const ms = (v) => (v === undefined ? '-' : `${Math.round(v)} ms`);
const ratio = (v) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
const mib = (v) => (v === undefined ? '-' : `${(v / MIB).toFixed(0)} MiB`);

/** The baseline that replays kvmctl vm list's own virsh calls from a bare node process (bench/replay.mjs). */
export const FLOOR_LABEL = "node + vm list's virsh calls, nothing else";
/** The same, with only the first of those calls (domstats alone in vm list's one session). */
export const FIRST_CALL_LABEL = "node + vm list's first virsh call only";

/** The same calls, all in one virsh process: the floor of a design that feeds virsh its second batch on stdin. */
export const ONE_PROCESS_LABEL = "node + vm list's virsh calls in one virsh process";
/** pool delete --purge's own commands (reads, rm, virsh), replayed one after another on a fresh pool. */
export const PURGE_FLOOR_LABEL = "node + pool delete --purge's commands, one after another, nothing else";
/** A bare node start-up, in the pool list interleave: what no node program can go below. */
export const NODE_ALONE_LABEL = 'node -e 0 (start-up alone)';

/** The baseline that replays the virsh calls of the kvmctl command of this group (pool-list, volume-list-pool). */
export function floorLabel(group) {
  return `node + ${group === 'pool-list' ? 'pool list' : 'volume list --pool'}'s virsh calls, one after another, nothing else`;
}

/** One line per (kvmctl command, baseline) pair. */
export function tableRows(results) {
  const rows = [];
  for (const r of results) {
    const n = r.n === null ? '-' : String(r.n);
    if (!r.available || r.error) {
      rows.push([n, r.label, r.error ? `failed: ${r.error}` : r.skipped ?? 'not available', '', '', '', '', '', '']);
      continue;
    }
    const extra = [r.subprocesses ? describeSubprocesses(r.subprocesses) : '-', mib(r.peakRssBytes)];
    if (r.baselines.length === 0) rows.push([n, r.label, ms(r.medianMs), '', '', '', '', ...extra]);
    r.baselines.forEach((b, i) => {
      rows.push([
        n,
        i === 0 ? r.label : '',
        i === 0 ? ms(r.medianMs) : '',
        b.label,
        ms(b.medianMs),
        ratio(r.medianMs / b.medianMs),
        ratio(Math.min(...r.samplesMs) / Math.min(...b.samplesMs)),
        ...(i === 0 ? extra : ['', '']),
      ]);
    });
  }
  return rows;
}

const HEADER = ['N', 'kvmctl command', 'median', 'baseline', 'median', 'ratio', 'fastest/fastest', 'subprocesses', 'peak RSS'];

function describeSubprocesses(s) {
  const parts = Object.entries(s.programs).sort().map(([p, c]) => `${c} ${p}`);
  return parts.length ? `${s.count} (${parts.join(', ')})` : '0';
}

export function textTable(rows, header = HEADER) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function markdownTable(rows, header = HEADER) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** The issue's targets, each met, missed, or not measured (with why). */
export function verdicts(results, sizes) {
  const find = (id, n) => results.find((r) => r.id === id && r.n === n);
  const measured = (r) => r && r.available && !r.error;
  const big = Math.max(...sizes);
  // The ratio targets are set at 1000 objects; the largest N checks that everything works.
  const at = sizes.includes(1000) ? 1000 : big;
  const out = [];
  // The floor of a command that missed its target, against the same baseline.
  const floorRow = (r, group, what) => {
    const floor = measured(r) && r.baselines.find((b) => b.label === floorLabel(group));
    if (!floor) return;
    const b = r.baselines[0];
    out.push({
      target: `(reference, not a target) ${floor.label}, ${what}, against ${b.label}`,
      measured: `${ratio(floor.medianMs / b.medianMs)} (${ms(floor.medianMs)} vs ${ms(b.medianMs)})`,
      verdict: 'floor',
    });
  };
  const vsBaseline = (id, n, baseline, limit, target, strict) => {
    const r = find(id, n);
    if (!measured(r)) return out.push({ target, measured: '-', verdict: notMeasured(r) });
    const b = r.baselines.find((x) => x.label === baseline);
    const v = r.medianMs / b.medianMs;
    out.push({ target, measured: `${ratio(v)} (${ms(r.medianMs)} vs ${ms(b.medianMs)})`, verdict: (strict ? v < limit : v <= limit) ? 'met' : 'missed' });
  };
  vsBaseline('version', null, 'node -e 0', TARGETS.versionVsNode, `kvmctl --version at most ${TARGETS.versionVsNode} x node -e 0`);
  vsBaseline('version-binary', null, 'node -e 0', TARGETS.versionVsNode, `single binary --version at most ${TARGETS.versionVsNode} x node -e 0`);
  vsBaseline('vm-list', at, 'virsh list --all', TARGETS.vmListVsVirsh, `kvmctl vm list with ${at} VMs at most ${TARGETS.vmListVsVirsh} x virsh list --all`);
  const list = find('vm-list', at);
  const virsh = measured(list) ? list.baselines.find((x) => x.label === 'virsh list --all') : undefined;
  for (const label of [FLOOR_LABEL, ONE_PROCESS_LABEL, FIRST_CALL_LABEL]) {
    const floor = virsh && list.baselines.find((x) => x.label === label);
    if (!floor) continue;
    out.push({
      target: `(reference, not a target) ${label}, ${at} VMs, against virsh list --all`,
      measured: `${ratio(floor.medianMs / virsh.medianMs)} (${ms(floor.medianMs)} vs ${ms(virsh.medianMs)})`,
      verdict: 'floor',
    });
  }
  const table = find('vm-list', at);
  const json = find('vm-list-json', at);
  if (measured(table) && measured(json)) {
    const v = json.medianMs / table.medianMs;
    out.push({
      target: `vm list -o json with ${at} VMs no slower than the table (within ${Math.round((TARGETS.jsonNoSlowerTolerance - 1) * 100)} %)`,
      measured: `${ratio(v)} (${ms(json.medianMs)} vs ${ms(table.medianMs)})`,
      verdict: v <= TARGETS.jsonNoSlowerTolerance ? 'met' : 'missed',
    });
  } else out.push({ target: `vm list -o json with ${at} VMs no slower than the table`, measured: '-', verdict: notMeasured(measured(table) ? json : table) });
  vsBaseline('host', at, 'virsh list --all', TARGETS.hostVsVirsh, `kvmctl host with ${at} VMs under ${TARGETS.hostVsVirsh} x virsh list --all`, true);
  const poolList = find('volume-list-pool', at);
  if (measured(poolList)) {
    vsBaseline('volume-list-pool', at, poolList.baselines[0].label, TARGETS.volumeListPoolVsVirsh, `${poolList.label} with ${at} volumes at most ${TARGETS.volumeListPoolVsVirsh} x ${poolList.baselines[0].label}`);
  } else out.push({ target: `volume list --pool with ${at} volumes at most ${TARGETS.volumeListPoolVsVirsh} x virsh vol-list --details`, measured: '-', verdict: notMeasured(poolList) });
  floorRow(find('volume-list-pool', at), 'volume-list-pool', `${at} volumes`);
  vsBaseline('pool-list', at, 'virsh pool-list --all --details', TARGETS.poolListVsVirsh, `kvmctl pool list with ${at} VMs and 10 pools at most ${TARGETS.poolListVsVirsh} x virsh pool-list --all --details`);
  floorRow(find('pool-list', at), 'pool-list', `${at} VMs`);
  const poolFloor = find('pool-list', at);
  const nodeAlone = measured(poolFloor) && poolFloor.baselines.find((b) => b.label === NODE_ALONE_LABEL);
  if (nodeAlone) {
    const b = poolFloor.baselines[0];
    out.push({
      target: `(reference, not a target) ${NODE_ALONE_LABEL}, against ${b.label}`,
      measured: `${ratio(nodeAlone.medianMs / b.medianMs)} (${ms(nodeAlone.medianMs)} vs ${ms(b.medianMs)})`,
      verdict: 'floor',
    });
  }
  const purge = results.find((r) => r.id === 'pool-purge');
  if (measured(purge)) {
    vsBaseline('pool-purge', purge.n, purge.baselines[0].label, TARGETS.purgeVsVirsh, `${purge.label} at most ${TARGETS.purgeVsVirsh} x ${purge.baselines[0].label}`);
  } else out.push({ target: `pool delete --purge at most ${TARGETS.purgeVsVirsh} x virsh vol-delete in one process`, measured: '-', verdict: notMeasured(purge) });
  const purgeFloor = measured(purge) && purge.baselines.find((b) => b.label === PURGE_FLOOR_LABEL);
  if (purgeFloor) {
    const b = purge.baselines[0];
    out.push({ target: `(reference, not a target) ${PURGE_FLOOR_LABEL}, against ${b.label}`, measured: `${ratio(purgeFloor.medianMs / b.medianMs)} (${ms(purgeFloor.medianMs)} vs ${ms(b.medianMs)})`, verdict: 'floor' });
  }
  for (const id of [...new Set(results.filter((r) => r.list).map((r) => r.id))]) {
    const per = sizes.map((n) => find(id, n));
    const label = per.find(Boolean)?.label ?? id;
    if (!per.every(measured)) {
      out.push({ target: `${label}: subprocess count independent of N`, measured: '-', verdict: notMeasured(per.find((r) => !measured(r))) });
      continue;
    }
    const counts = per.map((r) => r.subprocesses.count);
    out.push({
      target: `${label}: subprocess count independent of N`,
      measured: sizes.map((n, i) => `${counts[i]} at N=${n}`).join(', '),
      verdict: counts.every((c) => c === counts[0]) ? 'met' : 'missed',
    });
  }
  const mem = find('vm-list', at);
  if (measured(mem)) {
    out.push({
      target: `peak memory of vm list with ${at} VMs under ${mib(TARGETS.vmListPeakRssBytes)}`,
      measured: mib(mem.peakRssBytes),
      verdict: mem.peakRssBytes < TARGETS.vmListPeakRssBytes ? 'met' : 'missed',
    });
  } else out.push({ target: `peak memory of vm list with ${at} VMs under ${mib(TARGETS.vmListPeakRssBytes)}`, measured: '-', verdict: notMeasured(mem) });
  const lists = results.filter((r) => r.list && r.n === big && r.peakRssBytes !== undefined);
  if (lists.length > 0) {
    const worst = lists.reduce((a, b) => (b.peakRssBytes > a.peakRssBytes ? b : a));
    out.push({
      target: `peak memory of every list and host with ${big} VMs and volumes under ${mib(TARGETS.listPeakRssBytes)}`,
      measured: `${mib(worst.peakRssBytes)} (largest: ${worst.label})`,
      verdict: worst.peakRssBytes < TARGETS.listPeakRssBytes ? 'met' : 'missed',
    });
  }
  const broken = results.filter((r) => r.list && r.n === big && (r.error || (r.expected !== undefined && r.listed !== r.expected)));
  out.push({
    target: `every list and host works with ${big} VMs and volumes (exit 0, complete output)`,
    measured: broken.length === 0 ? 'all exit 0; listed counts match libvirt (checks below)' : broken.map((r) => `${r.label}: ${r.error ?? `listed ${r.listed} of ${r.expected}`}`).join('; '),
    verdict: broken.length === 0 ? 'met' : 'missed',
  });
  return out;
}

/**
 * How each command's median grows with N, in ms per 1000 objects, between the
 * smallest and the largest N, next to the same for its first baseline.
 */
export function growthRows(results, sizes) {
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  if (lo === hi) return [];
  const rows = [];
  for (const id of [...new Set(results.filter((r) => r.list).map((r) => r.id))]) {
    const a = results.find((r) => r.id === id && r.n === lo);
    const b = results.find((r) => r.id === id && r.n === hi);
    if (!a?.medianMs || !b?.medianMs || !a.baselines[0] || !b.baselines[0]) continue;
    const slope = (x, y) => ((y - x) / (hi - lo)) * 1000;
    rows.push([
      b.label,
      `${ms(a.medianMs)} -> ${ms(b.medianMs)}`,
      `${slope(a.medianMs, b.medianMs).toFixed(0)} ms`,
      b.baselines[0].label,
      `${ms(a.baselines[0].medianMs)} -> ${ms(b.baselines[0].medianMs)}`,
      `${slope(a.baselines[0].medianMs, b.baselines[0].medianMs).toFixed(0)} ms`,
    ]);
  }
  return rows;
}

const GROWTH_HEADER = ['kvmctl command', 'median, smallest -> largest N', 'per 1000 objects', 'baseline', 'median, smallest -> largest N', 'per 1000 objects'];

/** What the benchmark verified about the output it timed (a fast list that misses VMs proves nothing). */
function checks(results) {
  return results
    .filter((r) => r.expected !== undefined)
    .map((r) => `${r.label} at N=${r.n} listed ${r.listed ?? 'no array of'} ${r.what ?? 'VMs'}; libvirt has ${r.expected}${r.listed === r.expected ? '' : ' (MISMATCH)'}`);
}

function notMeasured(r) {
  if (r?.skipped) return `not measured: ${r.skipped}`;
  // A run limited with --groups records nothing for the groups it left out.
  if (!r) return 'not measured in this run (--groups)';
  if (!r.available) return 'not measured: command not available yet';
  return `not measured: ${r.error}`;
}

export function textReport({ machine, results, sizes, verdicts: v }) {
  return [
    `kvmctl benchmark, ${machine.date}`,
    machineLine(machine),
    '',
    textTable(tableRows(results)),
    '',
    textTable(v.map((x) => [x.target, x.measured, x.verdict]), ['target', 'measured', 'verdict']),
    '',
    textTable(growthRows(results, sizes), GROWTH_HEADER),
    ...checks(results).map((c) => `check: ${c}`),
  ].join('\n');
}

function machineLine(m) {
  return `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Linux ${m.kernel}, node ${m.node}, libvirt ${m.libvirtDaemon ?? m.libvirtLibrary}, QEMU ${m.qemu}${m.hardwareVirtualization ? '' : ' (TCG: no hardware virtualization)'}, load average at start ${m.loadAverageAtStart.join(' ')}${m.loadAverageAtEnd ? `, at end ${m.loadAverageAtEnd.join(' ')}` : ''}`;
}

/** The floor under each command that has one measured: how much of a missed target is kvmctl's own time. */
export function floorRows(results, sizes) {
  const at = sizes.includes(1000) ? 1000 : Math.max(...sizes);
  const pairs = [
    ['vm-list', FLOOR_LABEL],
    ['vm-list', ONE_PROCESS_LABEL],
    ['vm-list', FIRST_CALL_LABEL],
    ['volume-list-pool', floorLabel('volume-list-pool')],
    ['pool-list', floorLabel('pool-list')],
    ['pool-list', NODE_ALONE_LABEL],
  ];
  pairs.push(['pool-purge', PURGE_FLOOR_LABEL]);
  return pairs.flatMap(([id, label]) => {
    const r = results.find((x) => x.id === id && (x.n === at || id === 'pool-purge'));
    const floor = r?.medianMs !== undefined && r.baselines.find((b) => b.label === label);
    if (!floor) return [];
    const target = r.baselines[0];
    return [[r.label, floor.label, ms(r.medianMs), `${ms(floor.medianMs)} (${ratio(floor.medianMs / target.medianMs)} of ${target.label})`, ratio(r.medianMs / floor.medianMs)]];
  });
}

function floorsSection(results, sizes) {
  const rows = floorRows(results, sizes);
  if (rows.length === 0) return '';
  return `
## Floors

Where a target is below what kvmctl's own virsh calls cost, the floor says so: the
same calls, with the same arguments, replayed from a bare node process that only reads
their output (bench/replay.mjs). A ratio of kvmctl to its floor near 1 means the rest is
Node and virsh, not kvmctl; "pool list" counts its VOLUMES with virsh's completion of
volume names (one listing call a pool), and "node -e 0" beside it is the start-up alone.

${markdownTable(rows, ['kvmctl command', 'floor', 'median', 'floor median', 'kvmctl / floor'])}
`;
}

function groupsLine(groups) {
  return groups && groups.length < 9 ? ` This run measured only the groups ${groups.join(', ')} (--groups).` : '';
}

export function markdownReport({ machine, results, sizes, runs, bigRuns, groups, verdicts: v }) {
  const notAvailable = results.filter((r) => !r.available && !r.skipped).map((r) => r.label);
  return `# kvmctl benchmark results

Written by \`npm run bench\` (bench/run.mjs) on ${machine.date}. See docs/performance.md
for what is measured and how.

**Machine:** ${machineLine(machine)}.

**Method:** every time is the median of ${runs} whole-process runs (${runs * 3} for the
start-up rows${sizes.some((n) => n >= 5000) ? `; ${Math.min(runs, bigRuns ?? runs)} at N=5000 and above, where the fleet and each run are large` : ''}; one warm-up round first), run interleaved with the baselines it is compared
to, inside the lab's network namespace, output read through a pipe. "ratio" compares
medians (what the targets use); "fastest/fastest" compares the quickest run of each, which
other load on the machine disturbs least. N is the number of inactive VMs defined (each with a qcow2 disk,
a volume of \`bench-pool\`, and a NIC); ${results.find((r) => r.runningVms !== undefined)?.runningVms ?? 0} more VMs run the lab's guest; nine more pools are empty.
\`pool delete --purge\` is timed on a fresh pool of empty volume files each run (3 runs, alternating with the
baseline). The machine is shared: other work ran on it meanwhile (see the load averages). Subprocesses are the programs each
command started (strace, execve); peak RSS is GNU time's maximum resident set size.
The two "node + vm list's ..." baselines replay the virsh commands \`kvmctl -v vm list\`
ran, with the same arguments, from a bare node process that only reads their output
(bench/replay.mjs): the floor under any node program that makes those calls. vm list
holds one interactive virsh session: its floor is that one virsh process fed every line
kvmctl wrote to it at once, and "first virsh call only" is \`domstats\` alone in it. The
"node + pool list's ..." and "node + volume list --pool's ..." baselines do the same for
those commands, running their virsh calls one after another (kvmctl runs some of them side
by side, and reads local files besides).${groupsLine(groups)}

${markdownTable(tableRows(results))}

## Targets

${markdownTable(v.map((x) => [x.target, x.measured, x.verdict]), ['target', 'measured', 'verdict'])}
${floorsSection(results, sizes)}
## Growth with N

${markdownTable(growthRows(results, sizes), GROWTH_HEADER)}
${checks(results).length ? `\n## Checks\n\n${checks(results).map((c) => `- ${c}`).join('\n')}\n` : ''}${notAvailable.length ? `\nNot available in this build (measured as soon as they exist): ${[...new Set(notAvailable)].join(', ')}.\n` : ''}`;
}
