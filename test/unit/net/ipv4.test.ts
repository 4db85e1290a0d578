/** IPv4 addresses and blocks. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { blockOf, cidrFromTool, firstHost, formatCidr, formatIpv4, lastHost, overlaps, parseIpv4, parseSubnet } from '../../../src/net/ipv4.js';

describe('ipv4', () => {
  it('parses and formats addresses strictly', () => {
    expect(parseIpv4('10.0.0.255')).toBe(167772415);
    expect(formatIpv4(167772415)).toBe('10.0.0.255');
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', 'a.b.c.d', '']) expect(parseIpv4(bad)).toBeUndefined();
  });

  it('parseSubnet wants a network address and room for hosts', () => {
    expect(formatCidr(parseSubnet('10.10.0.0/24'))).toBe('10.10.0.0/24');
    expect(() => parseSubnet('10.10.0.5/24')).toThrow(/host bits are set/);
    try {
      parseSubnet('10.10.0.5/24');
    } catch (e) {
      expect((e as UsageError).hint).toBe('did you mean --subnet 10.10.0.0/24?');
    }
    expect(() => parseSubnet('10.10.0.0/31')).toThrow(/between \/8 and \/30/);
    expect(() => parseSubnet('10.10.0.0')).toThrow(/not an IPv4 CIDR block/);
    expect(() => parseSubnet('10.10.0.0/33')).toThrow(UsageError);
  });

  it('first and last host, overlaps, and blocks from tool output', () => {
    const s = parseSubnet('10.10.0.0/16');
    expect(formatIpv4(firstHost(s))).toBe('10.10.0.1');
    expect(formatIpv4(lastHost(s))).toBe('10.10.255.254');
    expect(overlaps(parseSubnet('10.10.0.0/16'), parseSubnet('10.10.200.0/24'))).toBe(true);
    expect(overlaps(parseSubnet('10.10.0.0/24'), parseSubnet('10.10.1.0/24'))).toBe(false);
    expect(cidrFromTool('default')).toEqual({ network: 0, prefix: 0 });
    expect(formatCidr(cidrFromTool('192.168.1.7')!)).toBe('192.168.1.7/32');
    expect(formatCidr(blockOf(parseIpv4('192.168.1.7')!, 24))).toBe('192.168.1.0/24');
    expect(cidrFromTool('2001:db8::/64')).toBeUndefined();
  });
});
