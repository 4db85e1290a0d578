#!/usr/bin/env node
// Fan-out benchmark: `kvmctl -H all vm list` across several lab hosts with N
// defined VMs each, against each host's own `kvmctl -c URI vm list`. Target
// (docs/hosts.md): at most 1.5x the slowest single host, and a subprocess count
// of the hosts times one host's count (nothing per VM). Writes
// bench/fan-out-results.md.
//
//   node bench/fan-out.mjs [--hosts 10] [--vms 100] [--runs 5] [--prefix bench-f] [--keep-labs]
//
// Each host is a lab (scripts/lab.sh up PREFIXi) in its own namespaces; only the
// labs' own sockets are used. --keep-labs leaves the labs up with their VMs, and a
// later run that finds exactly --vms of them on a lab uses them as they are.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Fleet } from './fleet.mjs';
import { cmd, median, subprocesses, timeInterleaved, tracedCommands } from './measure.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const LAB_SCRIPT = join(ROOT, 'scripts', 'lab.sh');
const KVMCTL = join(ROOT, 'bin', 'kvmctl');

const { values: opts } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10' },
    vms: { type: 'string', default: '100' },
    runs: { type: 'string', default: '5' },
    prefix: { type: 'string', default: 'bench-f' },
    'keep-labs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'usage: node bench/fan-out.mjs [--hosts 10] [--vms 100] [--runs 5] [--prefix bench-f] [--keep-labs]\n' +
      '  --prefix P     the labs are P0 .. P(hosts-1) (scripts/lab.sh up P0 ...)\n' +
      '  --keep-labs    leave the labs and their VMs up; a later run reuses labs that hold exactly --vms bench VMs\n',
  );
  process.exit(0);
}
const hosts = Number(opts.hosts);
const vms = Number(opts.vms);
const runs = Number(opts.runs);
const log = (m) => process.stderr.write(`bench: ${m}\n`);
const lab = (...args) => execFileSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

const names = Array.from({ length: hosts }, (_, i) => `${opts.prefix}${i}`);
const work = mkdtempSync(join(tmpdir(), 'kvmctl-bench-fan-'));
const env = { ...process.env, NO_COLOR: '1', KVMCTL_HOSTS: join(work, 'hosts.yaml'), KVMCTL_STATE_DIR: join(work, 'state') };
delete env.KVMCTL_URI;
delete env.LIBVIRT_DEFAULT_URI;
const fleets = [];
let stop = false;
process.on('SIGINT', () => (stop = true));

try {
  const guestDir = lab('guest-path');
  for (const n of names) {
    const uri = lab('up', n);
    const labDir = resolve(uri.replace(/^.*socket=/, ''), '../..');
    const fleet = new Fleet({ uri, labDir, guestDir, log, shouldStop: () => stop });
    if (!fleet.reuse(vms)) {
      fleet.remove();
      fleet.createPool();
      await fleet.growTo(vms);
    }
    fleets.push({ name: n, uri, fleet });
  }
  writeFileSync(env.KVMCTL_HOSTS, 'hosts:\n' + fleets.map((f) => `  ${f.name}:\n    uri: "${f.uri}"\n`).join(''));
  const fan = cmd(`kvmctl -H all vm list (${hosts} hosts)`, [process.execPath, KVMCTL, '-H', 'all', '--parallel', String(hosts), 'vm', 'list']);
  const singles = fleets.map((f) => cmd(`kvmctl -c ${f.name} vm list`, [process.execPath, KVMCTL, '-c', f.uri, 'vm', 'list']));
  // Every listing must be complete before it is timed.
  const check = spawnSync(fan.argv[0], [...fan.argv.slice(1), '-o', 'json'], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  const listed = JSON.parse(check.stdout);
  if (check.status !== 0 || listed.items.length < hosts * vms) throw new Error(`fan-out listed ${listed.items?.length} VMs (exit ${check.status}): ${check.stderr}`);
  // The floor: a bare node process that runs every host's vm list virsh calls at once, as -H does, and nothing else.
  const floorFile = join(work, 'floor.json');
  writeFileSync(floorFile, JSON.stringify(singles.flatMap((s) => tracedCommands(s.argv, env))));
  const floor = cmd(`node + the ${hosts} hosts' vm list virsh calls at once, nothing else`, [process.execPath, join(HERE, 'replay.mjs'), floorFile, '--parallel']);
  const loadBefore = loadavg()[0];
  const times = await timeInterleaved([fan, floor, ...singles], { runs, warmup: 1, env, shouldStop: () => stop });
  const loadAfter = loadavg()[0];
  const medians = times.map(median);
  const fanMs = medians[0];
  const floorMs = medians[1];
  const singleMs = medians.slice(2);
  const slowest = Math.max(...singleMs);
  const fanProcs = subprocesses(fan, env);
  const singleProcs = subprocesses(singles[0], env);
  const ratio = fanMs / slowest;
  const lines = [
    '# Fan-out benchmark',
    '',
    `${new Date().toISOString()}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${hosts} lab hosts with ${vms} defined VMs each; median of ${runs} interleaved runs after 1 warm-up.`,
    `Taken on a shared build machine with other work running (1-minute load average ${loadBefore.toFixed(1)} before the timed runs, ${loadAfter.toFixed(1)} after): absolute times move with its load; the commands were interleaved so the load hits them alike.`,
    '',
    '| command | median | subprocesses |',
    '| --- | --- | --- |',
    `| \`${fan.label}\` | ${fanMs.toFixed(0)} ms | ${fanProcs.count} (${Object.entries(fanProcs.programs).map(([k, v]) => `${k} ${v}`).join(', ')}) |`,
    `| ${floor.label} | ${floorMs.toFixed(0)} ms | |`,
    ...singles.map((s, i) => `| \`${s.label}\` | ${singleMs[i].toFixed(0)} ms | ${i === 0 ? `${singleProcs.count} (${Object.entries(singleProcs.programs).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''} |`),
    '',
    `Fan-out / slowest single host: **${ratio.toFixed(2)}x** (target at most 1.5x): ${ratio <= 1.5 ? 'met' : 'NOT met'}.`,
    `The floor (the same virsh calls from a bare node process, all at once) is ${(floorMs / slowest).toFixed(2)}x the slowest single host; kvmctl's fan-out is ${(fanMs / floorMs).toFixed(2)}x its floor (what is above the floor is kvmctl's own work: start-up, the inventory, a context per host, merging).`,
    `Subprocesses: ${fanProcs.count} = ${hosts} hosts x ${singleProcs.count} per host: ${fanProcs.count === hosts * singleProcs.count ? 'proportional to the hosts only' : 'NOT proportional'}.`,
    '',
  ];
  writeFileSync(join(HERE, 'fan-out-results.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
} finally {
  if (!opts['keep-labs']) {
    for (const f of fleets) f.fleet.remove();
    for (const n of names) lab('down', n);
  }
  rmSync(work, { recursive: true, force: true });
}
