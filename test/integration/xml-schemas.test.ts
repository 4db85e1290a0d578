/**
 * libvirt's own schemas (virt-xml-validate, from libvirt-clients + libxml2-utils,
 * which scripts/lab.sh install installs) over every golden XML file kvmctl's
 * builders must produce, and the volume XML of `volume clone` and overlays.
 * The unit tests compare the builders' output with these files byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildVolumeXml } from '../../src/libvirt/volume-xml.js';

/** The schema each golden folder's files must pass. */
const SCHEMA_OF_FOLDER: Record<string, string> = { domain: 'domain', network: 'network', pool: 'storagepool' };
const GOLDEN = 'test/fixtures/golden';

function validate(file: string, schema: string): { status: number | null; output: string } {
  const r = spawnSync('virt-xml-validate', [file, schema], { encoding: 'utf8' });
  if (r.error) throw new Error(`virt-xml-validate could not run (${r.error.message}): install libvirt-clients and libxml2-utils (bash scripts/lab.sh install)`);
  return { status: r.status, output: r.stdout + r.stderr };
}

const goldens = readdirSync(GOLDEN).flatMap((folder) =>
  readdirSync(join(GOLDEN, folder))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => [`${folder}/${f}`, SCHEMA_OF_FOLDER[folder]] as const),
);

describe('golden XML passes libvirt schemas', () => {
  it('covers every golden folder', () => {
    expect(readdirSync(GOLDEN).filter((f) => !f.includes('.')).sort()).toEqual(Object.keys(SCHEMA_OF_FOLDER).sort());
    expect(goldens.length).toBeGreaterThanOrEqual(15);
  });

  it.each(goldens)('%s validates as %s', (file, schema) => {
    expect(schema).toBeDefined();
    const r = validate(join(GOLDEN, file), schema as string);
    expect(r.output).toMatch(/validates/);
    expect(r.status).toBe(0);
  });

  it('rejects XML the schema does not allow (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmctl-xml-'));
    try {
      const file = join(dir, 'bad.xml');
      writeFileSync(file, '<domain type="qemu"><name>x</name><devices><disk type="file"/></devices></domain>\n');
      const r = validate(file, 'domain');
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/fails to validate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('volume XML passes the storagevol schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmctl-xml-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const volumes: Array<[string, Parameters<typeof buildVolumeXml>[0]]> = [
    ['a sparse raw copy', { name: 'web.raw', capacityBytes: 1073741824, allocationBytes: 0, format: 'raw' }],
    ['a thin overlay with its backing format', { name: 'web.qcow2', capacityBytes: 8589934592, format: 'qcow2', backing: { path: '/pools/p/base.raw', format: 'raw' } }],
    ...["a&b<c>'d\"e.qcow2", '..&#47;x', 'a&amp;b'].map(
      (name) => [`the name ${JSON.stringify(name)}`, { name, capacityBytes: 1048576, allocationBytes: 0, format: 'qcow2', backing: { path: `/srv/${name}`, format: 'qcow2' } }] as [string, Parameters<typeof buildVolumeXml>[0]],
    ),
  ];
  it.each(volumes)('%s', (_what, spec) => {
    const file = join(dir, 'vol.xml');
    writeFileSync(file, buildVolumeXml(spec));
    const r = validate(file, 'storagevol');
    expect(r.output).toMatch(/validates/);
    expect(r.status).toBe(0);
  });
});
