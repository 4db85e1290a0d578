/**
 * Plans as data. A creating verb returns a Plan: a list of steps, each with
 * what it makes, the action that makes it and the action that undoes it. One
 * executor runs every plan inside a Transaction: it classifies failures (the
 * virsh client names the subject), registers each undo as soon as its step has
 * run (so the journal always names what exists), checks for Ctrl-C between
 * steps, and under --dry-run prints what it would do. Fault injection
 * (KVMCTL_FAULT) counts the state-changing commands the steps run, undo
 * commands included, as it always did: it sits in the Runner under the executor.
 */
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Context } from '../context.js';
import type { VirshCall } from '../libvirt/virsh-client.js';
import { formatCommand, shellQuote, type Command, type CommandResult } from './command.js';
import { runChecked, ToolError } from './runner.js';
import { withSpinner } from '../output/spinner.js';

/** A state file kvmctl owns (NAT records, bridge records): written whole, then renamed into place. */
export interface FileWrite {
  path: string;
  text: string;
  /** Default 0o600: kvmctl's state is private. */
  mode?: number;
}

/** What a step does (or undoes): a virsh call, another tool's command, a state-file write or removal. */
export type Action =
  | { virsh: VirshCall }
  /** `failure` turns a failed run into the error to throw (undefined: the command's own ToolError). */
  | { command: Command; failure?: (result: CommandResult) => Error | undefined }
  | { write: FileWrite }
  | { remove: string }
  /**
   * Work that is neither a command nor a file (e.g. waiting); `describe` is what --dry-run prints.
   * `viaRunner`: the work only runs commands, whose runner prints and skips the state-changing
   * ones under --dry-run, so it runs under --dry-run too (the exact argv is printed).
   */
  | { run: () => Promise<void>; describe: string; viaRunner?: boolean };

export interface Step {
  /** What the step creates or changes, for the user: "storage pool images (definition)". */
  what: string;
  do: Action;
  /** Undoes `do`; registered right after `do` succeeds. */
  undo?: Action;
  /** How a person removes it by hand; default: the undo action as a command line. */
  manual?: string;
  /** Shown with a spinner while `do` runs, on a terminal (a long copy or upload). */
  spinner?: string;
  /** Register the undo before `do` runs: a `do` cut short leaves part of it behind (a partial file). */
  undoFirst?: boolean;
}

export interface Plan {
  /** The transaction's label: "pool create images". Errors start with it. */
  label: string;
  steps: Step[];
}

/** Steps of a plan that only some requests need: `when(o.start, step)`. */
export function when(condition: boolean, ...steps: Step[]): Step[] {
  return condition ? steps : [];
}

/** Runs the plan's steps in order inside one transaction; a failure undoes the steps that ran, in reverse. */
export async function runPlan(ctx: Context, plan: Plan): Promise<void> {
  await ctx.transaction(plan.label).run(async (tx) => {
    for (const step of plan.steps) {
      const undo = step.undo;
      const registerUndo = () => undo && tx.onRollback({ what: step.what, run: () => perform(ctx, undo), manual: step.manual ?? describeAction(ctx, undo) });
      if (step.undoFirst) registerUndo();
      await (step.spinner === undefined ? perform(ctx, step.do) : withSpinner(ctx, step.spinner, () => perform(ctx, step.do)));
      if (!step.undoFirst) registerUndo();
      tx.checkpoint();
    }
  });
}

/** The XML (or other stdin) the plan's virsh calls carry: what --print-xml shows, from the same steps that would run. */
export function planInputs(plan: Plan): string[] {
  return plan.steps.flatMap((s) => ('virsh' in s.do && s.do.virsh.input !== undefined ? [s.do.virsh.input] : []));
}

/** One action as a line a person can read or run. */
export function describeAction(ctx: Context, action: Action): string {
  if ('virsh' in action) return ctx.virsh.manual(action.virsh);
  if ('command' in action) return formatCommand(action.command);
  if ('write' in action) return `write ${shellQuote(action.write.path)}`;
  if ('remove' in action) return formatCommand({ program: 'rm', args: ['-f', '--', action.remove] });
  return action.describe;
}

async function perform(ctx: Context, action: Action): Promise<void> {
  if ('virsh' in action) return void (await ctx.virsh.run(action.virsh));
  // Commands reach the runner, which under --dry-run prints and skips the state-changing ones.
  if ('command' in action) return runCommand(ctx, action.command, action.failure);
  if ('run' in action && action.viaRunner) return action.run();
  if (ctx.dryRun) return ctx.io.stderr(`[dry-run] would ${describeAction(ctx, action)}\n`);
  if ('write' in action) return writeStateFile(action.write);
  if ('remove' in action) return unlink(action.remove).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  return action.run();
}

async function runCommand(ctx: Context, cmd: Command, failure?: (result: CommandResult) => Error | undefined): Promise<void> {
  if (!failure) return void (await runChecked(ctx.runner, cmd));
  const result = await ctx.runner.run(cmd);
  if (result.exitCode !== 0) throw failure(result) ?? new ToolError(cmd, result);
}

async function writeStateFile(w: FileWrite): Promise<void> {
  await mkdir(dirname(w.path), { recursive: true, mode: 0o700 });
  // Write then rename, so a reader (or a run killed midway) never sees half a file.
  const tmp = `${w.path}.tmp-${process.pid}`;
  await writeFile(tmp, w.text, { mode: w.mode ?? 0o600 });
  await rename(tmp, w.path);
}
