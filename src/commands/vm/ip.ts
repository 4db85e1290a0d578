/**
 * `vm ip NAME [--source lease|agent|arp|any]`: the guest's addresses as libvirt
 * knows them. lease: libvirt's dnsmasq (NAT/routed networks); agent: the QEMU
 * guest agent inside the guest; arp: the host's neighbour table (bridged NICs).
 */
import type { Context } from '../../context.js';
import { KvmctlError, NotFoundError, RefusedError, UsageError } from '../../errors.js';
import { ADDRESS_SOURCES, domainCalls, parseDomifaddr, type AddressSource, type InterfaceAddress } from '../../libvirt/domain-commands.js';
import { value, type OptionsOf } from '../../verb.js';
import { checkVmName } from './domain-state.js';
import { vmVerb } from './vm-name.js';
import { kvmctlCommand } from '../../exec/command.js';
import type { VmAddress } from './vm-object.js';

export type SourceChoice = AddressSource | 'any';

export interface FoundAddress extends InterfaceAddress {
  source: AddressSource;
}

export function parseSourceChoice(text: string): SourceChoice {
  if (text === 'any' || (ADDRESS_SOURCES as readonly string[]).includes(text)) return text as SourceChoice;
  throw new UsageError(`--source ${JSON.stringify(text)}: expected lease, agent, arp or any`, 'e.g. --source lease');
}

/**
 * Addresses from one source, or with `any` from the first source that has
 * some (lease, then agent, then arp). A VM that is not running is an error
 * (exit 5) whatever the source; a source that cannot answer (no guest agent)
 * is skipped by `any`.
 */
export async function vmAddresses(ctx: Context, name: string, choice: SourceChoice): Promise<FoundAddress[]> {
  const sources = choice === 'any' ? ADDRESS_SOURCES : [choice];
  for (const source of sources) {
    const result = await ctx.virsh.attempt(domainCalls.domifaddr(name, source));
    if (result.exitCode !== 0) {
      const err = result.error();
      // No such VM, a VM that is not running, an unreachable daemon: no other source can answer either.
      if (choice !== 'any' || err instanceof NotFoundError || err instanceof RefusedError) throw err;
      continue;
    }
    // The agent also reports the guest's loopback.
    const found = parseDomifaddr(result.stdout).filter((a) => !isLoopback(a.address));
    if (found.length > 0) return found.map((a) => ({ ...a, source }));
  }
  return [];
}

/** An address as vm wait and vm create print it (schemas/common.schema.json#/definitions/address). */
export function addressObject(a: FoundAddress): VmAddress {
  return { address: a.address, prefix: a.prefix, mac: a.mac || null, source: a.source };
}

/** What vm ip prints for each address: the address object and the interface it is on. */
export function ipObject(a: FoundAddress): VmAddress & { interface: string | null } {
  return { ...addressObject(a), interface: a.interface || null };
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

const options = {
  source: value('--source <source>', 'lease (libvirt DHCP), agent (guest agent), arp (host neighbour table), any (the first that has one)', { choices: ['lease', 'agent', 'arp', 'any'], default: 'any' }),
};
export type IpOptions = OptionsOf<typeof options>;

export async function runVmIp(ctx: Context, name: string, opts: IpOptions): Promise<void> {
  checkVmName(name);
  const choice = parseSourceChoice(opts.source ?? 'any');
  const found = await vmAddresses(ctx, name, choice);
  if (found.length === 0) {
    throw new KvmctlError(
      `VM ${JSON.stringify(name)} has no IP address yet (asked: ${choice === 'any' ? ADDRESS_SOURCES.join(', ') : choice})`,
      `wait for one with: ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ip')}`,
    );
  }
  if (ctx.out.json) return ctx.out.printJson(found.map(ipObject));
  // One address a line, so `$(kvmctl vm ip web1)` is usable as is.
  ctx.out.raw(found.map((a) => a.address).join('\n'));
}

export const ipCommand = vmVerb('ip', "print the VM's IP addresses, one a line", runVmIp, {
  options,
  examples: ['kvmctl vm ip web1', 'kvmctl vm ip web1 --source agent', 'kvmctl vm ip web1 -o json'],
});
