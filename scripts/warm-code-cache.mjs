// Runs the bundle's CLI on a few commands in this process, then writes the V8 code
// cache of everything they compiled. Started by scripts/build.mjs with PATH set to
// one empty directory (also its working directory), so every program kvmctl would
// run is missing and nothing on the host is touched.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePathOf, loadBundle, saveCodeCache } from '../bin/bundle-loader.mjs';

const bundle = process.argv[2];
const path = process.env.PATH ?? '';
const emptyDir = (dir) => {
  try {
    return dir.startsWith('/') && readdirSync(dir).length === 0;
  } catch {
    return false;
  }
};
if (!bundle || path.split(':').some((dir) => !emptyDir(dir)) || !emptyDir(process.cwd())) {
  process.stderr.write('usage: PATH=EMPTY_DIR node scripts/warm-code-cache.mjs dist/kvmctl.cjs   (run from EMPTY_DIR)\n');
  process.exit(2);
}
rmSync(cachePathOf(bundle), { force: true });
const loaded = loadBundle(bundle);
const uri = ['-c', 'qemu:///system'];
for (const args of [['--help'], ['vm', '--help'], ['vm', 'list'], ['vm', 'list', '-o', 'json'], ['vm', 'info', 'x'], ['host'], ['volume', 'list'], ['net', 'list']]) {
  await loaded.exports.run(['node', 'kvmctl', ...uri, ...args]);
}
// -H too: the inventory's YAML parse, a Context per host, the merge and its table (each host fails: no virsh).
const inventory = mkdtempSync(join(tmpdir(), 'kvmctl-warm-'));
try {
  process.env.KVMCTL_HOSTS = join(inventory, 'hosts.yaml');
  writeFileSync(process.env.KVMCTL_HOSTS, 'hosts:\n  a: {uri: "qemu:///system"}\n  b: {uri: "qemu:///session"}\n');
  await loaded.exports.run(['node', 'kvmctl', '-H', 'all', 'vm', 'list']);
} finally {
  rmSync(inventory, { recursive: true, force: true });
}
process.exitCode = 0;
saveCodeCache(bundle, loaded);
