/**
 * IPv4 addresses and CIDR blocks as numbers: parsing, overlap, first and last
 * host. Everything here is pure; user input errors are UsageErrors (exit 2).
 */
import { UsageError } from '../errors.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** "10.0.0.1" -> number, or undefined when it is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

/** The block an address/prefix pair lies in: ("10.0.0.7", 24) -> 10.0.0.0/24. */
export function blockOf(address: number, prefix: number): Cidr {
  return { network: (address & maskOf(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

/** Parses "A.B.C.D/P" where A.B.C.D may be any address in the block; undefined when malformed. */
export function parseAddressCidr(text: string): { address: number; prefix: number } | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const address = parseIpv4(m[1] ?? '');
  const prefix = Number(m[2]);
  if (address === undefined || prefix > 32) return undefined;
  return { address, prefix };
}

/**
 * A subnet given by the user (--subnet): its host bits must be zero, and it must
 * hold a gateway and at least one more host (prefix 8 to 30).
 */
export function parseSubnet(text: string, flag = '--subnet'): Cidr {
  const parsed = parseAddressCidr(text);
  if (!parsed) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: not an IPv4 CIDR block`, `give it as ADDRESS/PREFIX, e.g. ${flag} 10.10.0.0/24`);
  const block = blockOf(parsed.address, parsed.prefix);
  if (block.network !== parsed.address) {
    throw new UsageError(`invalid ${flag} ${text}: host bits are set`, `did you mean ${flag} ${formatCidr(block)}?`);
  }
  if (parsed.prefix < 8 || parsed.prefix > 30) {
    throw new UsageError(`invalid ${flag} ${text}: the prefix must be between /8 and /30`, 'a network needs room for a gateway and its hosts, e.g. /24');
  }
  return block;
}

export function lastAddress(c: Cidr): number {
  return c.network + 2 ** (32 - c.prefix) - 1;
}

/** The gateway kvmctl gives a subnet: its first host address. */
export function firstHost(c: Cidr): number {
  return c.network + 1;
}

/** The last address before the broadcast address. */
export function lastHost(c: Cidr): number {
  return lastAddress(c) - 1;
}

export function contains(c: Cidr, address: number): boolean {
  return address >= c.network && address <= lastAddress(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** Parses "10.0.0.0/24" (or "default" -> 0.0.0.0/0) from tool output; undefined for anything else. */
export function cidrFromTool(text: string): Cidr | undefined {
  if (text === 'default') return { network: 0, prefix: 0 };
  const withPrefix = text.includes('/') ? text : `${text}/32`;
  const parsed = parseAddressCidr(withPrefix);
  return parsed ? blockOf(parsed.address, parsed.prefix) : undefined;
}
