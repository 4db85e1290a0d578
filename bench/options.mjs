// The benchmark's command line: its options, their checks and its usage text.
import { parseArgs } from 'node:util';

/** What --groups may name: each is timed (and its subprocesses and memory measured) on its own. */
export const GROUPS = ['startup', 'vm-list', 'volume-list', 'volume-list-pool', 'pool-list', 'net-list', 'bridge-list', 'host', 'purge'];

const USAGE = `usage: node bench/run.mjs [options]   (npm run bench -- [options]; as root)
  --runs N             rounds of each group (default 10; start-up runs 3 x N)
  --big-runs N         rounds at N >= 5000 (default 3)
  --sizes A,B,...      numbers of defined VMs (default 100,1000,5000)
  --groups G,...       only these groups (default all): ${GROUPS.join(', ')}
                       (purge runs at N = 1000, or at the largest size without 1000)
  --purge-volumes N    volumes of the pool pool delete --purge removes (default 1000)
  --running N          VMs that boot the lab's guest (0..9, default 2)
  --lab NAME           the lab to use (scripts/lab.sh; default bench)
  --keep-lab           leave the lab up afterwards (it is taken down only if this run brought it up)
  --no-binary          do not build or time the single binary
  --no-build           time dist/ as it is (built earlier with npm run build)
  --report-only        measure nothing: write bench/results.md again from bench/results.json
Writes bench/results.md and bench/results.json (a partial run with --groups or --sizes too).`;

export const { values: opts } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    groups: { type: 'string', default: GROUPS.join(',') },
    runs: { type: 'string', default: '10' },
    sizes: { type: 'string', default: '100,1000,5000' },
    'big-runs': { type: 'string', default: '3' },
    'purge-volumes': { type: 'string', default: '1000' },
    running: { type: 'string', default: '2' },
    lab: { type: 'string', default: 'bench' },
    'keep-lab': { type: 'boolean', default: false },
    'no-binary': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    'in-netns': { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
export const groups = new Set(opts.groups.split(',').map((g) => g.trim()).filter(Boolean));
for (const g of groups) if (!GROUPS.includes(g)) usage(`--groups: unknown group ${JSON.stringify(g)} (one of ${GROUPS.join(', ')})`);
export const runs = positiveInt(opts.runs, '--runs');
// The largest fleet takes minutes to build and each run seconds: fewer rounds there.
export const bigRuns = positiveInt(opts['big-runs'], '--big-runs');
export const runsAt = (n) => (n >= 5000 ? Math.min(runs, bigRuns) : runs);
export const purgeVolumes = positiveInt(opts['purge-volumes'], '--purge-volumes');
export const sizes = opts.sizes.split(',').map((s) => positiveInt(s, '--sizes')).sort((a, b) => a - b);
export const runningCount = Number(opts.running);
if (!Number.isInteger(runningCount) || runningCount < 0 || runningCount > 9) usage('--running must be 0..9');
if (sizes.length === 0 || sizes[sizes.length - 1] > 9999) usage('--sizes must be numbers up to 9999');

export const log = (s) => process.stderr.write(`bench: ${s}\n`);

export function usage(message) {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(s, flag) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) usage(`${flag} expects positive whole numbers, got ${JSON.stringify(s)}`);
  return n;
}

