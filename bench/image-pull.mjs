#!/usr/bin/env node
// npm run bench:image: times `kvmctl image pull` of a large file from an HTTP
// server on the loopback of a lab's network namespace against `curl -o` of the
// same file (and `curl -o` + `sha256sum`, what verifying by a second read costs),
// and kvmctl's download loop alone with and without the digest (bench/pull-loop.mjs:
// what verifying while receiving costs); records kvmctl's peak RSS, and writes
// bench/image-results.md. See docs/performance.md.
//
//   node bench/image-pull.mjs [--lab bench] [--size-mib 2048] [--runs 3] [--keep-lab]
//
// Everything runs inside the lab's namespace (`ip netns exec`); the machine's own
// network namespace is not touched. The test file is kept in the lab folder between runs.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_SCRIPT = join(ROOT, 'scripts', 'lab.sh');
const { values: opts } = parseArgs({
  options: {
    lab: { type: 'string', default: 'bench' },
    'size-mib': { type: 'string', default: '2048' },
    runs: { type: 'string', default: '3' },
    'keep-lab': { type: 'boolean', default: false },
  },
});
const sizeMiB = Number(opts['size-mib']);
const runs = Number(opts.runs);
if (!Number.isInteger(sizeMiB) || sizeMiB < 1 || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/image-pull.mjs [--lab NAME] [--size-mib N] [--runs N] [--keep-lab]');
  process.exit(2);
}

function sh(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...o });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout;
}
const lab = (what) => sh('bash', [LAB_SCRIPT, what, opts.lab]).trim();

sh('bash', [LAB_SCRIPT, 'up', opts.lab], { stdio: ['ignore', 'ignore', 'inherit'] });
const uri = lab('uri');
const netns = lab('netns');
const labDir = resolve(uri.replace(/^.*socket=/, ''), '../..');
const POOL = 'bench-image';
const poolDir = join(labDir, 'pools', POOL);
const www = join(labDir, 'pools', `${POOL}-www`);
const file = join(www, 'big.raw');
const virsh = (...args) => spawnSync('virsh', ['-c', uri, ...args], { encoding: 'utf8' });

mkdirSync(poolDir, { recursive: true });
mkdirSync(www, { recursive: true });
if (!existsSync(file) || statSync(file).size !== sizeMiB * 2 ** 20) {
  console.error(`bench: writing ${sizeMiB} MiB of random data to ${file}`);
  sh('sh', ['-c', 'head -c "$1" /dev/urandom > "$2"', 'sh', String(sizeMiB * 2 ** 20), file]);
}
if (virsh('pool-info', '--pool', POOL).status !== 0) {
  virsh('pool-define-as', POOL, 'dir', '--target', poolDir);
  virsh('pool-start', POOL);
}

async function sha256(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest('hex');
}
const digest = await sha256(file);

// The download loop alone, bundled like dist/kvmctl.cjs is.
const loopBundle = join(www, 'download-loop.cjs');
const { build } = await import('esbuild');
await build({ entryPoints: [join(ROOT, 'src/images/download.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: loopBundle, logLevel: 'error' });

const server = spawn('ip', ['netns', 'exec', netns, process.execPath, join(ROOT, 'test/e2e/image-server.mjs'), www], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((res) => createInterface({ input: server.stdout }).once('line', (l) => res(JSON.parse(l).port)));
const url = `http://127.0.0.1:${port}/files/big.raw`;

/** Wall time and peak RSS of argv run inside the namespace. */
function timed(argv) {
  const out = join(www, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', '-o', out, 'ip', 'netns', 'exec', netns, ...argv], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: '', http_proxy: '', KVMCTL_URI: '' } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(out, 'utf8'))?.[1] ?? 0) * 1024;
  return { seconds, rss, stdout: r.stdout };
}

const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { curl: [], curlSha: [], loop: [], loopDigest: [], kvmctl: [], rss: [] };
const loopOut = join(poolDir, 'loop.out');
function loop(mode) {
  const r = timed([process.execPath, join(ROOT, 'bench/pull-loop.mjs'), loopBundle, url, loopOut, mode]);
  rmSync(loopOut, { force: true });
  const got = JSON.parse(r.stdout);
  if (got.bytes !== sizeMiB * 2 ** 20 || got.digest !== (mode === 'digest' ? `sha256:${digest}` : '')) throw new Error(`the download loop (${mode}) returned ${r.stdout}`);
  return r.seconds;
}
const curlOut = join(poolDir, 'curl.out');
for (let i = 0; i < runs; i++) {
  // Interleaved, so that a slower moment of the machine hits every contender alike.
  results.curl.push(timed(['curl', '-sS', '-o', curlOut, url]).seconds);
  rmSync(curlOut, { force: true });
  results.curlSha.push(timed(['sh', '-c', 'curl -sS -o "$1" "$2" && sha256sum "$1" >/dev/null', 'sh', curlOut, url]).seconds);
  rmSync(curlOut, { force: true });
  results.loop.push(loop('none'));
  results.loopDigest.push(loop('digest'));
  const name = `big-${i}.raw`;
  const k = timed([process.execPath, join(ROOT, 'bin/kvmctl'), '-c', uri, 'image', 'pull', url, '--pool', POOL, '--name', name, '--checksum', `sha256:${digest}`, '-o', 'json']);
  if (JSON.parse(k.stdout).digest !== `sha256:${digest}`) throw new Error('kvmctl reported another digest');
  results.kvmctl.push(k.seconds);
  results.rss.push(k.rss);
  sh('ip', ['netns', 'exec', netns, process.execPath, join(ROOT, 'bin/kvmctl'), '-c', uri, '-q', 'image', 'remove', `${POOL}/${name}`]);
}
server.kill('SIGTERM');

const mib = sizeMiB;
const row = (label, s) => `| ${label} | ${median(s).toFixed(2)} s | ${(mib / median(s)).toFixed(0)} MiB/s | ${s.map((x) => x.toFixed(1)).join(', ')} |`;
const throughputRatio = median(results.curl) / median(results.kvmctl);
const overVerifiedCurl = median(results.kvmctl) / median(results.curlSha);
const overCurl = (median(results.kvmctl) / median(results.curl) - 1) * 100;
const verifyCost = (median(results.loopDigest) / median(results.loop) - 1) * 100;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const peak = Math.max(...results.rss) / 2 ** 20;
const md = `# image pull benchmark

${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.versions.node};
a ${mib} MiB file of random data served from the loopback of lab ${opts.lab}'s namespace
(test/e2e/image-server.mjs), written into a directory pool on the same disk; medians of ${runs} interleaved runs;
load average before: ${loadBefore}, after: ${load}.

| | median time | throughput | every run (s) |
| --- | --- | --- | --- |
${row('`curl -o`', results.curl)}
${row('`curl -o` + `sha256sum`', results.curlSha)}
${row('kvmctl download loop, no digest (bench/pull-loop.mjs)', results.loop)}
${row('kvmctl download loop, SHA-256 while receiving', results.loopDigest)}
${row('`kvmctl image pull --checksum sha256:…` (verified, published)', results.kvmctl)}

- kvmctl's throughput is ${throughputRatio.toFixed(2)}x curl's (target: at least 0.8x) ${throughputRatio >= 0.8 ? 'met' : 'NOT met'}.
- Verifying while receiving changes the download loop's time by ${verifyCost >= 0 ? '+' : ''}${verifyCost.toFixed(0)} % (target: at most 10 %) ${verifyCost <= 10 ? 'met' : 'NOT met'}.
- Verification included, kvmctl takes ${Math.abs(overCurl).toFixed(0)} % ${overCurl >= 0 ? 'longer' : 'less time'} than the unverified curl download (target: at most 10 %) ${median(results.kvmctl) / median(results.curl) <= 1.1 ? 'met' : 'NOT met'},
  and ${overVerifiedCurl.toFixed(2)}x the time of curl followed by sha256sum.
- Peak RSS of kvmctl: ${peak.toFixed(0)} MiB (target: under 100 MiB) ${peak < 100 ? 'met' : 'NOT met'}.
`;
writeFileSync(join(ROOT, 'bench', 'image-results.md'), md);
console.log(md);
if (!opts['keep-lab'] && opts.lab === 'bench') sh('bash', [LAB_SCRIPT, 'down', opts.lab]);
