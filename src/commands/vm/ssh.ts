/**
 * `vm ssh NAME [--user U] [-i KEY] [-- COMMAND…]`: ssh to the guest at the
 * address `vm ip` finds, as the user and with the key recorded by `vm create
 * --ssh-key/--ssh-user`, and end with ssh's exit status. No local shell: the
 * name picks the address, and the command words go to ssh as argv.
 *
 * kvmctl runs ssh in its own network namespace: where guests are reachable
 * only inside a namespace (the lab, a private bridge), run kvmctl there:
 * `ip netns exec NS kvmctl vm ssh NAME`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../../context.js';
import { KvmctlError, PassedExitStatus, UsageError } from '../../errors.js';
import { formatCommand, kvmctlCommand } from '../../exec/command.js';
import { runInteractive } from '../../exec/interactive.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { sshCommand as sshArgv, type SshLogin } from '../../net/ssh.js';
import { arg, value, type OptionsOf } from '../../verb.js';
import { countOption } from '../../validate/count.js';
import { checkSshUser } from './create-args.js';
import { checkVmName } from './domain-state.js';
import { requireRunning } from './exec.js';
import { RunAddresses } from './run-addresses.js';
import { vmVerb } from './vm-name.js';

const options = {
  user: value('--user <name>', "log in as this user (default: the one recorded with vm create --ssh-user, else ssh's own default)"),
  identity: value('-i, --identity <file>', 'the private key (default: the --ssh-key file of vm create without .pub)'),
  port: value('--port <n>', 'the ssh port (default 22)'),
};
export type SshFlags = OptionsOf<typeof options>;

/** The address (IPv4 first), user and key to reach the VM with; the VM must run and have an address. */
export async function sshLoginFor(ctx: Context, name: string, flags: SshFlags): Promise<SshLogin> {
  const user = flags.user === undefined ? undefined : checkSshUser(flags.user, '--user');
  const port = countOption(flags.port, '--port', 1, 65_535);
  if (flags.identity === '') throw new UsageError('-i: the key file name is empty', 'e.g. -i ~/.ssh/id_ed25519');
  await requireRunning(ctx, name, 'vm ssh');
  const def = await parseDomainXml(await ctx.virsh.run(domainCalls.dumpxml(name, true)));
  // Only an address of the current run: a lease of the run before a restart would point ssh at nobody (or at another guest).
  const found = await new RunAddresses(ctx, name, true).look();
  const address = (found.find((a) => a.protocol === 'ipv4') ?? found[0])?.address;
  if (address === undefined) {
    throw new KvmctlError(`VM ${JSON.stringify(name)} has no IP address yet (asked: lease, agent, arp)`, `wait for its ssh server with: ${kvmctlCommand(ctx.uri, 'vm', 'wait', name, '--for', 'ssh')}`);
  }
  const recorded = def.kvmctl?.ssh;
  let key = flags.identity ?? recorded?.key;
  if (flags.identity === undefined && key !== undefined && !(await ctx.fs.exists(key))) {
    ctx.out.warn(`the key recorded for VM ${name} (${key}) is not there; ssh tries its default keys (give one with -i KEY)`);
    key = undefined;
  }
  return {
    address,
    user: user ?? recorded?.user,
    key,
    port,
    knownHosts: join(ctx.stateDir, 'ssh_known_hosts'),
    hostKeyAlias: `kvmctl-vm-${def.uuid ?? name}`,
  };
}

export async function runVmSsh(ctx: Context, name: string, command: string[], flags: SshFlags): Promise<void> {
  checkVmName(name);
  const login = await sshLoginFor(ctx, name, flags);
  const cmd = sshArgv(login, command);
  if (ctx.dryRun) return ctx.io.stderr(`[dry-run] would run: ${formatCommand(cmd)}\n`);
  if (ctx.verbose) ctx.io.stderr(`+ ${formatCommand(cmd)}\n`);
  await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 });
  const code = await runInteractive(ctx.runner, cmd);
  if (code !== 0) throw new PassedExitStatus(code);
}

export const sshCommand = vmVerb('ssh', "ssh to the guest: its address as vm ip finds it, the key and user recorded by vm create --ssh-key/--ssh-user; exits with ssh's exit status", runVmSsh, {
  args: [arg('[command...]', 'a command to run instead of a login shell (after --)')],
  options,
  examples: ['kvmctl vm ssh web1', 'kvmctl vm ssh web1 -- uptime', 'kvmctl vm ssh web1 --user debian -i ~/.ssh/id_ed25519 -- sudo systemctl status nginx', 'ip netns exec lab kvmctl vm ssh web1   # guests reachable only inside a network namespace'],
  notes:
    "\nThe guest's host key is accepted the first time and kept in kvmctl's state directory (ssh_known_hosts), under\n" +
    "the VM's uuid: a re-created VM is a new host, another VM on the same address is not confused with it.\n" +
    'kvmctl runs ssh in its own network namespace; to reach guests that only a namespace can reach, run kvmctl there.\n',
});
