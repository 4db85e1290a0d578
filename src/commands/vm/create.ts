/**
 * `vm create NAME`: what virt-install does, in one transaction.
 *
 * parse flags (exit 2) -> check inputs (create-inputs) -> read the host
 * (create-state: one keyed virsh batch, the pools, every VM) -> plan the
 * volumes and the domain XML (create-plan) -> run the plan's steps: create
 * volumes, upload the cloud-init seed, define, autostart, start. A failure at
 * any step removes what this command created, in reverse order (exit 7);
 * nothing that existed before is touched. An existing VM: create-existing.
 *
 * The serial console is logged to NAME.serial.log beside the VM's first disk
 * (its pool directory), because that directory is the same path for the
 * libvirt daemon and for kvmctl on the host; /var/log/libvirt may not be (a
 * daemon in its own mount namespace, or a remote host). --log-dir overrides it.
 */
import type { Context } from '../../context.js';
import { runPlan } from '../../exec/plan.js';
import { writeSeedImage, type SeedIsoTool } from '../../libvirt/cloud-init.js';
import { newUuid } from '../../libvirt/domain-builder.js';
import { realStorageFiles, type StorageFiles } from '../../storage/local-files.js';
import { validateNewName } from '../../storage/volume-ref.js';
import { arg, verb } from '../../verb.js';
import { parseCreateFlags, type CreateRequest } from './create-args.js';
import { reportExisting } from './create-existing.js';
import { ensureImage } from './create-image.js';
import { checkHostPaths, localKvm, pickIsoTool, readSeedInputs } from './create-inputs.js';
import { createOptions, type CreateFlags } from './create-options.js';
import { checkVolumeNamesFree, createSteps, planCreate, type CreatePlan } from './create-plan.js';
import { printPlan, report } from './create-report.js';
import { checkUsedVolumes, readState } from './create-state.js';
import { NEW_NAME_HELP } from '../../validate/names.js';
import { placementUri, VCPU_OVERCOMMIT_LIMIT } from './placement.js';
import { noteRunStarted } from './run-addresses.js';

export { pickSeedTool } from './create-inputs.js';

export async function runVmCreate(ctx: Context, name: string, flags: CreateFlags, files: StorageFiles = realStorageFiles): Promise<void> {
  const parsed = parseCreateFlags(name, flags);
  await checkHostPaths(ctx, parsed, files);
  const uuid = newUuid();
  const seedFiles = parsed.cloudInit ? await readSeedInputs(ctx, parsed, parsed.cloudInit, uuid) : undefined;
  // A catalog name, URL or file is pulled or imported once every input has been checked.
  const source = parsed.image?.source;
  const req = source ? { ...parsed, image: { ...parsed.image!, base: await ensureImage(ctx, source, parsed.image!.base.pool, parsed.printXml || ctx.dryRun) } } : parsed;
  if (req.printXml) {
    const state = await readState(ctx, req);
    await checkUsedVolumes(ctx, req, state, files);
    const plan = planCreate(req, uuid, seedFiles, state, await localKvm(ctx));
    return printPlan(ctx, plan);
  }
  const isoTool = seedFiles ? await pickIsoTool(ctx) : undefined;
  await ctx.withLock(`vm ${name}`, async () => {
    const state = await readState(ctx, req);
    await checkUsedVolumes(ctx, req, state, files);
    const plan = planCreate(req, uuid, seedFiles, state, await localKvm(ctx));
    if (state.existing) return reportExisting(ctx, req, plan, state.existing);
    // The volumes are named after the VM: a VM name libvirt allows may still be no volume name.
    for (const v of [...plan.volumes, ...(plan.seed ? [plan.seed.volume] : [])]) validateNewName('volume', v.name);
    checkVolumeNamesFree(plan, state);
    for (const w of plan.warnings) ctx.out.warn(w);
    const before = Date.now();
    await execute(ctx, req, plan, isoTool);
    if (req.start) await noteRunStarted(ctx, name, before);
    await report(ctx, req, plan);
  });
}

async function execute(ctx: Context, req: CreateRequest, plan: CreatePlan, isoTool: SeedIsoTool | undefined): Promise<void> {
  const seedImage = plan.seed && isoTool ? await writeSeedImage(ctx.runner, isoTool, plan.seed.files) : undefined;
  try {
    await runPlan(ctx, createSteps(req, plan, seedImage));
  } finally {
    await seedImage?.dispose();
  }
}

export const vmCreateCommand = verb('create', 'create (define and start) a VM: new or existing disks, a thin overlay of a base image, networks, cloud-init', runVmCreate, {
  args: [arg('<name>', `VM name: ${NEW_NAME_HELP}`)],
  options: createOptions,
  examples: [
    'kvmctl vm create web1 --image default/debian-12.qcow2,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
    'kvmctl vm create web2 --image debian-12,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
    'kvmctl vm create db1 --memory 4G --vcpus 2 --image default/base.qcow2 --disk size=100G,pool=data --network bridge=br0',
    'kvmctl vm create inst1 --cdrom /srv/iso/debian-12.iso --disk size=20G --graphics vnc',
    'kvmctl vm create k1 --boot kernel=/srv/vmlinuz,initrd=/srv/initrd.img,cmdline=console=ttyS0 --network none',
    'kvmctl vm create web1 --image default/base.qcow2 --cloud-init user-data=./user-data.yaml --print-xml',
    'kvmctl vm create web1 --image default/debian-12.qcow2 --ssh-key ~/.ssh/id_ed25519.pub --cloud-init network-config=./net.yaml --wait ready',
    'kvmctl vm create web3 --host auto --explain --image default/debian-12.qcow2 --memory 2G',
  ],
  notes:
    '\n-H NAME (--host NAME) creates it on that host of the inventory; -H auto on the host with the most memory available\n' +
    `among those with the VM's networks and pools, enough memory and at most ${VCPU_OVERCOMMIT_LIMIT} running vCPUs per CPU (ties: by name).\n` +
    '\nThe serial console is logged to NAME.serial.log beside the first disk (kvmctl vm log NAME).\n' +
    'The cloud-init seed is a read-only virtio disk labelled cidata (every cloud kernel sees it).\n' +
    'If a step fails, everything this command created is removed (exit 7). An existing VM with the\n' +
    'same spec is left as it is (exit 0), and started if it is shut off (unless --no-start); with\n' +
    'another spec, exit 4.\n',
  place: (ctx, selectors, name, o) => placementUri(ctx, selectors, name, o),
});
