import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDomainXml } from '../../../src/libvirt/domain-xml.js';
import { macsInUse, randomMac, randomMacs } from '../../../src/libvirt/mac.js';
import { KvmctlError } from '../../../src/errors.js';

/** A random source that hands out these 3-byte draws in turn, and counts the draws. */
function draws(...values: number[][]): { random: (size: number) => Buffer; count: () => number } {
  let i = 0;
  return {
    random: (size: number) => {
      const v = values[Math.min(i++, values.length - 1)] ?? [];
      expect(size).toBe(3);
      return Buffer.from(v);
    },
    count: () => i,
  };
}

describe('randomMac', () => {
  it('makes MACs in 52:54:00, the prefix libvirt uses', () => {
    expect(randomMac(new Set(), draws([0xab, 0x01, 0xff]).random)).toBe('52:54:00:ab:01:ff');
    expect(randomMac(new Set())).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('draws again when the MAC is already in use, and returns the free one', () => {
    const src = draws([0xf1, 0x00, 0x01], [0xf1, 0x00, 0x01], [0x12, 0x34, 0x56]);
    expect(randomMac(new Set(['52:54:00:f1:00:01']), src.random)).toBe('52:54:00:12:34:56');
    expect(src.count()).toBe(3);
  });

  it('never returns a MAC of a defined VM (recorded dumpxml), even when the random source keeps hitting it', async () => {
    const web = await parseDomainXml(readFileSync('test/fixtures/recorded/vm/virsh-dumpxml-web.xml', 'utf8'));
    const off = await parseDomainXml(readFileSync('test/fixtures/recorded/vm/virsh-dumpxml-off-inactive.xml', 'utf8'));
    const used = macsInUse([web, off]);
    expect([...used].sort()).toEqual(['52:54:00:f1:00:01', '52:54:00:f1:00:02']);
    const src = draws([0xf1, 0x00, 0x02], [0xf1, 0x00, 0x01], [0xf1, 0x00, 0x03]);
    expect(randomMac(used, src.random)).toBe('52:54:00:f1:00:03');
  });

  it('compares without regard to case', () => {
    const used = macsInUse([{ interfaces: [{ type: 'user', mac: '52:54:00:AB:CD:EF' }] }]);
    expect(randomMac(used, draws([0xab, 0xcd, 0xef], [0, 0, 1]).random)).toBe('52:54:00:00:00:01');
  });

  it('gives up with an error naming the prefix and what to do when every draw is taken', () => {
    const src = draws([0xf1, 0x00, 0x01]);
    const err = (() => {
      try {
        randomMac(new Set(['52:54:00:f1:00:01']), src.random);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KvmctlError);
    expect((err as KvmctlError).message).toMatch(/could not pick a free MAC address: 1000 random draws in 52:54:00:xx:xx:xx were all in use/);
    expect((err as KvmctlError).hint).toMatch(/mac=52:54:00/);
    expect(src.count()).toBe(1000);
  });

  it('picks several distinct MACs, none in use', () => {
    const src = draws([1, 1, 1], [1, 1, 1], [2, 2, 2], [1, 1, 1], [2, 2, 2], [3, 3, 3]);
    expect(randomMacs(2, new Set(['52:54:00:01:01:01']), src.random)).toEqual(['52:54:00:02:02:02', '52:54:00:03:03:03']);
  });
});
