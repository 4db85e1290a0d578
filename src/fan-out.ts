/**
 * `-H NAME|@group|all`: one read command on many hosts at once. Each host gets
 * its own Context (its URI, a runner whose programs share the host's deadline,
 * an Output that records instead of printing); the results are then put
 * together: lists as one table with a HOST column first (JSON: a `host` key on
 * every object), anything else host by host. A host that fails or does not
 * answer in time is one error row, and the other hosts' results stay; a list
 * verb declares its columns, so its table keeps that shape when every host fails.
 */
import type { Context, Deps } from './context.js';
import { ExitCode, exitCodeOf, KvmctlError, PartialResultError, UsageError } from './errors.js';
import { DeadlineRunner, noAnswerWithin } from './exec/deadline-runner.js';
import { CommandTimeoutError } from './exec/runner.js';
import { mapLimit } from './exec/parallel.js';
import { inventoryPath, loadInventory, selectHosts } from './inventory/hosts-file.js';
import { CapturingOutput, jsonOf, replay, type Printed } from './output/capture.js';
import type { Column } from './output/table.js';
import type { Output } from './output/output.js';

export interface HostResult {
  host: string;
  ok: boolean;
  error?: string;
  exitCode?: number;
  printed: Printed[];
}

/** What a verb needs to run against one host. */
export type BuildHostContext = (uri: string, deps: Deps, out: (base: Output) => CapturingOutput) => Context;

/**
 * A read whose hosts' results depend on each other (a migrating VM is on two
 * hosts): each host is read, the values are put together, then each is printed.
 */
export interface FleetRead<T> {
  read(ctx: Context): Promise<T>;
  /** Puts together the values of the hosts that were read (in the order of the selection); it may replace a value. */
  combine(values: Array<{ host: string; value: T }>): void;
  print(ctx: Context, value: T): Promise<void>;
}

export async function fanOut<T>(
  selectors: string[],
  base: Context,
  deps: Deps,
  build: BuildHostContext,
  fn: ((ctx: Context) => Promise<void>) | FleetRead<T>,
  /** A list's columns: its table keeps HOST first, one error row a host, even when no host answers. */
  columns?: Column<any>[],
): Promise<void> {
  const inv = await loadInventory(inventoryPath(deps.io.env), { cacheDir: base.stateDir });
  const hosts = selectHosts(inv, selectors);
  if (hosts.length === 0) throw new UsageError(`no hosts selected by -H ${selectors.join(' -H ')} in ${inv.path}`, 'add hosts with: kvmctl host add NAME --uri URI');
  const fleet = typeof fn === 'function' ? { read: fn, combine: () => undefined, print: async () => undefined } : fn;
  type Read = { result: HostResult; ctx?: Context; value?: T; capture?: CapturingOutput };
  const failed = (host: string, e: unknown, printed: Printed[]): HostResult => {
    const message =
      e instanceof CommandTimeoutError
        ? noAnswerWithin(base.hostTimeoutMs)
        : e instanceof Error
          ? e.message
          : String(e);
    return { host, ok: false, error: message, exitCode: exitCodeOf(e), printed };
  };
  // A host whose programs were stopped at its deadline did not answer: what it printed came from programs that were stopped
  // (a report whose facts read as unreachable, checks that fail for it), so it is shown as not answering, exit 6.
  const timedOut = (host: string): HostResult => ({ host, ok: false, error: noAnswerWithin(base.hostTimeoutMs), exitCode: ExitCode.Timeout, printed: [] });
  const reads = await mapLimit(hosts, base.parallel, async (h): Promise<Read> => {
    const runner = new DeadlineRunner(deps.runner, Date.now() + base.hostTimeoutMs);
    const hostDeps: Deps = {
      ...deps,
      runner,
      io: { ...deps.io, stderr: (t) => deps.io.stderr(prefixLines(h.name, t)) },
    };
    let capture: CapturingOutput | undefined;
    try {
      const ctx = build(h.uri, hostDeps, (out) => (capture = new CapturingOutput(hostDeps.io, out.options)));
      const value = (await fleet.read(ctx)) as T;
      if (runner.expired) return { result: timedOut(h.name) };
      return { result: { host: h.name, ok: true, printed: [] }, ctx, value, capture };
    } catch (e) {
      return { result: runner.expired ? timedOut(h.name) : failed(h.name, e, capture?.printed ?? []) };
    }
  });
  const readOk = reads.filter((r) => r.result.ok);
  const values = readOk.map((r) => ({ host: r.result.host, value: r.value as T }));
  fleet.combine(values);
  values.forEach((v, i) => {
    const r = readOk[i];
    if (r) r.value = v.value;
  });
  const results: HostResult[] = [];
  for (const r of reads) {
    if (!r.result.ok || !r.ctx) {
      results.push(r.result);
      continue;
    }
    try {
      await fleet.print(r.ctx, r.value as T);
      results.push({ ...r.result, printed: r.capture?.printed ?? [] });
    } catch (e) {
      results.push(failed(r.result.host, e, r.capture?.printed ?? []));
    }
  }
  collapseMigrations(results);
  render(base.out, results, columns);
  const failures = results.filter((r) => !r.ok);
  if (failures.length === 0) return;
  const summary = failures.map((r) => `${r.host}: ${r.error ?? ''}`).join('; ');
  if (failures.length === results.length) {
    const codes = new Set(failures.map((r) => r.exitCode));
    const code = codes.size === 1 ? [...codes][0] : ExitCode.Failure;
    throw new HostsFailedError(`every host failed: ${summary}`, (code ?? ExitCode.Failure) as ExitCode);
  }
  throw new PartialResultError(`${failures.length} of ${results.length} hosts failed, the others are shown: ${summary}`, 'check those hosts with: kvmctl host list');
}

type ListPrinted = Extract<Printed, { kind: 'list' }>;
type Place = { result: HostResult; list: ListPrinted; row: Record<string, unknown> };

/**
 * A VM in the middle of a migration is defined on two hosts, and libvirt shows it
 * paused for the migration on the target (`vm list` marks it `migrating`): list
 * it once, on the host it comes from, as migrating, with the host it goes to.
 */
export function collapseMigrations(results: HostResult[]): void {
  const eachRow = (visit: (result: HostResult, list: ListPrinted, row: Record<string, unknown> & { name: string }) => void) => {
    for (const result of results) {
      if (!result.ok) continue;
      for (const p of result.printed) {
        if (p.kind !== 'list') continue;
        for (const row of p.rows as Array<Record<string, unknown>>) {
          if (row !== null && typeof row === 'object' && typeof row.name === 'string') visit(result, p, row as Record<string, unknown> & { name: string });
        }
      }
    }
  };
  // Only a name with a migrating row somewhere can collapse: most listings have none, and cost one pass.
  const migrating = new Set<string>();
  eachRow((_r, _l, row) => {
    if (row.migrating === true) migrating.add(row.name);
  });
  if (migrating.size === 0) return;
  const byName = new Map<string, Place[]>();
  eachRow((result, list, row) => {
    if (!migrating.has(row.name)) return;
    const places = byName.get(row.name);
    if (places) places.push({ result, list, row });
    else byName.set(row.name, [{ result, list, row }]);
  });
  const replace = new Map<Record<string, unknown>, Record<string, unknown> | null>();
  for (const places of byName.values()) {
    if (places.length < 2 || !places.some((p) => p.row.migrating === true)) continue;
    const from = places.find((p) => p.row.migrating !== true) ?? places[0];
    if (!from) continue;
    const to = places.filter((p) => p !== from);
    replace.set(from.row, { ...from.row, state: 'migrating', migrating: true, migratingTo: to.map((p) => p.result.host).join(', ') });
    for (const p of to) replace.set(p.row, null);
  }
  if (replace.size === 0) return;
  for (const result of results) {
    result.printed = result.printed.map((p) => {
      if (p.kind !== 'list') return p;
      const rows = (p.rows as Array<Record<string, unknown>>).flatMap((row) => {
        const next = replace.has(row) ? replace.get(row) : row;
        return next ? [next] : [];
      });
      // vm list prints its rows as its JSON objects: keep the two the same.
      return { ...p, rows, json: p.json === p.rows ? rows : p.json };
    });
  }
}

/** Every host failed: the exit code is theirs when they agree, else 1. */
class HostsFailedError extends KvmctlError {
  override readonly exitCode: ExitCode;
  constructor(message: string, code: ExitCode) {
    super(message, 'check those hosts with: kvmctl host list');
    this.exitCode = code;
  }
}

function prefixLines(host: string, text: string): string {
  return text.replace(/^(?=.)/gm, `[${host}] `);
}

function withHost(host: string, value: unknown): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? { host, ...value } : { host, value };
}

function render(out: Output, results: HostResult[], declared?: Column<any>[]): void {
  if (out.json) {
    const hosts = results.map((r) => ({ host: r.host, ok: r.ok, error: r.error ?? null }));
    const items = results.flatMap((r) =>
      r.printed.flatMap((p) => {
        const v = jsonOf(p);
        if (v === undefined) return [];
        return Array.isArray(v) ? v.map((x) => withHost(r.host, x)) : [withHost(r.host, v)];
      }),
    );
    return out.printJson({ items, hosts });
  }
  const lists = results.flatMap((r) => r.printed.filter((p): p is Extract<Printed, { kind: 'list' }> => p.kind === 'list'));
  const onlyLists = results.every((r) => r.printed.every((p) => p.kind === 'list' || p.kind === 'footnote'));
  const first = lists[0]?.columns ?? declared;
  // -o name prints IDs, which name no host: each host's under == NAME ==, as vm list --name-only does.
  if (onlyLists && first && !out.nameOnly) {
    type Row = { host: string; row?: unknown; error?: string };
    // A host that failed after printing its rows (host check with failed checks) keeps them, then its error.
    const rows: Row[] = results.flatMap((r): Row[] => [
      ...r.printed.flatMap((p) => (p.kind === 'list' ? p.rows.map((row) => ({ host: r.host, row })) : [])),
      ...(r.ok ? [] : [{ host: r.host, error: r.error }]),
    ]);
    const columns: Column<Row>[] = [
      { header: 'HOST', value: (x) => x.host },
      ...first.map(
        (c, i): Column<Row> => ({
          header: c.header,
          name: c.name,
          wide: c.wide,
          value: (x) => (x.row !== undefined ? c.value(x.row) : i === 0 ? `error: ${x.error ?? ''}` : undefined),
        }),
      ),
    ];
    out.list(columns, rows);
    // Each heading once, under the table, its lines named by host.
    const notes = new Map<string, string[]>();
    for (const r of results)
      for (const p of r.printed) if (p.kind === 'footnote') notes.set(p.heading, [...(notes.get(p.heading) ?? []), ...p.lines.map((l) => `${r.host} ${l}`)]);
    for (const [heading, lines] of notes) out.footnote(heading, lines);
    return;
  }
  for (const r of results) {
    if (r.ok && r.printed.length === 0) continue;
    out.raw(`== ${r.host} ==`);
    if (!r.ok) out.raw(`error: ${r.error ?? ''}`);
    for (const p of r.printed) replay(out, p);
  }
}
