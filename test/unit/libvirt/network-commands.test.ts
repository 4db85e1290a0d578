/** Parsers of virsh net-dhcp-leases and net-info output (recorded). */
import { describe, expect, it } from 'vitest';
import { parseDhcpLeases, parseNetInfo } from '../../../src/libvirt/network-commands.js';
import { recorded } from '../../support/harness.js';

const LEASE_EXPIRY = /^ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/m.exec(recorded('net/virsh-net-dhcp-leases-fxn-nat.txt'))?.[1] ?? '';
/** virsh prints the expiry in local time. */
const leaseExpiryIso = new Date(LEASE_EXPIRY.replace(' ', 'T')).toISOString();

describe('parsers', () => {
  it('parseDhcpLeases reads a lease and skips the header', () => {
    expect(parseDhcpLeases(recorded('net/virsh-net-dhcp-leases-fxn-nat.txt'))).toEqual([
      { expiryTime: leaseExpiryIso, mac: '52:54:00:f0:00:01', protocol: 'ipv4', ip: '10.213.0.227', prefix: 24, hostname: 'fxn-vm1', clientId: '01:52:54:00:f0:00:01' },
    ]);
    expect(parseDhcpLeases(recorded('net/virsh-net-dhcp-leases-fxn-iso.txt'))).toEqual([]);
  });

  it('parseDhcpLeases: no hostname, no client id, IPv6', () => {
    const text = [
      ' Expiry Time           MAC address         Protocol   IP address                Hostname   Client ID or DUID',
      '-----------------------------------------------------------------------------------------------------------',
      ' 2026-01-02 03:04:05   52:54:00:AA:BB:CC   ipv4       192.168.122.9/24          -          -',
      ' 2026-01-02 03:04:06   52:54:00:aa:bb:cd   ipv6       2001:db8::9/64            h6',
    ].join('\n');
    expect(parseDhcpLeases(text)).toEqual([
      { expiryTime: new Date(2026, 0, 2, 3, 4, 5).toISOString(), mac: '52:54:00:aa:bb:cc', protocol: 'ipv4', ip: '192.168.122.9', prefix: 24 },
      { expiryTime: new Date(2026, 0, 2, 3, 4, 6).toISOString(), mac: '52:54:00:aa:bb:cd', protocol: 'ipv6', ip: '2001:db8::9', prefix: 64, hostname: 'h6' },
    ]);
  });

  it('parseNetInfo', () => {
    expect(parseNetInfo(recorded('net/virsh-net-info-fxn-iso.txt'))).toEqual({ name: 'fxn-iso', active: false, autostart: false, persistent: true });
    expect(parseNetInfo('')).toBeUndefined();
  });
});
