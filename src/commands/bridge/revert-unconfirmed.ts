/**
 * bridge revert-unconfirmed: run by the detached process a --confirm-timeout
 * window starts, when the window ends unconfirmed; not for people.
 */
import type { Context } from '../../context.js';
import { runBridgeAttach } from './attach.js';
import { runRevertUnconfirmed } from './confirm.js';
import { runBridgeDetach } from './detach.js';
import { arg, verb } from '../../verb.js';

export async function runBridgeRevertUnconfirmed(ctx: Context, token: string): Promise<void> {
  await runRevertUnconfirmed(ctx, token, async (w) =>
    w.change === 'attach' ? runBridgeDetach(ctx, w.bridge, w.iface, { moveAddress: true }) : runBridgeAttach(ctx, w.bridge, w.iface, { moveAddress: true }),
  );
}

export const bridgeRevertUnconfirmedVerb = verb('revert-unconfirmed', '(internal) revert an unconfirmed --confirm-timeout window when it ends', runBridgeRevertUnconfirmed, {
  args: [arg('<token>', 'the window it reverts')],
});
