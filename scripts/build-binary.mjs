// Builds kvmctl as one self-contained executable (dist/kvmctl-<platform>-<arch>)
// with Node's single executable application support: the CLI bundled into one
// CommonJS script, turned into a preparation blob by this node, and injected
// into a copy of this node binary. The result needs no Node on the target.
//
// Usage: node scripts/build-binary.mjs   (npm run build:binary)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The Node docs test SEA on Linux, macOS and Windows; macOS and Windows binaries
// must also be re-signed, which this script does not do.
if (process.platform !== 'linux') {
  console.error(`build-binary: only linux is supported (this is ${process.platform}); use the npm package (npx kvmctl) there`);
  process.exit(2);
}

// The executable is a copy of this node: one that loads libnode.so (as some distribution
// packages do) would still need that library on the target.
const ldd = spawnSync('ldd', [process.execPath], { encoding: 'utf8' });
if (/\blibnode\.so/.test(ldd.stdout ?? '')) {
  console.error(`build-binary: ${process.execPath} is linked against libnode.so, so a copy of it is not self-contained; build with an official Node 20 binary (nodejs.org or NodeSource)`);
  process.exit(2);
}

const target = `kvmctl-${process.platform}-${process.arch}`;
const out = join(root, 'dist', target);
const work = join(root, 'dist', 'sea');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const started = Date.now();
const step = (what) => console.error(`build-binary: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

// Node 20 runs only a CommonJS script as the SEA main, and its require() there
// loads built-ins only: the npm build's bundle (dist/kvmctl.cjs, every dependency
// inside, built-ins required) is that script's body, wrapped in a function that
// runs only when called, so `--version` alone skips evaluating the CLI.
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  console.error(`build-binary: npm run build failed (exit ${build.status ?? build.signal})`);
  process.exit(1);
}
const script = join(work, 'kvmctl.cjs');
writeFileSync(
  script,
  `'use strict';
if (process.argv.length === 3 && process.argv[2] === '--version') {
  process.stdout.write(${JSON.stringify(pkg.version + '\n')});
} else {
  const cli = { exports: {} };
  (function (exports, require, module) {
${readFileSync(join(root, 'dist', 'kvmctl.cjs'), 'utf8')}
  })(cli.exports, require, cli);
  cli.exports.run(process.argv).then((code) => { process.exitCode = code; });
}
`,
);
step('bundled');

const blob = join(work, 'kvmctl.blob');
const config = join(work, 'sea-config.json');
writeFileSync(
  config,
  JSON.stringify(
    {
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8 code cache of the script: the binary skips compiling the bundle at start.
      // It ties the blob to this node's V8, which is the node it is injected into.
      useCodeCache: true,
    },
    null,
    2,
  ),
);
runQuietly(process.execPath, ['--experimental-sea-config', config], 'node --experimental-sea-config');
step('preparation blob written');

// Inject into a temporary copy, then rename: an interrupted build never leaves a
// half-made executable under the final name.
const tmp = join(work, target);
copyFileSync(process.execPath, tmp);
chmodSync(tmp, 0o755);
runQuietly(process.execPath, [require.resolve('postject/dist/cli.js'), tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], 'postject');
renameSync(tmp, out);
rmSync(work, { recursive: true, force: true });

// --version is answered before the CLI loads; --help runs the whole bundle.
const version = execFileSync(out, ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } }).trim();
const help = execFileSync(out, ['--help'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
if (version !== pkg.version || !help.startsWith('Usage: kvmctl')) {
  console.error(`build-binary: ${out} does not work: --version printed ${JSON.stringify(version)} (expected ${pkg.version}), --help began ${JSON.stringify(help.slice(0, 40))}`);
  process.exit(1);
}
step(`built ${out} (node ${process.version}, kvmctl ${version})`);

/**
 * Runs a build step, showing its stderr only when it fails. postject (LIEF) warns
 * "Can't find string offset for section name '.note…'" for each of node's ELF
 * notes on every successful injection; that noise would hide real messages.
 */
function runQuietly(program, args, what) {
  const r = spawnSync(program, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`build-binary: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}
