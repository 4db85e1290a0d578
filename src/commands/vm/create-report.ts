/** What vm create prints: the plan under --print-xml, the result after a create, the addresses --wait asks for. */
import type { Context } from '../../context.js';
import { TimeoutError } from '../../errors.js';
import { formatBytes } from '../../units/size.js';
import type { CreateRequest } from './create-args.js';
import type { CreatePlan, PlannedVolume } from './create-plan.js';
import { readyLine, waitForAddress, waitForReadyAddress } from './wait.js';
import { parseDomainXml } from '../../libvirt/domain-xml.js';
import { addressObject } from './ip.js';
import { cloudInitObject, vmObject, type VmAddress, type VmObject } from './vm-object.js';

/** The object vm create prints for the VM, given the addresses --wait found (none without --wait). */
export type VmJson = (addresses: VmAddress[] | undefined) => Promise<Record<string, unknown>>;

/** --wait ip|ready after a create or a converging re-run: prints the addresses (JSON: the VM object with them). */
export async function waitAndPrint(ctx: Context, req: CreateRequest, json: VmJson): Promise<void> {
  if (req.waitReady) {
    const { ready, addresses } = await waitForReadyAddress(ctx, req.name, req.timeoutSeconds);
    if (ctx.out.json) return ctx.out.printJson({ ...(await json(addresses.map(addressObject))), cloudInit: cloudInitObject(ready) });
    ctx.out.info(readyLine(req.name, ready));
    return ctx.out.raw(addresses.map((a) => a.address).join('\n'));
  }
  const found = await waitForAddress(ctx, req.name, req.timeoutSeconds);
  if (ctx.out.json) return ctx.out.printJson(await json(found.map(addressObject)));
  ctx.out.raw(found.map((a) => a.address).join('\n'));
}

/** The VM as this command defined it (plan.xml): a new VM has no snapshots; its new volumes have the planned sizes. */
async function plannedVm(req: CreateRequest, plan: CreatePlan, state: string, addresses: VmAddress[] | undefined): Promise<VmObject> {
  const sizes = new Map(plan.volumes.flatMap((v) => (v.capacityBytes === undefined ? [] : [[v.path, v.capacityBytes] as const])));
  const capacity = new Map(plan.spec.disks.flatMap((d) => (sizes.has(d.path) ? [[d.target, sizes.get(d.path)!] as const] : [])));
  return vmObject(await parseDomainXml(plan.xml), { state, autostart: req.autostart, persistent: true, capacity, addresses, snapshots: [] });
}

function planJson(plan: CreatePlan) {
  const vols = [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])];
  return vols.map((v) => ({
    pool: v.pool,
    name: v.name,
    path: v.path,
    format: v.format,
    capacityBytes: v.capacityBytes ?? null,
    backingFile: v.backing?.path ?? null,
    purpose: v.purpose,
  }));
}

function describeVolume(v: PlannedVolume): string {
  const parts: string[] = [v.format];
  if (v.capacityBytes !== undefined) parts.push(formatBytes(v.capacityBytes) ?? '');
  if (v.backing) parts.push(`thin overlay of ${v.backing.path}`);
  if (v.purpose === 'seed') parts.push('cloud-init NoCloud seed, label cidata');
  return `${v.pool}/${v.name} (${parts.join(', ')})`;
}

export function printPlan(ctx: Context, plan: CreatePlan): void {
  for (const w of plan.warnings) ctx.out.warn(w);
  const xml = plan.xml;
  if (ctx.out.json) {
    return ctx.out.printJson({
      name: plan.spec.name,
      xml,
      volumes: planJson(plan),
      seed: plan.seed ? { pool: plan.seed.volume.pool, volume: plan.seed.volume.name, userData: plan.seed.files.userData, metaData: plan.seed.files.metaData, networkConfig: plan.seed.files.networkConfig ?? null } : null,
    });
  }
  // The XML alone on stdout, so `--print-xml > vm.xml` is a file virsh define accepts.
  const vols = [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])];
  if (vols.length === 0) ctx.out.info('would create no volumes');
  for (const v of vols) ctx.out.info(`would create volume ${describeVolume(v)}`);
  ctx.out.raw(xml);
}

export async function report(ctx: Context, req: CreateRequest, plan: CreatePlan): Promise<void> {
  const s = plan.spec;
  const state = ctx.dryRun ? 'planned' : req.start ? 'running' : 'shutoff';
  const summary = `vm ${req.name} ${ctx.dryRun ? 'would be created' : 'created'}${req.start ? ' and started' : ''} (${s.type}, ${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}, ${formatBytes(s.memoryBytes)}); serial log: ${s.serialLog}`;
  const json: VmJson = async (addresses) => ({ changed: !ctx.dryRun, ...(await plannedVm(req, plan, state, addresses)), cloudInit: null });
  if (!req.waitIp || ctx.dryRun) return ctx.out.done(summary, ctx.out.json ? await json(undefined) : undefined);
  ctx.out.info(summary);
  try {
    await waitAndPrint(ctx, req, json);
  } catch (err) {
    // The VM stays: it was created as asked; only the address (or readiness) is missing.
    if (err instanceof TimeoutError) throw new TimeoutError(`vm ${req.name} was created and started, but ${err.message}`, err.hint);
    throw err;
  }
}
