/**
 * net create's options, checked before anything runs (exit 2): mode, subnet,
 * DHCP range, bridge and device names; and the network spec they ask for.
 */
import { kvmctlCommand } from '../../exec/command.js';
import { UsageError } from '../../errors.js';
import { CREATABLE_MODES, type CreatableMode, type NetworkSpec } from '../../libvirt/network-xml.js';
import { firstHost, formatCidr, formatIpv4, lastHost, parseIpv4, parseSubnet, type Cidr } from '../../net/ipv4.js';
import { validateLibvirtBridgeName, validateLinkName } from '../../net/link-name.js';
import { HOSTNAME as DNS_NAME } from '../../validate/hostname.js';
import { validateNewName } from '../../validate/names.js';
import { flag, negatable, required, value, type OptionsOf } from '../../verb.js';

export const netCreateOptions = {
  mode: required('--mode <mode>', 'nat: private subnet masqueraded out; route: routed, no NAT; isolated: VMs and host only; bridge: join an existing host bridge', { choices: CREATABLE_MODES }),
  subnet: value('--subnet <cidr>', 'IPv4 subnet, e.g. 10.10.0.0/24 (default: the first free 192.168.N.0/24 from N=100)'),
  dhcpRange: value('--dhcp-range <from-to>', 'DHCP addresses (default: every host address after the gateway)'),
  dhcp: negatable('--no-dhcp', 'no DHCP server on the network'),
  bridgeName: value('--bridge-name <name>', 'the bridge libvirt creates (default: a free virbrN); with --mode bridge, the existing host bridge'),
  forwardDev: value('--forward-dev <iface>', 'nat/route: the host interface traffic leaves through'),
  domain: value('--domain <domain>', 'DNS domain the network serves, e.g. lab.local'),
  start: negatable('--no-start', 'define it without starting it'),
  autostart: negatable('--no-autostart', 'do not start it when libvirt starts'),
  printXml: flag('--print-xml', 'print the network XML and change nothing'),
};
/** What the checks read; commander's object (every key it fills) fits, and so does a test's few keys. */
export type NetCreateOptions = Partial<OptionsOf<typeof netCreateOptions>>;

/** What the user asked for, validated; the subnet may still be chosen from the host's state. */
export interface Request {
  name: string;
  mode: CreatableMode;
  subnet?: Cidr;
  dhcp: 'default' | 'off' | { start: number; end: number };
  bridge?: string;
  forwardDev?: string;
  domain?: string;
  start: boolean;
  autostart: boolean;
}

/** Checks the options before anything runs (exit 2). */
export function parseCreateRequest(name: string, opts: NetCreateOptions, uri?: string): Request {
  validateNewName('network', name);
  const mode = opts.mode as CreatableMode;
  if (!CREATABLE_MODES.includes(mode)) {
    throw new UsageError(`invalid --mode ${JSON.stringify(opts.mode ?? '')} for network ${JSON.stringify(name)}`, `use --mode ${CREATABLE_MODES.join(', --mode ')}`);
  }
  if (opts.dhcpRange !== undefined && opts.dhcp === false) {
    throw new UsageError('--dhcp-range and --no-dhcp contradict each other', 'give one of them');
  }
  if (opts.bridgeName !== undefined) validateLibvirtBridgeName(opts.bridgeName);
  if (opts.forwardDev !== undefined) validateLinkName('interface', opts.forwardDev);
  if (opts.domain !== undefined && !DNS_NAME.test(opts.domain)) {
    throw new UsageError(`invalid --domain ${JSON.stringify(opts.domain)}: not a DNS domain name`, 'use labels of letters, digits and -, separated by dots, e.g. --domain lab.local');
  }
  if (mode === 'bridge') {
    if (opts.bridgeName === undefined) {
      throw new UsageError(`--mode bridge needs --bridge-name: the existing host bridge the network's VMs join`, `e.g. ${kvmctlCommand(uri, 'net', 'create', name, '--mode', 'bridge', '--bridge-name', 'br0')}`);
    }
    const extra = (
      [
        ['--subnet', opts.subnet],
        ['--dhcp-range', opts.dhcpRange],
        ['--no-dhcp', opts.dhcp === false ? true : undefined],
        ['--forward-dev', opts.forwardDev],
        ['--domain', opts.domain],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (extra.length > 0) {
      throw new UsageError(
        `--mode bridge does not take ${extra.map(([f]) => f).join(', ')}: addresses and DHCP come from the LAN the bridge is on`,
        'leave them out, or use --mode nat/route/isolated for a network with its own subnet',
      );
    }
  }
  if (mode === 'isolated' && opts.forwardDev !== undefined) {
    throw new UsageError('--forward-dev needs --mode nat or route: an isolated network forwards nowhere', 'leave out --forward-dev, or use --mode nat');
  }
  const subnet = opts.subnet !== undefined ? parseSubnet(opts.subnet) : undefined;
  let dhcp: Request['dhcp'] = opts.dhcp === false ? 'off' : 'default';
  if (opts.dhcpRange !== undefined) dhcp = parseDhcpRange(opts.dhcpRange, subnet);
  return {
    name,
    mode,
    subnet,
    dhcp,
    bridge: opts.bridgeName,
    forwardDev: opts.forwardDev,
    domain: opts.domain,
    start: opts.start !== false,
    autostart: opts.autostart !== false,
  };
}

function parseDhcpRange(text: string, subnet: Cidr | undefined): { start: number; end: number } {
  const m = /^([^-\s]+)-([^-\s]+)$/.exec(text);
  const start = m ? parseIpv4(m[1] ?? '') : undefined;
  const end = m ? parseIpv4(m[2] ?? '') : undefined;
  if (start === undefined || end === undefined) {
    throw new UsageError(`invalid --dhcp-range ${JSON.stringify(text)}`, 'give it as FROM-TO, e.g. --dhcp-range 10.10.0.100-10.10.0.200');
  }
  if (start > end) throw new UsageError(`invalid --dhcp-range ${text}: ${formatIpv4(start)} comes after ${formatIpv4(end)}`, 'give the lower address first');
  if (subnet === undefined) throw new UsageError('--dhcp-range needs --subnet', 'give the subnet the range lies in, e.g. --subnet 10.10.0.0/24');
  checkRangeInSubnet({ start, end }, subnet);
  return { start, end };
}

export function checkRangeInSubnet(range: { start: number; end: number }, subnet: Cidr): void {
  const text = `${formatIpv4(range.start)}-${formatIpv4(range.end)}`;
  const gateway = firstHost(subnet);
  if (range.start < gateway + 1 || range.end > lastHost(subnet)) {
    throw new UsageError(
      `--dhcp-range ${text} is not inside the hosts of ${formatCidr(subnet)} after the gateway ${formatIpv4(gateway)}`,
      `use addresses from ${formatIpv4(gateway + 1)} to ${formatIpv4(lastHost(subnet))}`,
    );
  }
}

/** The default DHCP range: every host address after the gateway (.2-.254 for a /24, scaled to the prefix). */
export function defaultDhcpRange(subnet: Cidr): { start: number; end: number } {
  return { start: firstHost(subnet) + 1, end: lastHost(subnet) };
}

export function specFor(req: Request, subnet: Cidr | undefined): NetworkSpec {
  const spec: NetworkSpec = { name: req.name, mode: req.mode, bridge: req.bridge, forwardDev: req.forwardDev, domain: req.domain };
  if (req.mode !== 'bridge' && subnet) {
    const range = req.dhcp === 'off' ? undefined : req.dhcp === 'default' ? defaultDhcpRange(subnet) : req.dhcp;
    spec.ipv4 = {
      address: formatIpv4(firstHost(subnet)),
      prefix: subnet.prefix,
      dhcpRange: range && { start: formatIpv4(range.start), end: formatIpv4(range.end) },
    };
  }
  return spec;
}

