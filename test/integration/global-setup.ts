/**
 * The integration tier needs the built CLI and the tools scripts/lab.sh install
 * installs (libvirt-clients, libxml2-utils, virtinst, genisoimage, xorriso,
 * qemu-utils); no daemon, no root, no lab. A missing one fails the run naming it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TOOLS: Record<string, string> = {
  virsh: 'libvirt-clients',
  'virt-xml-validate': 'libvirt-clients (and libxml2-utils for xmllint)',
  xmllint: 'libxml2-utils',
  'virt-install': 'virtinst',
  genisoimage: 'genisoimage',
  isoinfo: 'genisoimage',
  xorriso: 'xorriso',
  'qemu-img': 'qemu-utils',
};

export default function setup(): void {
  if (!existsSync('dist/kvmctl.cjs')) throw new Error('dist/kvmctl.cjs is missing: run npm run build first (npm test and npm run test:integration do)');
  const missing = Object.entries(TOOLS).filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`the integration tier needs ${missing.map(([t, p]) => `${t} (${p})`).join(', ')}: install them with: bash scripts/lab.sh install`);
  }
}
