/**
 * `vm console NAME`: the serial console, on a terminal (`vm log` reads what the
 * guest printed on it without one).
 */
import type { Context } from '../../context.js';
import { KvmctlError, RefusedError, UsageError } from '../../errors.js';
import { runInteractive } from '../../exec/interactive.js';
import { domainCalls } from '../../libvirt/domain-commands.js';
import { checkVmName, readVmState } from './domain-state.js';
import { kvmctlCommand } from '../../exec/command.js';
import { vmVerb } from './vm-name.js';

export async function runVmConsole(ctx: Context, name: string): Promise<void> {
  checkVmName(name);
  if (!ctx.io.stdinIsTTY || !ctx.io.stdoutIsTTY) {
    throw new UsageError(
      `vm console needs a terminal: stdin and stdout of kvmctl are not a TTY`,
      `to read what the guest printed, use: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`,
    );
  }
  const { state } = await readVmState(ctx, name);
  if (state !== 'running' && state !== 'paused') {
    throw new RefusedError(`VM ${JSON.stringify(name)} is ${state}: its console exists only while it runs`, `start it (${kvmctlCommand(ctx.uri, 'vm', 'start', name)}), or read its last output with: ${kvmctlCommand(ctx.uri, 'vm', 'log', name)}`);
  }
  ctx.out.info(`connected to the serial console of ${name}; press Ctrl+] to leave`);
  const code = await runInteractive(ctx.runner, ctx.virsh.command(domainCalls.console(name)));
  if (code !== 0) throw new KvmctlError(`virsh console for VM ${JSON.stringify(name)} exited with status ${code}`, 'another client may hold the console; close it, or run virsh console --force');
}

export const consoleCommand = vmVerb('console', 'attach to the serial console (needs a terminal; Ctrl+] leaves)', runVmConsole, {
  examples: ['kvmctl vm console web1'],
});
