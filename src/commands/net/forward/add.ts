import type { Context } from '../../../context.js';
import { runPlan } from '../../../exec/plan.js';
import { insertRuleStep } from '../../../net/iptables.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../../../errors.js';
import { loadDomains } from '../../../libvirt/domains.js';
import { loadNetworks } from '../../../libvirt/network-commands.js';
import { forwardId, formatPortRange, parseDport, portRangesOverlap, RULES_PER_FORWARD, savedForwards, type PortForward } from '../../../net/port-forward.js';
import { natRules } from '../../../net/rule-owner.js';
import { portForwardRulesFor } from '../../../net/kvmctl-rules.js';
import { currentNetnsId } from '../../../net/netns-record.js';
import { describeListener, listenersInRange, loadListeningSockets } from '../../../net/sockets.js';
import { validateName } from '../../../validate/names.js';
import { forwardJson, networkOfAddress } from './view.js';
import { parsePortRange, parseProtocol, parseTarget, vmAddress, protoOption } from './target.js';
import { kvmctlCommand } from '../../../exec/command.js';
import { refuseRemoteFirewallChange } from '../../../exec/host-runner.js';
import { flag, required, value, verb, type OptionsOf } from '../../../verb.js';

const options = {
  port: required('--port <port>', 'host port or range, e.g. 2222 or 8000-8010'),
  to: required('--to <target>', "VM[:PORT] (port 22 by default; the VM's reserved address, else its lease) or IP:PORT"),
  proto: protoOption,
  net: value('--net <network>', 'the libvirt network to find the VM (or the address) in'),
  /** Forward even a port on which a host process listens. */
  captureHostPort: flag('--capture-host-port', 'forward it even though a process of this host listens on the port (its connections then go to the target)'),
};
export type ForwardAddOptions = OptionsOf<typeof options>;

/**
 * DNAT from a host port to a VM or an address, for traffic from outside and
 * from the host itself, with the FORWARD accepts the traffic and its replies
 * need. libvirt is asked only when the target is a VM or --net is given.
 */
export async function runForwardAdd(ctx: Context, opts: ForwardAddOptions): Promise<void> {
  const protocol = parseProtocol(opts.proto);
  const hostPorts = parsePortRange(opts.port, '--port');
  const target = parseTarget(opts.to, hostPorts);
  if (opts.net !== undefined) validateName('network', opts.net);
  const id = forwardId(protocol, hostPorts);
  // Another host's firewall is never changed: refused before anything is read there.
  refuseRemoteFirewallChange(ctx, `net forward add ${id}`, kvmctlCommand(undefined, 'net', 'forward', 'add', '--port', opts.port, '--to', opts.to, '--proto', protocol, ...(opts.net !== undefined ? ['--net', opts.net] : [])));
  const netnsId = await currentNetnsId();

  await ctx.withLock(`net forward netns-${netnsId}`, async () => {
    let address: string;
    let network: string | undefined;
    let vm: string | undefined;
    let reserved = true;
    if (target.kind === 'vm' || opts.net !== undefined) {
      const [networks, domains] = await Promise.all([loadNetworks(ctx.runner, ctx.uri, { leases: true }), loadDomains(ctx.runner, ctx.uri)]);
      if (opts.net !== undefined && !networks.some((n) => n.name === opts.net)) {
        throw new NotFoundError(`network ${JSON.stringify(opts.net)} not found`, 'list networks with: kvmctl net list');
      }
      if (target.kind === 'vm') {
        const found = vmAddress(target.vm, domains, networks, opts.net, ctx.uri);
        ({ address, network, reserved } = found);
        vm = target.vm;
      } else {
        address = target.address;
        network = networkOfAddress(networks, address)?.name;
        if (network !== opts.net) {
          throw new UsageError(`${address} is not in network ${opts.net}'s subnet`, 'give an address of that network, or leave out --net');
        }
      }
    } else {
      address = target.address;
    }

    const forward: PortForward = { protocol, hostPorts, toAddress: address, toPorts: target.ports };
    const [firewall, sockets] = await Promise.all([ctx.iptables.load(), loadListeningSockets(ctx.runner)]);
    const mine = savedForwards(firewall);
    const same = mine.find((f) => f.id === id);
    const to = `${address}:${formatPortRange(target.ports)}`;
    // The forward as `net forward list` shows it once its rules are all there.
    const json = forwardJson({ id, protocol, port: hostPorts, toAddress: address, toPort: target.ports, vm, network, complete: true });
    if (same) {
      const identical = same.toAddress === address && formatPortRange(same.toPorts) === formatPortRange(target.ports) && same.ruleCount === RULES_PER_FORWARD;
      if (identical) return ctx.out.done(`forward ${id} -> ${to} unchanged`, { changed: false, ...json }, id);
      throw new ConflictError(
        `${protocol} port ${formatPortRange(hostPorts)} is already forwarded to ${same.toAddress}:${formatPortRange(same.toPorts)}${same.ruleCount !== RULES_PER_FORWARD ? ' (incompletely)' : ''}`,
        `delete it first: ${kvmctlCommand(ctx.uri, 'net', 'forward', 'delete', formatPortRange(hostPorts), '--proto', protocol)}`,
      );
    }
    const overlapping = mine.find((f) => f.protocol === protocol && portRangesOverlap(f.hostPorts, hostPorts));
    if (overlapping) {
      throw new ConflictError(`${protocol} port(s) ${formatPortRange(hostPorts)} overlap kvmctl forward ${overlapping.id}`, `delete it first: ${kvmctlCommand(ctx.uri, 'net', 'forward', 'delete', formatPortRange(overlapping.hostPorts), '--proto', protocol)}`);
    }
    const foreign = natRules(firewall).find((r) => {
      const ports = parseDport(r.dport);
      return r.target === 'DNAT' && r.owner !== 'kvmctl' && r.protocol === protocol && ports !== undefined && portRangesOverlap(ports, hostPorts);
    });
    if (foreign) {
      throw new ConflictError(`${protocol} port ${foreign.dport} is already forwarded to ${foreign.to ?? '?'} by a rule of ${foreign.owner} (chain ${foreign.chain})`, 'choose another --port');
    }

    const listening = listenersInRange(sockets, protocol, hostPorts);
    if (listening.length > 0 && !opts.captureHostPort) {
      throw new RefusedError(
        `${protocol} port ${formatPortRange(hostPorts)}: a process of this host listens on ${listening.map(describeListener).join(', ')}; a forward would divert its connections to ${to}`,
        `choose a --port no host service uses, or forward it anyway with: ${kvmctlCommand(ctx.uri, 'net', 'forward', 'add', '--port', formatPortRange(hostPorts), '--to', opts.to, '--proto', protocol, ...(opts.net !== undefined ? ['--net', opts.net] : []), '--capture-host-port')}`,
      );
    }
    if (listening.length > 0) ctx.out.warn(`${protocol} port ${formatPortRange(hostPorts)} is forwarded although ${listening.map(describeListener).join(', ')} listens there (--capture-host-port)`);

    await runPlan(ctx, { label: `net forward add ${id}`, steps: portForwardRulesFor(forward).map(insertRuleStep) });
    const behind = [vm && `VM ${vm}`, network && `network ${network}`].filter(Boolean).join(', ');
    ctx.out.done(`forward ${id}: host port ${formatPortRange(hostPorts)}/${protocol} -> ${to}${behind ? ` (${behind})` : ''}`, { changed: true, ...json }, id);
    if (vm && !reserved) ctx.out.warn(`${address} is VM ${vm}'s current lease, not a reservation: it may change; pin it with ${kvmctlCommand(ctx.uri, 'net', 'reserve', network ?? 'NETWORK', '--mac', 'MAC', '--ip', address)}`);
    if ((await ctx.sysctl.ipForward()) === false) {
      ctx.out.warn('net.ipv4.ip_forward is off here, so forwarded traffic does not pass; kvmctl net nat enable (or a libvirt NAT network) turns it on');
    }
  });
}

export const forwardAddVerb = verb('add', 'forward a host port (or range) to a VM or an address, for outside and locally generated traffic', runForwardAdd, {
  options,
  examples: [
    'kvmctl net forward add --port 2222 --to web1',
    'kvmctl net forward add --port 8080 --to web1:80 --net default',
    'kvmctl net forward add --port 5353 --to 10.20.0.5:53 --proto udp',
    'kvmctl net forward add --port 8000-8010 --to 10.20.0.5',
  ],
  notes:
    '\nA range forwards to the same ports. Adding the same forward again changes nothing; a port already forwarded elsewhere is exit 4.\nA port (or a port in the range) on which a host process listens, outside 127.0.0.0/8, is refused (exit 5) unless --capture-host-port.\nFor another host (-c qemu+ssh://…) add and delete are refused (exit 5) before anything is read: kvmctl never changes the firewall of another host; list works there.\n',
});
