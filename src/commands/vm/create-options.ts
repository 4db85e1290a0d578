/** The flags of `vm create`: one table gives commander its declaration and parseCreateFlags its input type. */
import { flag, list, negatable, value, type OptionsOf } from '../../verb.js';

export const createOptions = {
  memory: value('--memory <size>', 'memory, e.g. 512M, 2G (default 1G)'),
  vcpus: value('--vcpus <n>', 'virtual CPUs (default 1)'),
  disk: list(
    '--disk <spec>',
    'a disk, repeatable: size=20G[,pool=P][,format=qcow2|raw][,bus=virtio] (new volume), vol=POOL/VOL[,bus=…] or path=FILE[,format=…][,bus=…] (existing; never a system file or a device the host uses; add shareable=yes to use a raw disk another VM has)',
  ),
  image: value(
    '--image <image>',
    "the first disk is a thin qcow2 overlay of this base image: POOL/VOL, a catalog name (kvmctl image catalog), an http(s) URL or a file (/path, ./path), pulled or imported into pool= (default: default) once; [,size=20G][,pool=P][,checksum=sha256:HEX for a URL] (size defaults to the base's)",
  ),
  cdrom: value('--cdrom <iso>', 'attach an ISO (a host path, or POOL/VOL) and boot from it first'),
  import: flag('--import', 'boot from the first --disk (implied by --image)'),
  boot: value('--boot <spec>', 'uefi, and/or kernel=PATH[,initrd=PATH][,cmdline=…] for direct kernel boot (cmdline= last: it takes the rest, commas included)'),
  network: list('--network <spec>', 'a NIC, repeatable: network=NAME or bridge=BR, then [,model=virtio][,mac=52:54:00:…]; or none (default: network=default)'),
  graphics: value('--graphics <type>', 'graphical console; a serial console is always there', { choices: ['none', 'vnc', 'spice'], default: 'none' }),
  cloudInit: value('--cloud-init <spec>', 'NoCloud seed from files: user-data=FILE[,meta-data=FILE][,network-config=FILE] (regular files of at most 1 MiB); with --ssh-key/--hostname, network-config=FILE alone'),
  sshKey: value('--ssh-key <file>', 'cloud-init short form: authorize this public key (user-data)'),
  sshUser: value('--ssh-user <name>', "the guest user --ssh-key is for (the image's default user, e.g. debian), recorded for kvmctl vm ssh"),
  hostname: value('--hostname <name>', "cloud-init short form: the guest's host name (meta-data)"),
  virtType: value('--virt-type <type>', 'kvm (hardware) or qemu (emulation); default kvm where KVM is usable, else qemu', { choices: ['kvm', 'qemu'] }),
  cpu: value('--cpu <mode>', 'guest CPU model (host-passthrough needs kvm; default host-passthrough with kvm)', { choices: ['host-passthrough', 'host-model'] }),
  autostart: flag('--autostart', 'start the VM when libvirt starts'),
  start: negatable('--no-start', 'define it without starting it'),
  wait: value('--wait <what>', 'ip: block until the guest has an IP address and print it; ready: also until cloud-init has finished (exit 1 if it reported errors)'),
  timeout: value('--timeout <seconds>', 'how long --wait waits (default 300)'),
  logDir: value('--log-dir <dir>', 'where the serial log goes, as the libvirt host sees it (default: beside the first disk; never a system or shared directory such as /etc, /dev, /tmp)'),
  printXml: flag('--print-xml', 'print the domain XML (stdout) and the volumes it would create (stderr); change nothing'),
};

/** What commander gives vm create's run function. */
export type VmCreateOptions = OptionsOf<typeof createOptions>;
/** What parseCreateFlags accepts: any subset (tests and callers leave defaults out). */
export type CreateFlags = Partial<VmCreateOptions>;
