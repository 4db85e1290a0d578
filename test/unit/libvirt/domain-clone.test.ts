/** The clone transform: a recorded VM's inactive XML in, the clone's XML out. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneDomainNode } from '../../../src/libvirt/domain-clone.js';
import { domainFromNode } from '../../../src/libvirt/domain-xml.js';
import { decodeXml, encodeXml } from '../../../src/libvirt/xml-codec.js';

const RECORDED = 'test/fixtures/recorded/vm';

describe('cloneDomainNode', () => {
  it("gives a recorded VM's XML a new name, uuid, MACs, disks and log, drops the seed and the metadata, keeps the rest", async () => {
    const xml = readFileSync(join(RECORDED, 'virsh-dumpxml-web-inactive.xml'), 'utf8');
    const root = await decodeXml(xml);
    const src = domainFromNode(root);
    const poolDir = '/var/tmp/kvmctl-lab/vm/pools/fxvm-pool';
    const out = cloneDomainNode(root, {
      name: 'web2',
      uuid: '11111111-2222-4333-8444-555555555555',
      disks: new Map([
        [`${poolDir}/fxvm-web.qcow2`, `${poolDir}/web2.qcow2`],
        [`${poolDir}/fxvm-web-seed.iso`, null],
      ]),
      macs: ['52:54:00:99:88:77'],
      serialLog: `${poolDir}/web2.serial.log`,
    });
    const def = domainFromNode(await decodeXml(encodeXml(out)));
    expect(def.name).toBe('web2');
    expect(def.uuid).toBe('11111111-2222-4333-8444-555555555555');
    expect(def.kvmctl).toBeUndefined();
    expect(def.disks.map((d) => [d.target.dev, d.source?.file])).toEqual([['vda', `${poolDir}/web2.qcow2`]]);
    expect(def.interfaces.map((n) => n.mac)).toEqual(['52:54:00:99:88:77']);
    expect(def.consoles?.map((c) => c.logFile)).toEqual([`${poolDir}/web2.serial.log`, `${poolDir}/web2.serial.log`]);
    // Everything else is the source's.
    expect([def.type, def.memoryBytes, def.vcpus, def.os.boot, def.interfaces[0]?.type]).toEqual([src.type, src.memoryBytes, src.vcpus, src.os.boot, 'network']);
    expect(encodeXml(out)).toContain('org.qemu.guest_agent.0');
    // The source tree is not modified.
    expect(domainFromNode(root).name).toBe('fxvm-web');
  });
});
