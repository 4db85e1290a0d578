// Bundles the CLI into one CommonJS file (dist/kvmctl.cjs) that bin/kvmctl loads,
// writes the man page kvmctl(1) from the bundle's own command tree (dist/kvmctl.1), then writes its V8 code cache (dist/kvmctl.cjs.cache) by running a few commands
// in a child process that can start no program (its PATH is one empty directory),
// so the cache also holds the functions a typical run compiles: argument parsing,
// the runner, errors.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../bin/bundle-loader.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bundle = fileURLToPath(new URL('../dist/kvmctl.cjs', import.meta.url));

// `import text from './file?raw'` (as vite and so vitest read it): the file's text.
const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/\?raw$/, '')), namespace: 'raw-text' }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning' };
const result = await build({
  ...common,
  entryPoints: [fileURLToPath(new URL('../src/cli.ts', import.meta.url))],
  outfile: bundle,
  define: { KVMCTL_VERSION: JSON.stringify(pkg.version) },
  plugins: [rawText],
});
// What bin/kvmctl runs before loading the bundle (src/early.ts): small, so it costs little to compile.
const early = await build({
  ...common,
  entryPoints: [fileURLToPath(new URL('../src/early.ts', import.meta.url))],
  outfile: fileURLToPath(new URL('../dist/early.cjs', import.meta.url)),
});
result.warnings.push(...early.warnings);
// import.meta is empty in a CommonJS bundle: code relying on it would misbehave at run time.
const metaWarnings = result.warnings.filter((w) => /import\.meta/.test(w.text));
if (metaWarnings.length > 0) {
  console.error('build: the CommonJS bundle uses import.meta, which is empty there:');
  for (const w of metaWarnings) console.error(`  ${w.location?.file}:${w.location?.line}: ${w.text}`);
  process.exit(1);
}

// bin/bundle-loader.mjs reads the bundle as latin1, the same text only while it is ASCII (esbuild's default charset).
const nonAscii = readFileSync(bundle).findIndex((b) => b > 0x7f);
if (nonAscii >= 0) {
  console.error(`build: dist/kvmctl.cjs has a byte that is not ASCII at offset ${nonAscii}; bin/bundle-loader.mjs reads it as latin1`);
  process.exit(1);
}

// From the bundle itself, so the page describes exactly the commands it runs.
const manPath = fileURLToPath(new URL('../dist/kvmctl.1', import.meta.url));
writeFileSync(`${manPath}.tmp`, loadBundle(bundle).exports.manual());
renameSync(`${manPath}.tmp`, manPath);

const scratch = mkdtempSync(join(tmpdir(), 'kvmctl-build-'));
try {
  // An empty PATH would not do: an empty entry means the working directory.
  const emptyBin = join(scratch, 'bin');
  mkdirSync(emptyBin);
  const warm = spawnSync(process.execPath, [fileURLToPath(new URL('./warm-code-cache.mjs', import.meta.url)), bundle], {
    cwd: emptyBin,
    env: { PATH: emptyBin, KVMCTL_STATE_DIR: join(scratch, 'state'), NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (warm.status !== 0) {
    console.error(`build: writing the code cache failed (exit ${warm.status}):\n${warm.stderr}`);
    process.exit(1);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
