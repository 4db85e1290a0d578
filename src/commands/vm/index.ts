/** `vm`: assembles its verbs; each verb file declares its own flags. */
import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import { autostartCommand } from './autostart.js';
import { runVmClone } from './clone.js';
import { consoleCommand } from './console.js';
import { runVmCreate } from './create.js';
import type { CreateFlags } from './create-args.js';
import { deleteCommand } from './delete.js';
import { destroyCommand } from './destroy.js';
import { execCommand } from './exec.js';
import { infoCommand } from './info.js';
import { ipCommand } from './ip.js';
import { listCommand } from './list.js';
import { logCommand } from './log.js';
import { rebootCommand } from './reboot.js';
import { resumeCommand } from './resume.js';
import { setCommand } from './set.js';
import { snapshotCommand } from './snapshot/index.js';
import { sshCommand } from './ssh.js';
import { startCommand } from './start.js';
import { stopCommand } from './stop.js';
import { suspendCommand } from './suspend.js';
import { topCommand } from './top.js';
import { waitCommand } from './wait.js';
import { xmlCommand } from './xml.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function vmCommand(app: App): Command {
  const vm = new Command('vm')
    .description('create, inspect and run virtual machines')
    .addHelpText(
      'after',
      examples(
        'kvmctl vm create web1 --image default/debian-12.qcow2,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
        'kvmctl vm list',
        'kvmctl vm ip web1',
        'kvmctl vm stop web1 --timeout 60 --force',
        'kvmctl vm delete web1 --remove-storage',
      ),
    );

  vm.addCommand(
    new Command('create')
      .description('create (define and start) a VM: new or existing disks, a thin overlay of a base image, networks, cloud-init')
      .argument('<name>', 'VM name: letters, digits, - _ . (not starting with -)')
      .option('--memory <size>', 'memory, e.g. 512M, 2G (default 1G)')
      .option('--vcpus <n>', 'virtual CPUs (default 1)')
      .option('--disk <spec>', 'a disk, repeatable: size=20G[,pool=P][,format=qcow2|raw][,bus=virtio] (new volume), vol=POOL/VOL[,bus=…] or path=FILE[,format=…][,bus=…] (existing; never a system file or a device the host uses; add shareable=yes to use a raw disk another VM has)', collect)
      .option('--image <image>', 'the first disk is a thin qcow2 overlay of this base image: POOL/VOL, a catalog name (kvmctl image catalog), an http(s) URL or a file (/path, ./path), pulled or imported into pool= (default: default) once; [,size=20G][,pool=P][,checksum=sha256:HEX for a URL] (size defaults to the base\'s)')
      .option('--cdrom <iso>', 'attach an ISO (a host path, or POOL/VOL) and boot from it first')
      .option('--import', 'boot from the first --disk (implied by --image)')
      .option('--boot <spec>', 'uefi, and/or kernel=PATH[,initrd=PATH][,cmdline=…] for direct kernel boot (cmdline= last: it takes the rest, commas included)')
      .option('--network <spec>', 'a NIC, repeatable: network=NAME or bridge=BR, then [,model=virtio][,mac=52:54:00:…]; or none (default: network=default)', collect)
      .addOption(new Option('--graphics <type>', 'graphical console; a serial console is always there').choices(['none', 'vnc', 'spice']).default('none'))
      .option('--cloud-init <spec>', 'NoCloud seed from files: user-data=FILE[,meta-data=FILE][,network-config=FILE] (regular files of at most 1 MiB); with --ssh-key/--hostname, network-config=FILE alone')
      .option('--ssh-key <file>', 'cloud-init short form: authorize this public key (user-data)')
      .option('--ssh-user <name>', 'the guest user --ssh-key is for (the image\'s default user, e.g. debian), recorded for kvmctl vm ssh')
      .option('--hostname <name>', "cloud-init short form: the guest's host name (meta-data)")
      .addOption(new Option('--virt-type <type>', 'kvm (hardware) or qemu (emulation); default kvm where KVM is usable, else qemu').choices(['kvm', 'qemu']))
      .addOption(new Option('--cpu <mode>', 'guest CPU model (host-passthrough needs kvm; default host-passthrough with kvm)').choices(['host-passthrough', 'host-model']))
      .option('--autostart', 'start the VM when libvirt starts')
      .option('--no-start', 'define it without starting it')
      .option('--wait <what>', 'ip: block until the guest has an IP address and print it; ready: also until cloud-init has finished (exit 1 if it reported errors)')
      .option('--timeout <seconds>', 'how long --wait waits (default 300)')
      .option('--log-dir <dir>', 'where the serial log goes, as the libvirt host sees it (default: beside the first disk; never a system or shared directory such as /etc, /dev, /tmp)')
      .option('--print-xml', 'print the domain XML (stdout) and the volumes it would create (stderr); change nothing')
      .addHelpText(
        'after',
        examples(
          'kvmctl vm create web1 --image default/debian-12.qcow2,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
          'kvmctl vm create web2 --image debian-12,size=20G --ssh-key ~/.ssh/id_ed25519.pub --wait ip',
          'kvmctl vm create db1 --memory 4G --vcpus 2 --image default/base.qcow2 --disk size=100G,pool=data --network bridge=br0',
          'kvmctl vm create inst1 --cdrom /srv/iso/debian-12.iso --disk size=20G --graphics vnc',
          'kvmctl vm create k1 --boot kernel=/srv/vmlinuz,initrd=/srv/initrd.img,cmdline=console=ttyS0 --network none',
          'kvmctl vm create web1 --image default/base.qcow2 --cloud-init user-data=./user-data.yaml --print-xml',
          'kvmctl vm create web1 --image default/debian-12.qcow2 --ssh-key ~/.ssh/id_ed25519.pub --cloud-init network-config=./net.yaml --wait ready',
        ) +
          '\nThe serial console is logged to NAME.serial.log beside the first disk (kvmctl vm log NAME).\n' +
          'The cloud-init seed is a read-only virtio disk labelled cidata (every cloud kernel sees it).\n' +
          'If a step fails, everything this command created is removed (exit 7). An existing VM with the\n' +
          'same spec is left as it is (exit 0), and started if it is shut off (unless --no-start); with\n' +
          'another spec, exit 4.\n',
      )
      .action(app.action(async (ctx, name: string, opts: CreateFlags) => runVmCreate(ctx, name, opts))),
  );

  for (const verb of [listCommand, infoCommand, xmlCommand, ipCommand, waitCommand]) vm.addCommand(verb(app));
  for (const verb of [startCommand, stopCommand, rebootCommand, suspendCommand, resumeCommand, destroyCommand, autostartCommand]) vm.addCommand(verb(app));
  for (const verb of [consoleCommand, logCommand, topCommand, sshCommand, execCommand, setCommand, snapshotCommand]) vm.addCommand(verb(app));

  vm.addCommand(
    new Command('clone')
      .description('copy a shut-off VM: new uuid and MACs, its own copy of each disk (or thin overlays with --linked)')
      .argument('<source>', 'the VM to copy (it is not changed)')
      .argument('<name>', 'name of the new VM')
      .option('--linked', 'thin qcow2 overlays on the source disks instead of full copies (the source must then stay shut off; vm start refuses it)')
      .option('--hostname <name>', "the clone's host name in its new cloud-init seed (default: the clone's name)")
      .addHelpText('after', examples('kvmctl vm clone web1 web2', 'kvmctl vm clone golden test1 --linked', 'kvmctl vm clone web1 web-2 --linked --hostname web2'))
      .action(app.action(async (ctx, src: string, name: string, opts: { linked?: boolean; hostname?: string }) => runVmClone(ctx, src, name, opts))),
  );
  vm.addCommand(deleteCommand(app));
  return vm;
}
