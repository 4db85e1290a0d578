/**
 * The validators every command runs before it touches anything: new volume
 * names, interface names, resizes, vm create flags, IPv4 addresses and CIDRs,
 * ports, pool paths, fault specs (object names, sizes, counts, host names and
 * MACs: test/unit/validate/ and test/unit/units/, beside their modules). Each invalid value is a UsageError (exit 2) that names
 * the value; each valid one comes back as kvmctl will use it.
 */
import { describe, expect, it } from 'vitest';
import { usageError } from '../support/usage-error.js';
import { parseVolumeRef, validateNewName } from '../../src/storage/volume-ref.js';
import { validateLibvirtBridgeName, validateLinkName } from '../../src/net/link-name.js';
import { parseDisk, parseKeyValues, parseCreateFlags } from '../../src/commands/vm/create-args.js';
import { parseAddressCidr, parseIpv4, parseSubnet } from '../../src/net/ipv4.js';
import { parseBridgeAddress } from '../../src/commands/bridge/create.js';
import { parsePortRange, parseProtocol, parseTarget } from '../../src/commands/net/forward/target.js';
import { parseCreateRequest } from '../../src/commands/net/create.js';
import { checkPoolPathSyntax } from '../../src/storage/pool-path.js';
import { parseSizeChange } from '../../src/commands/volume/resize.js';
import { parseFaultSpecs } from '../../src/exec/fault.js';

describe('new volume names and volume references', () => {
  // Volumes are created from codec-built XML: '&' and '<' reach libvirt escaped, as the names they are.
  it.each(['disk.qcow2', 'a;b.qcow2', 'x y.img', "it's.raw", 'a,b=c.qcow2', 'a>b', 'a&b.qcow2', 'a&amp;b.qcow2', '..&#47;x', 'a<b'])('a new volume may be named %j', (name) => {
    expect(validateNewName('volume', name)).toBe(name);
  });

  it.each([
    ['café.qcow2', /other than printable ASCII/],
    ['a/b', /contains '\/'/],
  ])('a new volume named %j is refused', (name, why) => {
    expect(usageError(() => validateNewName('volume', name)).message).toMatch(why);
  });

  it('snapshot names are not all digits (qemu-img reads those as ids); pools may hold & (their XML is built by kvmctl)', () => {
    expect(usageError(() => validateNewName('snapshot', '12')).message).toMatch(/all digits/);
    expect(validateNewName('snapshot', 'snap12')).toBe('snap12');
    expect(validateNewName('pool', 'a&b')).toBe('a&b');
  });

  it.each([
    ['default/web1.qcow2', { pool: 'default', volume: 'web1.qcow2' }],
    ['p/a;b', { pool: 'p', volume: 'a;b' }],
  ])('POOL/VOLUME %j', (text, ref) => {
    expect(parseVolumeRef(text)).toEqual(ref);
  });

  it.each(['web1.qcow2', '/web1', 'default/', 'a/b/c', 'default/..', '-p/v', 'p/-v', '../x', '/etc/passwd', 'p/a\nb', ''])('refuses volume reference %j', (text) => {
    usageError(() => parseVolumeRef(text));
  });
});

describe('interface and bridge names', () => {
  it.each(['br0', 'virbr10', 'eth0.100', 'br-lan', 'x'.repeat(15), 'a;b', 'tap$1'])('the kernel allows %j as an existing interface', (name) => {
    expect(validateLinkName('interface', name)).toBe(name);
  });

  it.each([
    ['', /empty/],
    ['x'.repeat(16), /longer than 15 bytes/],
    ['éééééééé', /longer than 15 bytes/],
    ['.', /"\." or "\.\."/],
    ['..', /"\." or "\.\."/],
    ['a/b', /'\/'/],
    ['../x', /'\/'/],
    ['a:b', /':'/],
    ['a b', /white space/],
    ['a\tb', /white space/],
    ['a\u0001', /control characters/],
    ['-rf', /starts with '-'/],
  ])('refuses interface name %j', (name, why) => {
    const e = usageError(() => validateLinkName('bridge', name));
    expect(e.message).toMatch(why);
    expect(e.message).toContain(JSON.stringify(name));
  });

  it.each(['br0', 'virbr10', 'br-lan_2', 'eth0.100'])('libvirt can use bridge %j', (name) => {
    expect(validateLibvirtBridgeName(name)).toBe(name);
  });

  it.each(['a;b', 'tap$1', 'a|b', 'a&b', 'br\\0', 'br<0>', '-rf', 'a b', 'x'.repeat(16)])('a bridge for VMs may not be named %j', (name) => {
    usageError(() => validateLibvirtBridgeName(name));
  });
});

describe('resizes and vm create flags', () => {
  it.each([
    ['+5G', { kind: 'grow', bytes: 5 * 1024 ** 3 }],
    ['20G', { kind: 'absolute', bytes: 20 * 1024 ** 3 }],
  ])('resize %j', (text, change) => {
    expect(parseSizeChange(text)).toEqual(change);
  });

  it.each(['-5G', ' -1', '+1e30', '+0', '0', '++5G'])('refuses resize %j', (text) => {
    usageError(() => parseSizeChange(text));
  });

  it.each([
    [{ memory: '0' }, /invalid --memory "0"/],
    [{ memory: '1M' }, /at least 16M/],
    [{ memory: '1e30' }, /invalid --memory "1e30"/],
    [{ memory: '-5G' }, /invalid --memory "-5G"/],
    [{ vcpus: '0' }, /--vcpus "0"/],
    [{ timeout: '86401' }, /--timeout "86401"/],
    [{ disk: ['size=0'] }, /invalid --disk size= "0"/],
    [{ disk: ['size=1e30'] }, /invalid --disk size= "1e30"/],
    [{ disk: ['path=../../etc/passwd'] }, /must be an absolute path/],
    [{ disk: ['size=1G,path=/x.img'] }, /exactly one of size=/],
    [{ disk: ['size=1G,size=2G'] }, /size= given twice/],
    [{ disk: ['size=1G,evil=1'] }, /unknown key "evil"/],
    [{ network: ['network=default,mac=00:00:00:00:00:00'] }, /not a unicast MAC address/],
    [{ network: ['bridge=a;b'] }, /not a Linux interface name/],
    [{ network: ['bridge=-rf'] }, /not a Linux interface name/],
    [{ network: ['network=$(x)/y'] }, /invalid network name/],
    [{ network: ['network=default,mac=52:54:00:00:00:01', 'network=default,mac=52:54:00:00:00:01'] }, /given twice/],
    [{ hostname: 'a;b' }, /not a valid host name/],
    [{ logDir: 'relative' }, /must be an absolute path/],
  ])('vm create refuses %j before anything runs', (flags, why) => {
    const e = usageError(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', ...flags }));
    expect(e.message).toMatch(why);
  });

  it('--boot cmdline= takes the rest, commas and XML characters included (the codec escapes them later)', () => {
    expect(parseKeyValues('--boot', 'kernel=/k,cmdline=a,b=</x>&', ['kernel', 'cmdline'], 'cmdline').values.get('cmdline')).toBe('a,b=</x>&');
    expect(parseDisk('vol=p/a;b')).toMatchObject({ kind: 'volume', ref: { pool: 'p', volume: 'a;b' } });
  });
});

describe('IPv4 addresses and CIDR blocks', () => {
  it.each([
    ['10.0.0.1', 0x0a000001],
    ['255.255.255.255', 0xffffffff],
    ['0.0.0.0', 0],
  ])('%j', (text, n) => {
    expect(parseIpv4(text)).toBe(n);
  });

  it.each(['10.0.0.256', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '::1', '', '1..3.4', '1e1.0.0.1'])('%j is not an address', (text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });

  it.each([
    ['10.10.0.0/24', { network: 0x0a0a0000, prefix: 24 }],
    ['192.168.0.0/16', { network: 0xc0a80000, prefix: 16 }],
    ['10.0.0.0/30', { network: 0x0a000000, prefix: 30 }],
  ])('subnet %j', (text, cidr) => {
    expect(parseSubnet(text)).toEqual(cidr);
  });

  it.each([
    ['10.0.0.0/33', /not an IPv4 CIDR block/],
    ['10.0.0.256/24', /not an IPv4 CIDR block/],
    ['10.0.0.0', /not an IPv4 CIDR block/],
    ['10.0.0.0/-1', /not an IPv4 CIDR block/],
    ['10.0.0.0/', /not an IPv4 CIDR block/],
    ['::1/64', /not an IPv4 CIDR block/],
    ['10.0.0.0/24/1', /not an IPv4 CIDR block/],
    [' 10.0.0.0/24', /not an IPv4 CIDR block/],
    ['10.0.0.0/024', /not an IPv4 CIDR block/],
    ['10.0.0.1/24', /host bits are set/],
    ['10.0.0.0/31', /between \/8 and \/30/],
    ['0.0.0.0/0', /between \/8 and \/30/],
    ['10.0.0.0/24;reboot', /not an IPv4 CIDR block/],
  ])('refuses subnet %j', (text, why) => {
    expect(usageError(() => parseSubnet(text)).message).toMatch(why);
  });

  it('address/prefix pairs', () => {
    expect(parseAddressCidr('10.0.0.7/24')).toEqual({ address: 0x0a000007, prefix: 24 });
    expect(parseAddressCidr('10.0.0.7/33')).toBeUndefined();
    expect(parseBridgeAddress('10.20.0.1/24')).toEqual({ family: 'inet', local: '10.20.0.1', prefixlen: 24 });
  });

  it.each(['10.0.0.0/24', '10.0.0.255/24', '10.0.0.1', '10.0.0.1/33', '10.0.0.1/24;x', 'fe80::1/64'])('refuses bridge --address %j', (text) => {
    expect(usageError(() => parseBridgeAddress(text)).message).toContain('--address');
  });

  it.each([
    [{ subnet: '10.0.0.0/24', dhcpRange: '10.0.0.200-10.0.0.100' }, /comes after/],
    [{ subnet: '10.0.0.0/24', dhcpRange: '10.0.1.2-10.0.1.9' }, /not inside the hosts/],
    [{ subnet: '10.0.0.0/24', dhcpRange: '1-' }, /invalid --dhcp-range "1-"/],
    [{ subnet: '10.0.0.0/24', dhcpRange: '10.0.0.2-10.0.0.9', dhcp: false }, /contradict/],
    [{ subnet: '10.0.0.0/24', bridgeName: 'a;b' }, /invalid bridge name "a;b"/],
    [{ subnet: '10.0.0.0/24', forwardDev: 'a b' }, /invalid interface name "a b"/],
    [{ subnet: '10.0.0.0/24', domain: '<x>' }, /invalid --domain "<x>"/],
    [{ subnet: '10.0.0.0/24', domain: 'a;b' }, /invalid --domain "a;b"/],
  ])('net create refuses %j', (opts, why) => {
    expect(usageError(() => parseCreateRequest('lab', { mode: 'nat', ...opts })).message).toMatch(why);
  });
});

describe('ports', () => {
  it.each([
    ['22', { start: 22, end: 22 }],
    ['1', { start: 1, end: 1 }],
    ['65535', { start: 65535, end: 65535 }],
    ['8000-8010', { start: 8000, end: 8010 }],
    ['80-80', { start: 80, end: 80 }],
  ])('%j', (text, range) => {
    expect(parsePortRange(text, '--port')).toEqual(range);
  });

  it.each([
    ['0', /0 is not a port/],
    ['65536', /65536 is not a port/],
    ['99999', /99999 is not a port/],
    ['1-', /invalid --port "1-"/],
    ['-5', /invalid --port "-5"/],
    ['90-80', /the range is not in order/],
    ['80,81', /invalid --port "80,81"/],
    ['abc', /invalid --port "abc"/],
    ['1e3', /invalid --port "1e3"/],
    ['123456', /invalid --port "123456"/],
    ['', /invalid --port ""/],
    ['22 ', /invalid --port "22 "/],
    ['0-65535', /0 is not a port/],
  ])('refuses port %j', (text, why) => {
    expect(usageError(() => parsePortRange(text, '--port')).message).toMatch(why);
  });

  it('--to IP:PORT, VM[:PORT], and ranges that keep their ports', () => {
    expect(parseTarget('10.0.0.5:80', { start: 8080, end: 8080 })).toEqual({ kind: 'address', address: '10.0.0.5', ports: { start: 80, end: 80 } });
    expect(parseTarget('web1', { start: 2222, end: 2222 })).toEqual({ kind: 'vm', vm: 'web1', ports: { start: 22, end: 22 } });
    expect(parseTarget('a;b:22', { start: 2222, end: 2222 })).toEqual({ kind: 'vm', vm: 'a;b', ports: { start: 22, end: 22 } });
    expect(parseTarget('10.0.0.5', { start: 8000, end: 8010 })).toEqual({ kind: 'address', address: '10.0.0.5', ports: { start: 8000, end: 8010 } });
  });

  it.each([
    ['10.0.0.5:0', /0 is not a port/],
    ['10.0.0.5:65536', /65536 is not a port/],
    ['10.0.0.5', /an address needs a port/],
    ['300.1.1.1:80', /300\.1\.1\.1 is not an IPv4 address/],
    ['10.0.0.5:80-81', /one host port forwards to one port/],
    [':22', /invalid VM name ""/],
    ['$(touch /tmp/pwned):22', /invalid VM name/],
    ['-rf:22', /starts with '-'/],
  ])('refuses --to %j', (text, why) => {
    expect(usageError(() => parseTarget(text, { start: 8080, end: 8080 })).message).toMatch(why);
  });

  it('protocols', () => {
    expect(parseProtocol(undefined)).toBe('tcp');
    expect(parseProtocol('udp')).toBe('udp');
    for (const p of ['icmp', 'TCP', 'tcp;x', '']) usageError(() => parseProtocol(p));
  });
});

describe('pool paths', () => {
  it.each([
    ['/srv/vm', '/srv/vm'],
    ['/var/lib/libvirt/images/', '/var/lib/libvirt/images'],
    ['/srv/a;b', '/srv/a;b'],
    ['/home/alice/vms', '/home/alice/vms'],
    ['/var/tmp/pools/a', '/var/tmp/pools/a'],
  ])('%j', (path, clean) => {
    expect(checkPoolPathSyntax('--path', path)).toBe(clean);
  });

  it.each([
    ['relative', /not absolute/],
    ['/', /root directory/],
    ['/etc', /inside \/etc/],
    ['/etc/libvirt', /inside \/etc/],
    ['/usr/local/vm', /inside \/usr/],
    ['/dev/sda', /inside \/dev/],
    ['/proc/self', /inside \/proc/],
    ['/srv/../etc', /'\.' or '\.\.' components/],
    ['/srv/./vm', /'\.' or '\.\.' components/],
    ['/srv//vm', /not in normal form/],
    ['/srv/vm\n/etc', /control characters/],
    ['/root', /inside \/root, a system directory/],
    ['/home', /\/home itself, which holds other directories/],
    ['/home/alice', /the home directory \/home\/alice itself/],
    ['/home/alice/.ssh', /inside a \.ssh directory/],
    ['/var', /\/var itself/],
    ['/var/lib/libvirt', /\/var\/lib\/libvirt itself/],
    ['/var/lib/dpkg', /inside \/var\/lib\/dpkg/],
    ['/var/spool/cron', /inside \/var\/spool/],
    ['/var/lib/kvmctl/pools', /inside \/var\/lib\/kvmctl/],
    ['/tmp', /\/tmp itself/],
  ])('refuses %j', (path, why) => {
    expect(usageError(() => checkPoolPathSyntax('--path', path)).message).toMatch(why);
  });
});

describe('KVMCTL_FAULT', () => {
  it.each(['fail:0', 'fail:-1', 'fail', 'hang:x', 'boom:1', 'fail:1,', ',fail:1', 'fail:2,hang:2', 'fail:1;hang:2'])('refuses %j', (text) => {
    usageError(() => parseFaultSpecs(text));
  });
});
