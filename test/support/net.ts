/**
 * The net lab's recordings (test/fixtures/recorded/net, see its record.sh) as
 * the reads of `kvmctl net` and `kvmctl bridge`: networks, one network, domains.
 */
import { FakeRunner } from '../../src/exec/fake.js';
import { recorded, stubBatch, stubSession, type SessionRound } from './harness.js';

const rec = (file: string) => recorded(`net/${file}`);

/** The lab's networks as recorded: net-list, then each dumpxml (+ leases of the active ones). */
export const LAB_NETWORKS = ['default', 'fxn-br', 'fxn-iso', 'fxn-nat', 'fxn-route'] as const;
const ACTIVE = new Set(['default', 'fxn-br', 'fxn-nat', 'fxn-route']);

/** loadNetworks' two rounds over the recorded lab: net-list, then each dumpxml (+ leases of the active ones). */
function networkRounds(opts: { leases: boolean }): SessionRound[] {
  const commands: string[][] = [];
  const outputs: string[] = [];
  for (const n of LAB_NETWORKS) {
    commands.push(['net-dumpxml', '--network', n]);
    outputs.push(rec(`virsh-net-dumpxml-${n}.xml`));
    if (opts.leases && ACTIVE.has(n)) {
      commands.push(['net-dhcp-leases', '--network', n]);
      outputs.push(rec(`virsh-net-dhcp-leases-${n}.txt`));
    }
  }
  return [{ commands: [['net-list', '--all']], outputs: [rec('virsh-net-list-all.txt')] }, { commands, outputs }];
}

/** loadNetworks in a batch process a round. */
export function stubLoadNetworks(runner: FakeRunner, opts: { leases: boolean }): FakeRunner {
  for (const round of networkRounds(opts)) stubBatch(runner, round.commands, round.outputs);
  return runner;
}

/** loadNetworks in one virsh session (net list): the same two rounds, written to one process. */
export function stubNetworkSession(runner: FakeRunner, opts: { leases: boolean }): FakeRunner {
  return stubSession(runner, networkRounds(opts));
}

/** loadNetwork's one round: net-info, dumpxml (+ leases). */
function networkRound(name: string, opts: { leases: boolean; info?: string; xml?: string }): SessionRound {
  const commands = [['net-info', '--network', name], ['net-dumpxml', '--network', name], ...(opts.leases ? [['net-dhcp-leases', '--network', name]] : [])];
  const outputs = [opts.info ?? rec(`virsh-net-info-${name}.txt`), opts.xml ?? rec(`virsh-net-dumpxml-${name}.xml`), ...(opts.leases ? [rec(`virsh-net-dhcp-leases-${name}.txt`)] : [])];
  return { commands, outputs };
}

/** One network: net-info, dumpxml (+ leases), in one batch. */
export function stubLoadNetwork(runner: FakeRunner, name: string, opts: { leases: boolean; info?: string; xml?: string }): FakeRunner {
  const { commands, outputs } = networkRound(name, opts);
  return stubBatch(runner, commands, outputs);
}

/** loadDomains' two rounds over the recorded lab: fxn-vm1 running on fxn-nat, fxn-vm2 shut off with a reservation there. */
function domainRounds(): SessionRound[] {
  // loadDomains asks for the XML in the order domstats lists the domains.
  const names = [...rec('virsh-domstats-raw-state.txt').matchAll(/^Domain: '(.*)'$/gm)].map((m) => m[1] as string);
  return [
    { commands: [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], outputs: [rec('virsh-domstats-raw-state.txt'), rec('virsh-list-all-autostart-name.txt')] },
    { commands: names.map((n) => ['dumpxml', '--domain', n]), outputs: names.map((n) => rec(`virsh-dumpxml-${n}.xml`)) },
  ];
}

/** loadDomains in a batch process a round. */
export function stubLoadDomains(runner: FakeRunner): FakeRunner {
  for (const round of domainRounds()) stubBatch(runner, round.commands, round.outputs);
  return runner;
}

/** net leases' one virsh session over the recorded lab: the networks' rounds (every network's, or `name`'s one), then the domains' two. */
export function stubLeasesSession(runner: FakeRunner, name?: string): FakeRunner {
  const networks = name === undefined ? networkRounds({ leases: true }) : [networkRound(name, { leases: true })];
  return stubSession(runner, [...networks, ...domainRounds()]);
}

/** A fake that answers the reads of one recorded network (net-info, dumpxml, + leases). */
export function recordedNetwork(name: string, leases = false): FakeRunner {
  return stubLoadNetwork(new FakeRunner(), name, { leases });
}
