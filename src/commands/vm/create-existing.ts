/** A VM of the requested name exists: the same spec is "unchanged" (started if shut off), another is exit 4. */
import type { Context } from '../../context.js';
import { kvmctlCommand } from '../../exec/command.js';
import { ConflictError } from '../../errors.js';
import type { DomainSpec } from '../../libvirt/domain-builder.js';
import { diskPath, sourceKey, type DomainDefinition } from '../../libvirt/domain-xml.js';
import { isActive } from '../../libvirt/domains.js';
import { formatBytes } from '../../units/size.js';
import type { CreateRequest } from './create-args.js';
import type { CreatePlan } from './create-plan.js';
import { waitAndPrint, type VmJson } from './create-report.js';
import { readVmInfo } from './info.js';
import { readVmState } from './domain-state.js';
import { startNoted } from './run-addresses.js';

/** How an existing VM differs from what the request would create, as "what: has -> wanted" lines. */
export function specDifferences(have: DomainDefinition, want: DomainSpec, req: CreateRequest): string[] {
  const diffs: string[] = [];
  const cmp = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: ${show(a)} -> ${show(b)}`);
  };
  cmp('type', have.type, want.type);
  cmp('memory', formatBytes(have.memoryBytes), formatBytes(Math.ceil(want.memoryBytes / 1024) * 1024));
  cmp('vCPUs', have.vcpus, want.vcpus);
  cmp(
    'disks',
    have.disks.map((d) => `${d.target.dev}=${diskPath(d) ?? sourceKey(d.source) ?? '-'}`),
    want.disks.map((d) => `${d.target}=${d.path}`),
  );
  cmp(
    'NICs',
    have.interfaces.map((n, i) => nicText(n.type, n.type === 'network' ? n.source.network : n.type === 'bridge' ? n.source.bridge : '', n.model, req.networks[i]?.mac ? n.mac : undefined)),
    want.interfaces.map((n, i) => nicText(n.type, n.type === 'network' ? n.network : n.bridge, n.model, req.networks[i]?.mac)),
  );
  cmp('graphics', have.graphics, want.graphics === 'none' ? [] : [want.graphics]);
  cmp('kernel', [have.os.kernel, have.os.initrd, have.os.cmdline], [want.kernel?.kernel, want.kernel?.initrd, want.kernel?.cmdline]);
  cmp('firmware', have.os.firmware === 'efi' ? 'efi' : 'bios', want.firmware);
  return diffs;
}

function nicText(type: string, source: string, model: string | undefined, mac: string | undefined): string {
  return `${type}=${source}${model ? `,model=${model}` : ''}${mac ? `,mac=${mac}` : ''}`;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map((x) => (x === undefined || x === null ? '-' : String(x))).join(' ');
  return v === undefined || v === null ? '(none)' : String(v);
}

export async function reportExisting(ctx: Context, req: CreateRequest, plan: CreatePlan, existing: DomainDefinition): Promise<void> {
  const diffs = specDifferences(existing, plan.spec, req);
  if (diffs.length > 0) {
    throw new ConflictError(
      `VM ${JSON.stringify(req.name)} already exists with a different spec (${diffs.join('; ')}); it was left unchanged`,
      `choose another name, or delete it first: ${kvmctlCommand(ctx.uri, 'vm', 'delete', req.name)}`,
    );
  }
  // Converge: the spec asks for a running VM (the default), so a shut-off one is started.
  const state = req.start ? (await readVmState(ctx, req.name)).state : undefined;
  const start = state !== undefined && !isActive(state);
  if (start && !ctx.dryRun) await startNoted(ctx, req.name);
  const summary = `vm ${req.name} unchanged (it exists with this spec)${start ? `; it was ${state}, ${ctx.dryRun ? 'would start' : 'started'} it` : ''}`;
  // The whole VM as it is now, the same object a new create prints.
  const json: VmJson = async (addresses) => ({ changed: start && !ctx.dryRun, ...(await readVmInfo(ctx, req.name, addresses)), cloudInit: null });
  if (!req.waitIp || ctx.dryRun) return ctx.out.done(summary, ctx.out.json ? await json(undefined) : undefined);
  ctx.out.info(summary);
  await waitAndPrint(ctx, req, json);
}
