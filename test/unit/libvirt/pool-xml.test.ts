import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPoolXml, parsePoolXml, poolDefinitionOf, poolSpecDifferences, type PoolSpec } from '../../../src/libvirt/pool-xml.js';
import { buildVolumeXml, parseVolumeXml } from '../../../src/libvirt/volume-xml.js';
import { poolSpecFromOptions, type PoolCreateOptions } from '../../../src/commands/pool/create.js';

// Regenerate with: UPDATE_GOLDEN=1 npx vitest run test/unit/libvirt/pool-xml.test.ts
const GOLDEN = new URL('../../fixtures/golden/pool/', import.meta.url);

function golden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

// libvirt's schema check of the golden files and of these volume XMLs runs in test/integration/xml-schemas.test.ts.

const specs: Array<[string, PoolSpec]> = [
  ['dir.xml', { type: 'dir', name: 'images', path: '/var/lib/libvirt/images' }],
  ['fs.xml', { type: 'fs', name: 'data', path: '/srv/data', sourceDev: '/dev/sdb1', sourceFormat: 'ext4' }],
  ['netfs.xml', { type: 'netfs', name: 'nfs', path: '/mnt/vm', sourceHost: 'nas.example.com', sourcePath: '/export/vm' }],
  ['logical.xml', { type: 'logical', name: 'vg0', vg: 'vg0', sourceDevs: ['/dev/sdc', '/dev/sdd'] }],
  ['escaped.xml', { type: 'dir', name: "a&b<'c>", path: '/srv/a&b "quoted"' }],
];

describe('pool XML', () => {
  it.each(specs)('%s matches its golden file and parses back', async (file, spec) => {
    const xml = buildPoolXml(spec);
    golden(file, xml);
    const parsed = await parsePoolXml(xml);
    expect(parsed).toMatchObject({ ...poolDefinitionOf(spec), uuid: undefined });
    expect(poolSpecDifferences(parsed, spec)).toEqual([]);
  });

  it('reads what libvirt reports of a running pool, sizes in bytes', async () => {
    const text = readFileSync(new URL('../../fixtures/recorded/storage/pool-details-batch.txt', import.meta.url), 'utf8');
    const xml = text.split('KVMCTL-BATCH-SEPARATOR-d41d8cd9\n')[1]!;
    expect(await parsePoolXml(xml)).toEqual({
      type: 'dir',
      name: 'p1',
      uuid: 'd30c9e12-06bc-40bd-9412-96b4d964b5a5',
      capacityBytes: 270553174016,
      allocationBytes: 23870754816,
      availableBytes: 246682419200,
      source: { host: undefined, dir: undefined, devices: [], name: undefined, format: undefined },
      targetPath: '/var/tmp/kvmctl-lab/storage/pools/p1',
    });
  });

  it('names every difference from an existing pool', async () => {
    const existing = await parsePoolXml(buildPoolXml({ type: 'netfs', name: 'n', path: '/mnt/a', sourceHost: 'h1', sourcePath: '/e' }));
    expect(poolSpecDifferences(existing, { type: 'netfs', name: 'n', path: '/mnt/b', sourceHost: 'h2', sourcePath: '/e' })).toEqual([
      'target path: /mnt/a -> /mnt/b',
      'source host: h1 -> h2',
    ]);
    expect(poolSpecDifferences(existing, { type: 'dir', name: 'n', path: '/mnt/a' })[0]).toBe('type: netfs -> dir');
  });
});

describe('volume XML', () => {
  it('builds a sparse volume (vol-create-from), and parses it back', async () => {
    const xml = buildVolumeXml({ name: 'web.raw', capacityBytes: 1073741824, allocationBytes: 0, format: 'raw' });
    expect(xml).toBe(
      '<volume>\n  <name>web.raw</name>\n  <capacity unit="bytes">1073741824</capacity>\n  <allocation unit="bytes">0</allocation>\n  <target>\n    <format type="raw"/>\n  </target>\n</volume>\n',
    );
    expect(await parseVolumeXml(xml)).toMatchObject({ name: 'web.raw', capacityBytes: 1073741824, allocationBytes: 0, format: 'raw' });
  });

  it('builds a thin overlay (vol-create) with its backing format stated; no allocation means libvirt decides', async () => {
    const xml = buildVolumeXml({ name: 'web.qcow2', capacityBytes: 8589934592, format: 'qcow2', backing: { path: '/pools/p/base.raw', format: 'raw' } });
    expect(xml).toBe(
      '<volume>\n  <name>web.qcow2</name>\n  <capacity unit="bytes">8589934592</capacity>\n  <target>\n    <format type="qcow2"/>\n  </target>\n' +
        '  <backingStore>\n    <path>/pools/p/base.raw</path>\n    <format type="raw"/>\n  </backingStore>\n</volume>\n',
    );
    expect(await parseVolumeXml(xml)).toMatchObject({ name: 'web.qcow2', format: 'qcow2', backingStore: { path: '/pools/p/base.raw', format: 'raw' } });
  });

  it.each(["a&b<c>'d\"e.qcow2", '..&#47;x', 'a&amp;b'])('keeps the name %j exactly: escaped in the XML, the same after parsing', async (name) => {
    const xml = buildVolumeXml({ name, capacityBytes: 1048576, allocationBytes: 0, format: 'qcow2', backing: { path: `/srv/${name}`, format: 'qcow2' } });
    expect(xml).not.toMatch(/<name>[^<]*<[^/]/);
    const parsed = await parseVolumeXml(xml);
    expect([parsed.name, parsed.backingStore?.path]).toEqual([name, `/srv/${name}`]);
  });
});

describe('pool create options', () => {
  const base: PoolCreateOptions = { type: 'dir', start: true, autostart: true };
  const usage = (name: string, o: Partial<PoolCreateOptions>) => {
    try {
      poolSpecFromOptions(name, { ...base, ...o });
    } catch (e) {
      return { code: (e as { exitCode?: number }).exitCode, message: (e as Error).message };
    }
    return { code: 0, message: '' };
  };

  it('builds a spec per type', () => {
    expect(poolSpecFromOptions('a', { ...base, path: '/srv/a/' })).toEqual({ type: 'dir', name: 'a', path: '/srv/a' });
    expect(poolSpecFromOptions('v', { ...base, type: 'logical', sourceDev: ['/dev/sdc'] })).toEqual({ type: 'logical', name: 'v', vg: 'v', sourceDevs: ['/dev/sdc'] });
  });

  it.each([
    ['a/b', { path: '/srv' }, /invalid pool name "a\/b": it contains '\/'/],
    ['..', { path: '/srv' }, /relative path component/],
    ['-x', { path: '/srv' }, /starts with '-'/],
    ['a\u0007', { path: '/srv' }, /control characters/],
    ['ok', { path: 'relative/dir' }, /not absolute/],
    ['ok', { path: '/srv/../etc' }, /'\.' or '\.\.' components/],
    ['ok', { path: '/etc/pools' }, /inside \/etc, a system directory/],
    ['ok', { path: '/dev' }, /inside \/dev/],
    ['ok', { path: '/' }, /root directory/],
    ['ok', {}, /a dir pool needs --path/],
    ['ok', { path: '/srv', sourceHost: 'nas' }, /--source-host does not apply to a dir pool/],
    ['ok', { type: 'netfs', path: '/mnt/x', sourceHost: 'nas' }, /needs --source-path/],
    ['ok', { type: 'netfs', path: '/mnt/x', sourceHost: 'bad host;x', sourcePath: '/e' }, /invalid --source-host/],
    ['ok', { type: 'fs', path: '/mnt/x', sourceDev: ['sdb1'] }, /not a device path under \/dev/],
    ['ok', { type: 'logical' }, /needs --vg .* or --source-dev/],
    ['ok', { type: 'logical', path: '/x', vg: 'v' }, /--path does not apply to a logical pool/],
    ['ok', { type: 'zfs', path: '/x' }, /unknown pool type "zfs"/],
  ] as Array<[string, Partial<PoolCreateOptions>, RegExp]>)('%j %j is exit 2', (name, o, message) => {
    const r = usage(name, o);
    expect(r.code).toBe(2);
    expect(r.message).toMatch(message);
  });
});
