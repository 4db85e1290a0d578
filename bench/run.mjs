#!/usr/bin/env node
// npm run bench: times kvmctl against node and virsh on the lab host with 100, 1000
// and 5000 defined VMs (each with a volume), counts the programs each kvmctl command
// starts and its peak memory, times pool delete --purge of 1000 volumes, checks the
// performance targets, and writes bench/results.{md,json}. See docs/performance.md.
//
//   node bench/run.mjs [--runs 10] [--big-runs 3] [--sizes 100,1000,5000] [--groups all] [--running 2] [--lab bench] [--keep-lab] [--no-binary]
//   node bench/run.mjs --help
//
// The part that talks to the lab runs inside the lab's network namespace (it
// re-runs this file under `ip netns exec` with --in-netns); nothing here changes
// the machine's own network namespace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fleet, POOL, PURGE_POOL } from './fleet.mjs';
import { bigRuns, groups, log, opts, purgeVolumes, runningCount, runs, runsAt, sizes, usage } from './options.mjs';
import { cmd, firstCommandOf, median, peakRss, runChecked, subprocesses, timeInterleaved, timeOnce, tracedCommands, verbAvailable } from './measure.mjs';
import { FIRST_CALL_LABEL, FLOOR_LABEL, NODE_ALONE_LABEL, ONE_PROCESS_LABEL, PURGE_FLOOR_LABEL, floorLabel, machineFacts, markdownReport, textReport, verdicts } from './report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const LAB_SCRIPT = join(ROOT, 'scripts', 'lab.sh');

function lab(...args) {
  const r = spawnSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return { code: r.status, out: (r.stdout ?? '').trim() };
}

function labValue(...args) {
  const r = lab(...args);
  if (r.code !== 0) throw new Error(`scripts/lab.sh ${args.join(' ')} failed (exit ${r.code})`);
  return r.out;
}

/**
 * The traced virsh calls of a command (each `virsh -c URI BATCH`) as one virsh
 * process running all their batches: what a design with a single virsh process
 * (commands fed one batch after another on its stdin) would still pay.
 */
function oneProcess(traced) {
  const [program, flag, uri] = traced[0];
  return [program, flag, uri, traced.map((argv) => argv.slice(3).join(' ')).join(' ; ')];
}

function which(program) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

// ------------------------------------------------------------------ outside the netns

function ensureTools() {
  const missing = [];
  if (!which('strace')) missing.push('strace');
  if (!existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (install() !== 0) throw new Error(`could not install ${missing.join(' ')}; install them and run again`);
  }
}

function build(script) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', script)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/${script} failed (exit ${r.status})`);
}

function outside() {
  if (process.getuid?.() !== 0) usage('must run as root: the lab needs network namespaces and its own libvirtd');
  ensureTools();
  if (!opts['no-build']) {
    log('building dist/kvmctl.cjs' + (opts['no-binary'] ? '' : ' and the single binary'));
    build('build.mjs');
    if (!opts['no-binary']) build('build-binary.mjs');
  }
  const wasUp = lab('status', opts.lab).code === 0;
  // A Ctrl-C reaches the inner run too; this one waits for it to clean up, then takes the lab down.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  let code = 1;
  try {
    labValue('up', opts.lab);
    const netns = labValue('netns', opts.lab);
    const argv = process.argv.slice(2).filter((a) => a !== '--in-netns');
    const r = spawnSync('ip', ['netns', 'exec', netns, process.execPath, fileURLToPath(import.meta.url), ...argv, '--in-netns'], { stdio: 'inherit' });
    code = r.status ?? 1;
  } finally {
    if (!wasUp && !opts['keep-lab']) {
      log(`taking lab ${opts.lab} down`);
      lab('down', opts.lab);
    }
  }
  process.exitCode = code;
}

// ------------------------------------------------------------------ inside the netns

async function inside() {
  const uri = labValue('uri', opts.lab);
  const labDir = uri.replace(/^.*socket=/, '').replace(/\/run\/libvirt-sock$/, '');
  let stop = false;
  const fleet = new Fleet({ uri, labDir, guestDir: labValue('guest-path'), log, shouldStop: () => stop });
  const onSignal = () => {
    stop = true;
    log('interrupted: cleaning up');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const shouldStop = () => stop;

  const env = { ...process.env, LC_ALL: 'C', NO_COLOR: '1', KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' };
  const node = process.execPath;
  const virsh = which('virsh');
  const ip = which('ip');
  const bin = join(ROOT, 'bin', 'kvmctl');
  const binaryPath = join(ROOT, 'dist', `kvmctl-${process.platform}-${process.arch}`);
  const binary = !opts['no-binary'] && existsSync(binaryPath) ? binaryPath : undefined;
  // Why the single binary's rows are empty, if they are.
  const noBinary = binary ? false : opts['no-binary'] ? 'binary not built (--no-binary)' : `${binaryPath} missing`;
  const kvmctl = (...args) => [bin, '-c', uri, ...args];
  const kvmctlBinary = (...args) => [binary, '-c', uri, ...args];
  const virshCmd = (label, ...args) => cmd(label, [virsh, '-c', uri, ...args]);
  // Several virsh commands in one virsh process (read from stdin): the cheapest way virsh shows them.
  const virshBatch = (label, lines) => cmd(label, [virsh, '-q', '-c', uri], lines.join('\n') + '\n');

  const results = [];
  /**
   * Measures kvmctl commands (subjects) against baselines in one interleaved series.
   * A subject whose noun/verb is not in this build is recorded as not available.
   */
  const measureGroup = async (group, n, subjects, baselines, runsHere = runs) => {
    if (!groups.has(group)) return;
    const live = [];
    for (const s of subjects) {
      const record = { id: s.id, label: s.label, n, list: Boolean(s.list), available: true, baselines: [], ...(s.untimed ? { untimed: true } : {}) };
      results.push(record);
      if (s.skip) {
        record.available = false;
        record.skipped = s.skip;
        continue;
      }
      if (s.verb && !verbAvailable([bin], s.verb[0], s.verb[1], env)) {
        record.available = false;
        log(`${s.label}: not available in this build`);
        continue;
      }
      try {
        const out = runChecked(cmd(s.label, s.argv), env);
        if (s.check) Object.assign(record, s.check(out));
      } catch (err) {
        record.error = err.message;
        log(`${s.label}: ${err.message}`);
        continue;
      }
      // Untimed subjects (the JSON twins of timed tables) are measured for their processes and memory only.
      if (s.untimed) {
        record.subprocesses = subprocesses(cmd(s.label, s.argv), env);
        record.peakRssBytes = peakRss(cmd(s.label, s.argv), env);
        continue;
      }
      live.push({ s, record });
    }
    for (const b of baselines) runChecked(b, env);
    if (live.length === 0) return;
    log(`timing ${live.map((l) => l.s.label).join(', ')}${n === null ? '' : ` (N=${n})`}`);
    const commands = [...live.map((l) => cmd(l.s.label, l.s.argv)), ...baselines];
    const times = await timeInterleaved(commands, { runs: runsHere, warmup: 1, env, shouldStop });
    const baseMedians = baselines.map((b, i) => ({ label: b.label, medianMs: median(times[live.length + i]), samplesMs: times[live.length + i] }));
    live.forEach(({ s, record }, i) => {
      record.medianMs = median(times[i]);
      record.samplesMs = times[i];
      record.baselines = baseMedians;
      if (s.argv[0] === bin || s.argv[0] === binary) {
        record.subprocesses = subprocesses(cmd(s.label, s.argv), env);
        record.peakRssBytes = peakRss(cmd(s.label, s.argv), env);
      }
    });
  };

  const domainCount = () => fleet.domainNames().length;
  const countJson = (out) => {
    const parsed = JSON.parse(out);
    const list = Array.isArray(parsed) ? parsed : undefined;
    return { listed: list?.length, expected: domainCount(), what: 'VMs' };
  };
  // The table is what is timed; the same command's JSON is what is counted.
  const countVolumes = (argv) => () => {
    const list = JSON.parse(runChecked(cmd('volume list -o json', [...argv, '-o', 'json']), env));
    const expected = fleet.virsh(['vol-list', '--pool', POOL]).split('\n').filter((l) => l.trim() !== '').length;
    return { listed: Array.isArray(list) ? list.filter((v) => v.pool === POOL).length : undefined, expected, what: `volumes of ${POOL}` };
  };

  /**
   * pool delete --force --purge of a pool of `count` empty volumes, against virsh
   * deleting the same volumes in one virsh process (commands on stdin). Each run
   * needs a fresh pool, so this times single runs, alternating the two.
   */
  const measurePurge = async (n, count) => {
    const label = `kvmctl pool delete --force --purge (${count} volumes)`;
    const record = { id: 'pool-purge', label, n, volumes: count, available: true, baselines: [] };
    results.push(record);
    if (!verbAvailable([bin], 'pool', 'delete', env)) {
      record.available = false;
      return;
    }
    const baseLabel = `virsh vol-delete of the ${count} volumes (one process)`;
    const mine = [];
    const theirs = [];
    const floor = [];
    const rounds = Math.min(runs, 3);
    const argv = kvmctl('pool', 'delete', PURGE_POOL, '--force', '--purge');
    // The floor: kvmctl's own commands (its -v trace: reads, rm and virsh calls), replayed on a fresh pool by a bare node process.
    fleet.createPurgePool(count);
    const floorFile = join(scratch, 'replay-purge.json');
    writeFileSync(floorFile, JSON.stringify(tracedCommands(argv, env)));
    const floorCmd = cmd(PURGE_FLOOR_LABEL, [node, join(HERE, 'replay.mjs'), floorFile]);
    log(`timing ${label} against ${baseLabel} and its floor, ${rounds} rounds`);
    try {
      for (let round = 0; round < rounds; round++) {
        if (stop) throw new Error('interrupted');
        const names = fleet.createPurgePool(count);
        theirs.push(timeOnce(virshBatch(baseLabel, names.map((v) => `vol-delete --pool ${PURGE_POOL} --vol ${v}`)), env));
        fleet.createPurgePool(count);
        mine.push(timeOnce(cmd(label, argv), env));
        fleet.createPurgePool(count);
        floor.push(timeOnce(floorCmd, env));
        if (round === 0) {
          fleet.createPurgePool(count);
          record.subprocesses = subprocesses(cmd(label, argv), env);
        }
      }
    } catch (err) {
      record.error = err.message;
      log(`${label}: ${err.message}`);
      return;
    } finally {
      fleet.removePool(PURGE_POOL);
    }
    record.medianMs = median(mine);
    record.samplesMs = mine;
    record.baselines = [
      { label: baseLabel, medianMs: median(theirs), samplesMs: theirs },
      { label: PURGE_FLOOR_LABEL, medianMs: median(floor), samplesMs: floor },
    ];
  };

  let machine;
  const scratch = mkdtempSync(join(tmpdir(), 'kvmctl-bench-'));
  try {
    machine = machineFacts(uri);
    fleet.remove();

    const nodeE0 = cmd('node -e 0', [node, '-e', '0']);
    await measureGroup(
      'startup',
      null,
      [
        { id: 'version', label: 'kvmctl --version', argv: [bin, '--version'] },
        { id: 'help', label: 'kvmctl --help', argv: [bin, '--help'] },
        { id: 'version-binary', label: 'kvmctl-linux-x64 --version', argv: [binary, '--version'], skip: noBinary },
        { id: 'help-binary', label: 'kvmctl-linux-x64 --help', argv: [binary, '--help'], skip: noBinary },
      ],
      [nodeE0],
      runs * 3,
    );

    fleet.createPool();
    if (runningCount > 0) await fleet.startRunning(runningCount);

    for (const n of sizes) {
      if (stop) throw new Error('interrupted');
      await fleet.growTo(n);
      const pools = fleet.virsh(['pool-list', '--name']).split('\n').map((l) => l.trim()).filter(Boolean);
      const virshList = virshCmd('virsh list --all', 'list', '--all');
      // The same virsh calls as kvmctl vm list, from a bare node process: what no node program making them can beat.
      // And the first of them alone (state, vCPUs, memory, disks; no IPs): the floor of any one-call design.
      let replays = 0;
      const replay = (label, commands) => {
        const file = join(scratch, `replay-${n}-${replays++}.json`);
        writeFileSync(file, JSON.stringify(commands));
        return cmd(label, [node, join(HERE, 'replay.mjs'), file]);
      };
      // The floor of a command: its own virsh calls (kvmctl -v), one after another, from a bare node process.
      const floorOf = (label, argv) => (groups.has(label) ? [replay(floorLabel(label), tracedCommands(argv, env))] : []);
      const traced = groups.has('vm-list') ? tracedCommands(kvmctl('vm', 'list'), env) : [];
      // vm list's one session replays with all its lines; its first call alone is domstats alone in that process.
      const floors = [replay(FLOOR_LABEL, traced), replay(FIRST_CALL_LABEL, traced.slice(0, 1).map(firstCommandOf)), ...(traced.length > 1 && traced.every(Array.isArray) ? [replay(ONE_PROCESS_LABEL, [oneProcess(traced)])] : [])];
      await measureGroup(
        'vm-list',
        n,
        [
          { id: 'vm-list', label: 'kvmctl vm list', argv: kvmctl('vm', 'list'), verb: ['vm', 'list'], list: true },
          { id: 'vm-list-json', label: 'kvmctl vm list -o json', argv: kvmctl('vm', 'list', '-o', 'json'), verb: ['vm', 'list'], list: true, check: countJson },
          { id: 'vm-list-binary', label: 'kvmctl-linux-x64 vm list', argv: binary ? kvmctlBinary('vm', 'list') : [], verb: ['vm', 'list'], skip: noBinary },
        ],
        [virshList, ...floors],
        runsAt(n),
      );
      await measureGroup(
        'volume-list',
        n,
        [
          { id: 'volume-list', label: 'kvmctl volume list', argv: kvmctl('volume', 'list'), verb: ['volume', 'list'], list: true, check: countVolumes(kvmctl('volume', 'list')) },
          { id: 'volume-list-json', label: 'kvmctl volume list -o json', argv: kvmctl('volume', 'list', '-o', 'json'), verb: ['volume', 'list'], list: true, untimed: true },
        ],
        [virshBatch(`virsh vol-list --details, each of ${pools.length} pools (one process)`, pools.map((p) => `vol-list --pool ${p} --details`))],
        runsAt(n),
      );
      await measureGroup(
        'volume-list-pool',
        n,
        [{ id: 'volume-list-pool', label: `kvmctl volume list --pool ${POOL}`, argv: kvmctl('volume', 'list', '--pool', POOL), verb: ['volume', 'list'], list: true, check: countVolumes(kvmctl('volume', 'list', '--pool', POOL)) }],
        [virshCmd(`virsh vol-list --details ${POOL}`, 'vol-list', '--pool', POOL, '--details'), ...floorOf('volume-list-pool', kvmctl('volume', 'list', '--pool', POOL))],
        runsAt(n),
      );
      await measureGroup(
        'pool-list',
        n,
        [
          { id: 'pool-list', label: 'kvmctl pool list', argv: kvmctl('pool', 'list'), verb: ['pool', 'list'], list: true },
          { id: 'pool-list-json', label: 'kvmctl pool list -o json', argv: kvmctl('pool', 'list', '-o', 'json'), verb: ['pool', 'list'], list: true, untimed: true },
        ],
        // node -e 0 in the same interleave: the start-up alone, against a target set on a 40 ms virsh call.
        [virshCmd('virsh pool-list --all --details', 'pool-list', '--all', '--details'), ...floorOf('pool-list', kvmctl('pool', 'list')), cmd(NODE_ALONE_LABEL, [node, '-e', '0'])],
        runsAt(n),
      );
      await measureGroup('net-list', n, [{ id: 'net-list', label: 'kvmctl net list', argv: kvmctl('net', 'list'), verb: ['net', 'list'], list: true }], [virshCmd('virsh net-list --all', 'net-list', '--all')], runsAt(n));
      await measureGroup('bridge-list', n, [{ id: 'bridge-list', label: 'kvmctl bridge list', argv: kvmctl('bridge', 'list'), verb: ['bridge', 'list'], list: true }], [cmd('ip -d link show type bridge', [ip, '-d', 'link', 'show', 'type', 'bridge'])], runsAt(n));
      await measureGroup(
        'host',
        n,
        [{ id: 'host', label: 'kvmctl host', argv: kvmctl('host'), list: true }],
        [virshList, virshBatch('virsh version; nodeinfo; capabilities; net-list; pool-list; domstats (one process)', ['version', 'nodeinfo', 'capabilities', 'net-list --all', 'pool-list --all', 'domstats --raw'])],
        runsAt(n),
      );
      if (groups.has('purge') && (n === 1000 || (n === sizes[sizes.length - 1] && !sizes.includes(1000)))) await measurePurge(n, purgeVolumes);
      for (const r of results) if (r.n === n) r.runningVms = runningCount;
    }
  } finally {
    fleet.remove();
    rmSync(scratch, { recursive: true, force: true });
  }

  machine.loadAverageAtEnd = (await import('node:os')).loadavg().map((l) => Math.round(l * 100) / 100);
  const v = verdicts(results, sizes);
  const report = { machine, runs, bigRuns, sizes, groups: [...groups], runningVms: runningCount, results, verdicts: v };
  process.stdout.write(textReport({ ...report, verdicts: v }) + '\n');
  writeFileSync(join(HERE, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(HERE, 'results.md'), markdownReport({ ...report, verdicts: v }));
  log('wrote bench/results.md and bench/results.json');
}

if (opts['report-only']) {
  const report = JSON.parse(readFileSync(join(HERE, 'results.json'), 'utf8'));
  writeFileSync(join(HERE, 'results.md'), markdownReport({ ...report, verdicts: verdicts(report.results, report.sizes) }));
  log('wrote bench/results.md from bench/results.json');
} else if (opts['in-netns']) {
  inside().catch((err) => {
    log(`error: ${err.message}`);
    process.exitCode = 1;
  });
} else {
  try {
    outside();
  } catch (err) {
    log(`error: ${err.message}`);
    process.exitCode = 1;
  }
}
