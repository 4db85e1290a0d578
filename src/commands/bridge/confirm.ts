/**
 * The confirmation window of `bridge attach|detach --move-address
 * --confirm-timeout SECONDS`, as netplan's `try` does it: after the move, a
 * detached process (its own session, so a hang-up of the terminal does not
 * reach it) waits the given time and then moves everything back, unless
 * `kvmctl bridge confirm` came first. One window per network namespace; its
 * record (net/bridge-confirm-netns-INODE.json) names the change, the deadline
 * and the waiting process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Context } from '../../context.js';
import { ConflictError, KvmctlError, TimeoutError, UsageError } from '../../errors.js';
import { kvmctlCommand } from '../../exec/command.js';
import { isSameProcess, processStartTime } from '../../exec/lock.js';
import { ipLinkSetStateCommand } from '../../net/ip.js';
import { currentNetnsRecord } from '../../net/netns-record.js';
import { verb } from '../../verb.js';

export interface ConfirmWindow {
  token: string;
  /** The change: "attach" moved the NIC's addresses to the bridge, "detach" moved them back to the NIC. */
  change: 'attach' | 'detach';
  bridge: string;
  iface: string;
  /** attach brought the bridge up: the revert brings it down again. */
  broughtUp: boolean;
  deadline: string;
  watcherPid?: number;
  watcherStartTime?: string;
  status: 'pending' | 'reverted' | 'revert failed';
  /** When it was reverted, or why that failed. */
  detail?: string;
}

type Record_ = { window?: ConfirmWindow };

function windowRecord(ctx: Context) {
  return currentNetnsRecord<Record_>(ctx.stateDir, 'bridge-confirm', () => ({}), (v) => v.window === undefined);
}

export const MAX_CONFIRM_SECONDS = 3600;

export function parseConfirmTimeout(text: string | undefined, move: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_CONFIRM_SECONDS) {
    throw new UsageError(`invalid --confirm-timeout ${JSON.stringify(text)}: not a whole number of seconds from 1 to ${MAX_CONFIRM_SECONDS}`, 'e.g. --confirm-timeout 120');
  }
  if (!move) throw new UsageError('--confirm-timeout needs --move-address: only a move of addresses and routes is reverted', 'add --move-address, or leave --confirm-timeout out');
  return n;
}

/** Refuses a second window while one is open, before anything changes. */
export async function checkNoOpenWindow(ctx: Context): Promise<void> {
  const open = (await (await windowRecord(ctx)).load()).window;
  if (open?.status === 'pending' && open.watcherPid !== undefined && isSameProcess(open.watcherPid, open.watcherStartTime)) {
    throw new ConflictError(
      `a confirmation window is open for bridge ${open.change} ${open.bridge} ${open.iface} (until ${open.deadline})`,
      `confirm it first (${kvmctlCommand(ctx.uri, 'bridge', 'confirm')}) or let it revert, then run this again`,
    );
  }
}

/** The program and arguments that run kvmctl again: node and its script, or the single binary. */
function selfArgv(): { program: string; args: string[] } {
  const script = process.argv[1];
  return { program: process.execPath, args: script !== undefined && script !== process.execPath ? [...process.execArgv, script] : [] };
}

/** Records the window and starts the process that reverts the change when it ends; tells the user how to keep it. */
export async function openConfirmWindow(ctx: Context, change: ConfirmWindow['change'], bridge: string, iface: string, seconds: number, broughtUp: boolean): Promise<{ deadline: string; confirm: string }> {
  const record = await windowRecord(ctx);
  const token = randomBytes(8).toString('hex');
  const deadline = new Date(Date.now() + seconds * 1000).toISOString();
  const window: ConfirmWindow = { token, change, bridge, iface, broughtUp, deadline, status: 'pending' };
  await record.save({ window });
  const self = selfArgv();
  const watcher = spawn(self.program, [...self.args, '-c', ctx.uri, '-q', 'bridge', 'revert-unconfirmed', token], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, KVMCTL_STATE_DIR: ctx.stateDir, KVMCTL_FAULT: '' },
  });
  // A failed start is reported through pid === undefined below; the event must not end kvmctl.
  watcher.on('error', () => undefined);
  watcher.unref();
  if (watcher.pid === undefined) {
    await record.save({});
    const undo = change === 'attach' ? kvmctlCommand(ctx.uri, 'bridge', 'detach', bridge, iface, '--move-address') : kvmctlCommand(ctx.uri, 'bridge', 'attach', bridge, iface, '--move-address');
    throw new KvmctlError(`bridge ${change} ${bridge} ${iface} is done, but the process that would revert it could not start (${self.program}): nothing will move it back by itself`, `keep it, or move it back with: ${undo}`);
  }
  await record.save({ window: { ...window, watcherPid: watcher.pid, watcherStartTime: processStartTime(watcher.pid) } });
  return { deadline, confirm: kvmctlCommand(ctx.uri, 'bridge', 'confirm') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The detached process: waits for the deadline (or for the window to be
 * confirmed, which removes its record), then moves everything back by the
 * opposite move, which the move records make exact.
 */
export async function runRevertUnconfirmed(ctx: Context, token: string, revert: (w: ConfirmWindow) => Promise<void>): Promise<void> {
  const record = await windowRecord(ctx);
  for (;;) {
    const w = (await record.load()).window;
    if (w?.token !== token || w.status !== 'pending') return;
    if (Date.now() >= Date.parse(w.deadline)) break;
    await sleep(Math.min(250, Math.max(10, Date.parse(w.deadline) - Date.now())));
  }
  const w = (await record.load()).window;
  // Confirmed in the last instant.
  if (w?.token !== token || w.status !== 'pending') return;
  try {
    await revert(w);
    if (w.broughtUp) await ctx.ip.change(ipLinkSetStateCommand(w.bridge, 'down'));
    await record.save({ window: { ...w, status: 'reverted', detail: new Date().toISOString() } });
  } catch (e) {
    await record.save({ window: { ...w, status: 'revert failed', detail: e instanceof Error ? e.message : String(e) } });
    throw e;
  }
}

/** Keeps the change: closes the window and stops the waiting process. */
export async function runBridgeConfirm(ctx: Context): Promise<void> {
  const record = await windowRecord(ctx);
  const w = (await record.load()).window;
  if (!w) return ctx.out.done('no confirmation window is open: nothing to confirm', { confirmed: false });
  const what = `bridge ${w.change} ${w.bridge} ${w.iface}`;
  if (w.status === 'reverted') {
    await record.save({});
    throw new TimeoutError(`${what} was not confirmed in time and was reverted at ${w.detail ?? '?'}`, `run it again (with a longer --confirm-timeout), then: ${kvmctlCommand(ctx.uri, 'bridge', 'confirm')}`);
  }
  if (w.status === 'revert failed') {
    await record.save({});
    throw new KvmctlError(`${what} was not confirmed in time, and reverting it failed: ${w.detail ?? '?'}`, `check the addresses and routes of ${w.bridge} and ${w.iface} (ip addr; ip route) and move them by hand`);
  }
  await record.save({});
  if (w.watcherPid !== undefined && isSameProcess(w.watcherPid, w.watcherStartTime)) {
    try {
      process.kill(w.watcherPid, 'SIGTERM');
    } catch {
      // It ended on its own meanwhile.
    }
  }
  ctx.out.done(`${what} confirmed: it stays`, { confirmed: true, change: w.change, bridge: w.bridge, iface: w.iface });
}

export const bridgeConfirmVerb = verb('confirm', 'keep the address move of the open --confirm-timeout window (exit 6 if it was already reverted)', runBridgeConfirm, {
  examples: ['kvmctl bridge attach br0 eth0 --move-address --confirm-timeout 120', 'kvmctl bridge confirm'],
});
