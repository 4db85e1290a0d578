/**
 * The domain XML builder: golden files (regenerate with UPDATE_GOLDEN=1). libvirt's
 * schema check of the golden files (virt-xml-validate) and the comparison with
 * virt-install --print-xml run in the integration tier (test/integration).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDomainXml, targetDevs, type DomainSpec } from '../../../src/libvirt/domain-builder.js';
import { parseDomainXml } from '../../../src/libvirt/domain-xml.js';
import { encodeXml } from '../../../src/libvirt/xml-codec.js';
import { P, SPECS } from '../../fixtures/golden/domain/specs.js';

const GOLDEN = 'test/fixtures/golden/domain';

describe('buildDomainXml golden files', () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name}: matches the golden file`, () => {
      const xml = encodeXml(buildDomainXml(spec));
      const file = join(GOLDEN, `${name}.xml`);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, xml);
      }
      expect(xml).toBe(readFileSync(file, 'utf8'));
    });
  }

  it('reads back as the same definition (name, uuid, memory, disks, NICs, serial log, seed metadata)', async () => {
    const def = await parseDomainXml(encodeXml(buildDomainXml(SPECS['overlay-seed-nat'] as DomainSpec)));
    expect(def).toMatchObject({
      type: 'qemu',
      name: 'web1',
      uuid: '6f1c2a4e-0b7d-4c39-9a51-3f0e8d2b7c11',
      memoryBytes: 256 * 1024 ** 2,
      currentMemoryBytes: 256 * 1024 ** 2,
      vcpus: 1,
      serialLogs: [`${P}/web1.serial.log`],
      kvmctl: { seed: { pool: 'default', volume: 'web1-seed.iso' } },
    });
    expect(def.disks.map((d) => [d.device, d.target.dev, d.source?.file, d.readonly])).toEqual([
      ['disk', 'vda', `${P}/web1.qcow2`, false],
      ['cdrom', 'sda', `${P}/web1-seed.iso`, true],
    ]);
    expect(def.interfaces).toEqual([{ type: 'network', source: { network: 'default' }, mac: '52:54:00:12:34:56', model: 'virtio', targetDev: undefined }]);
  });

  it('keeps hostile names and paths as data', async () => {
    const spec = { ...(SPECS['kernel-boot-no-net'] as DomainSpec), name: `a</name><devices/>&'"`, serialLog: `/tmp/x'y".log` };
    const def = await parseDomainXml(encodeXml(buildDomainXml(spec)));
    expect(def.name).toBe(`a</name><devices/>&'"`);
    expect(def.serialLogs).toEqual([`/tmp/x'y".log`]);
  });
});

describe('builder helpers', () => {
  it('names disks per bus the way virt-install does', () => {
    expect(targetDevs(['virtio', 'virtio', 'sata', 'scsi', 'ide', 'virtio'])).toEqual(['vda', 'vdb', 'sda', 'sdb', 'hda', 'vdc']);
    expect(targetDevs(Array(28).fill('virtio')).slice(24)).toEqual(['vdy', 'vdz', 'vdaa', 'vdab']);
  });
});
