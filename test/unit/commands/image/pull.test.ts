/**
 * The pure parts of image pull: checksum and SUMS parsing, the catalog and its
 * config file, names and URLs refused before any network access, the progress line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../src/main.js';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { memoryFs } from '../../../../src/local-fs.js';
import { memoryIO } from '../../../../src/output/io.js';

const H256 = 'a'.repeat(64);

describe('image pull and vm create --image: refused before anything runs', () => {
  async function run(argv: string[]) {
    const io = memoryIO({ KVMCTL_STATE_DIR: mkdtempSync(join(tmpdir(), 'kvmctl-image-unit-')), KVMCTL_CONFIG_DIR: '/nonexistent' });
    const runner = new FakeRunner();
    const code = await main(['node', 'kvmctl', '-c', 'qemu:///system', ...argv], { io, runner, fs: memoryFs({}), version: 'test', signal: new AbortController().signal, argv });
    return { code, err: io.err, calls: runner.calls };
  }
  const cases: Array<[string[], number, RegExp]> = [
    [['image', 'pull', 'file:///etc/passwd', '--checksum', `sha256:${H256}`], 2, /uses file:, which kvmctl does not download from/],
    [['image', 'pull', 'ftp://example.org/x.qcow2', '--checksum', `sha256:${H256}`], 2, /uses ftp:/],
    [['image', 'pull', 'data:,hello', '--checksum', `sha256:${H256}`], 2, /uses data:/],
    [['image', 'pull', 'https://u:p@example.org/x.qcow2', '--checksum', `sha256:${H256}`], 2, /user name or password/],
    [['image', 'pull', 'https://example.org/a/..%2f..%2fetc', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/.hidden.qcow2', '--checksum', `sha256:${H256}`], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--name', '../x'], 2, /invalid image name "..\/x"/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--name', 'a;b'], 2, /invalid image name/],
    [['image', 'pull', 'https://example.org/x.qcow2'], 2, /no checksum to verify it against/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', 'md5:x'], 2, /invalid --checksum/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--checksum', `sha256:${H256}`, '--sums', 'https://example.org/S'], 2, /not both/],
    [['image', 'pull', 'https://example.org/x.qcow2', '--sums', 'file:///etc/SUMS'], 2, /--sums/],
    [['image', 'pull', 'debian-12', '--pool', '../etc'], 2, /invalid pool name/],
    [['image', 'pull', 'no-such-image'], 3, /no image "no-such-image" in the catalog/],
    [['vm', 'create', 'w', '--image', 'file:///etc/passwd'], 2, /uses file:/],
    [['vm', 'create', 'w', '--image', 'ftp://example.org/x.qcow2,checksum=sha256:' + H256], 2, /uses ftp:/],
    [['vm', 'create', 'w', '--image', 'https://example.org/x.qcow2'], 2, /no checksum to verify it against/],
    [['vm', 'create', 'w', '--image', './disk.qcow2,checksum=sha256:' + H256], 2, /unknown key "checksum"/],
  ];
  for (const [argv, code, message] of cases) {
    it(`${argv.join(' ').slice(0, 100)}`, async () => {
      const r = await run(argv);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(code);
      expect(r.calls).toEqual([]);
    });
  }
});
