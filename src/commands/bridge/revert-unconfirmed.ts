/**
 * bridge revert-unconfirmed: run by the detached process a --confirm-timeout
 * window starts, when the window ends unconfirmed; not for people.
 */
import { Command } from 'commander';
import { type App } from '../../app.js';
import type { Context } from '../../context.js';
import { runBridgeAttach } from './attach.js';
import { runRevertUnconfirmed } from './confirm.js';
import { runBridgeDetach } from './detach.js';

export async function runBridgeRevertUnconfirmed(ctx: Context, token: string): Promise<void> {
  await runRevertUnconfirmed(ctx, token, async (w) =>
    w.change === 'attach' ? runBridgeDetach(ctx, w.bridge, w.iface, { moveAddress: true }) : runBridgeAttach(ctx, w.bridge, w.iface, { moveAddress: true }),
  );
}

export function bridgeRevertUnconfirmedVerb(app: App): Command {
  return new Command('revert-unconfirmed')
    .description('(internal) revert an unconfirmed --confirm-timeout window when it ends')
    .argument('<token>', 'the window it reverts')
    .action(app.action(async (ctx, token: string) => runBridgeRevertUnconfirmed(ctx, token)));
}
