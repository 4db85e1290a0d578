// Bundles the CLI into one ESM file (dist/kvmctl.mjs) that bin/kvmctl imports.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/kvmctl.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  define: { KVMCTL_VERSION: JSON.stringify(pkg.version) },
  // xml2js is CommonJS and require()s Node built-ins.
  banner: { js: "import { createRequire as __kvmctlRequire } from 'node:module'; const require = __kvmctlRequire(import.meta.url);" },
  logLevel: 'warning',
});
