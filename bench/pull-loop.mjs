#!/usr/bin/env node
// Bench-only: runs kvmctl's image download loop (src/images/download.ts, bundled
// by bench/image-pull.mjs) on its own, with the digest or with a hasher that does
// nothing, so that the two times show what verifying while receiving costs.
//
//   node bench/pull-loop.mjs BUNDLE URL OUT digest|none
// Prints {"bytes":N,"digest":"sha256:…"} (digest empty for none).
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';

const [bundle, url, out, mode] = process.argv.slice(2);
if (!bundle || !url || !out || (mode !== 'digest' && mode !== 'none')) {
  console.error('usage: node bench/pull-loop.mjs BUNDLE URL OUT digest|none');
  process.exit(2);
}
const { download } = createRequire(import.meta.url)(bundle);
const idle = { update: () => idle, digest: () => '' };
const r = await download({
  what: 'bench',
  url,
  partPath: out,
  statePath: `${out}.state`,
  algorithm: 'sha256',
  signal: new AbortController().signal,
  ...(mode === 'none' ? { newHash: () => idle } : {}),
});
rmSync(`${out}.state`, { force: true });
console.log(JSON.stringify({ bytes: r.bytes, digest: r.digest.hex ? `sha256:${r.digest.hex}` : '' }));
