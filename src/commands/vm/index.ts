import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import { vmCloneCommand } from './clone.js';
import { runVmConsole, runVmLog } from './console.js';
import { vmCreateCommand } from './create.js';
import { runVmDelete } from './delete.js';
import { runVmInfo, runVmXml } from './info.js';
import { runVmIp } from './ip.js';
import { runVmAutostart, runVmDestroy, runVmReboot, runVmResume, runVmStart, runVmSuspend } from './lifecycle.js';
import { runVmList } from './list.js';
import { runVmSet } from './set.js';
import { runSnapshotCreate, runSnapshotDelete, runSnapshotList, runSnapshotRevert } from './snapshot.js';
import { runVmStop } from './stop.js';
import { runVmWait } from './wait.js';
import { runVmExec } from './exec.js';
import { runVmTop, type TopFlags } from './top.js';
import { runVmSsh, type SshFlags } from './ssh.js';
import { NEW_NAME_HELP } from '../../validate/names.js';
import { migrateCommand } from './migrate.js';


const ODD_NAMES = "\nA VM name that starts with '-' goes after --: kvmctl vm delete -- -oddname\n";

/** A verb that takes one VM name. */
function verb(name: string, description: string, ...example: string[]): Command {
  return new Command(name).description(description).argument('<name>', 'VM name').addHelpText('after', examples(...example) + ODD_NAMES);
}

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

  vm.addCommand(vmCreateCommand(app));

  vm.addCommand(
    new Command('list')
      .description('list VMs, sorted by name (the same order on every host and locale): state, vCPUs, memory, autostart, IPs (DHCP leases), disks')
      .option('--state <state>', 'only VMs in this state: running, shutoff or paused')
      .option('--name-only', 'print only the names')
      .addHelpText('after', examples('kvmctl vm list', 'kvmctl vm list --state running --name-only', 'kvmctl vm list -o json'))
      .action(app.action(async (ctx, opts: { state?: string; nameOnly?: boolean }) => runVmList(ctx, opts), { fanOut: true })),
  );
  vm.addCommand(
    verb('info', 'show one VM: state, CPUs, memory, boot, disks, NICs with IPs, consoles, snapshots', 'kvmctl vm info web1', 'kvmctl vm info web1 -o json').action(
      app.action(async (ctx, name: string) => runVmInfo(ctx, name), { fanOut: true }),
    ),
  );
  vm.addCommand(
    verb('xml', "print the VM's libvirt XML", 'kvmctl vm xml web1', 'kvmctl vm xml web1 --inactive')
      .option('--inactive', 'the persistent definition, not the running one')
      .action(app.action(async (ctx, name: string, opts: { inactive?: boolean }) => runVmXml(ctx, name, opts))),
  );
  vm.addCommand(
    verb('ip', "print the VM's IP addresses, one a line", 'kvmctl vm ip web1', 'kvmctl vm ip web1 --source agent', 'kvmctl vm ip web1 -o json')
      .addOption(new Option('--source <source>', 'lease (libvirt DHCP), agent (guest agent), arp (host neighbour table), any (the first that has one)').choices(['lease', 'agent', 'arp', 'any']).default('any'))
      .action(app.action(async (ctx, name: string, opts: { source?: string }) => runVmIp(ctx, name, opts))),
  );
  vm.addCommand(
    verb('wait', 'wait until the VM has an IP address, is ready (cloud-init finished), its guest agent or ssh server answers, or it is running or shut off; exit 6 on timeout', 'kvmctl vm wait web1 --for ip', 'kvmctl vm wait web1 --for ready', 'kvmctl vm wait web1 --for ssh', 'kvmctl vm wait web1 --for agent', 'kvmctl vm wait web1 --for shutoff --timeout 120')
      .addOption(new Option('--for <what>', 'ip, ready (cloud-init finished, read from the serial log; then the address), agent (the guest agent answers), ssh (an ssh server answers on port 22; then the address), running or shutoff; all but running and shutoff fail at once (exit 5) on a VM that is not running').choices(['ip', 'ready', 'agent', 'ssh', 'running', 'shutoff']).makeOptionMandatory())
      .option('--timeout <seconds>', 'give up after this long (default 300)')
      .action(app.action(async (ctx, name: string, opts: { for?: string; timeout?: string }) => runVmWait(ctx, name, opts))),
  );

  vm.addCommand(
    verb('start', "start a VM; refused (exit 5) while its disk is the base image of an overlay (a linked clone's disk)", 'kvmctl vm start web1')
      .option('--force', 'start it even though overlays use its disk as their base image (they will be corrupted)')
      .action(app.action(async (ctx, name: string, opts: { force?: boolean }) => runVmStart(ctx, name, opts))),
  );
  vm.addCommand(
    verb('stop', 'shut a VM down through ACPI and wait; --force powers it off when the timeout passes', 'kvmctl vm stop web1', 'kvmctl vm stop web1 --timeout 30 --force')
      .option('--timeout <seconds>', 'how long to wait for the guest (default 60)')
      .option('--force', 'power it off if it has not shut down by then')
      .action(app.action(async (ctx, name: string, opts: { timeout?: string; force?: boolean }) => runVmStop(ctx, name, opts))),
  );
  vm.addCommand(verb('reboot', 'ask the guest to reboot (ACPI)', 'kvmctl vm reboot web1').action(app.action(async (ctx, name: string) => runVmReboot(ctx, name))));
  vm.addCommand(verb('suspend', 'pause a running VM (it keeps its memory)', 'kvmctl vm suspend web1').action(app.action(async (ctx, name: string) => runVmSuspend(ctx, name))));
  vm.addCommand(verb('resume', 'resume a paused VM', 'kvmctl vm resume web1').action(app.action(async (ctx, name: string) => runVmResume(ctx, name))));
  vm.addCommand(verb('destroy', 'power a VM off at once (keeps its disks and definition)', 'kvmctl vm destroy web1').action(app.action(async (ctx, name: string) => runVmDestroy(ctx, name))));
  vm.addCommand(
    verb('autostart', 'start the VM when libvirt starts (or not, with --disable)', 'kvmctl vm autostart web1', 'kvmctl vm autostart web1 --disable')
      .option('--disable', 'do not start it with libvirt')
      .action(app.action(async (ctx, name: string, opts: { disable?: boolean }) => runVmAutostart(ctx, name, opts))),
  );
  vm.addCommand(
    verb('console', 'attach to the serial console (needs a terminal; Ctrl+] leaves)', 'kvmctl vm console web1').action(app.action(async (ctx, name: string) => runVmConsole(ctx, name))),
  );
  vm.addCommand(
    verb('log', 'print what the guest wrote on its serial console (the log vm create configures)', 'kvmctl vm log web1', 'kvmctl vm log web1 --lines 20', 'kvmctl vm log web1 -f')
      .option('--lines <n>', 'only the last N lines')
      .option('-f, --follow', 'keep printing what the guest writes (as tail -f) until the VM stops (exit 0; Ctrl-C also ends it, exit 0)')
      .action(app.action(async (ctx, name: string, opts: { lines?: string; follow?: boolean }) => runVmLog(ctx, name, opts))),
  );
  vm.addCommand(
    new Command('top')
      .description("each running VM's CPU %, memory, disk and network rates, from one domstats call per refresh; live on a terminal (q or Ctrl-C quits)")
      .option('--interval <seconds>', 'time between refreshes (default 2); each rate is over this interval')
      .option('--once', 'print one sample (two readings one interval apart) and end')
      .option('--count <n>', 'print this many samples and end')
      .addHelpText(
        'after',
        examples('kvmctl vm top', 'kvmctl vm top --once', 'kvmctl -o json vm top --interval 5 --count 12 > load.ndjson') +
          '\nCPU% is of one host CPU (200.0 = two CPUs busy). With -o json, one JSON object a line (NDJSON): time, intervalSeconds,\n' +
          'and per VM the counters of the second reading (cpuTimeNs, diskReadBytes, …) and the rates (cpuPercent, diskReadBytesPerSecond, …).\n' +
          'Ends with exit 0 on q, Ctrl-C or SIGTERM.\n',
      )
      .action(app.action(async (ctx, opts: TopFlags) => runVmTop(ctx, opts))),
  );
  vm.addCommand(
    new Command('ssh')
      .description("ssh to the guest: its address as vm ip finds it, the key and user recorded by vm create --ssh-key/--ssh-user; exits with ssh's exit status")
      .argument('<name>', 'VM name')
      .argument('[command...]', 'a command to run instead of a login shell (after --)')
      .option('--user <name>', 'log in as this user (default: the one recorded with vm create --ssh-user, else ssh\'s own default)')
      .option('-i, --identity <file>', 'the private key (default: the --ssh-key file of vm create without .pub)')
      .option('--port <n>', 'the ssh port (default 22)')
      .addHelpText(
        'after',
        examples('kvmctl vm ssh web1', 'kvmctl vm ssh web1 -- uptime', 'kvmctl vm ssh web1 --user debian -i ~/.ssh/id_ed25519 -- sudo systemctl status nginx', 'ip netns exec lab kvmctl vm ssh web1   # guests reachable only inside a network namespace') +
          '\nThe guest\'s host key is accepted the first time and kept in kvmctl\'s state directory (ssh_known_hosts), under\n' +
          'the VM\'s uuid: a re-created VM is a new host, another VM on the same address is not confused with it.\n' +
          'kvmctl runs ssh in its own network namespace; to reach guests that only a namespace can reach, run kvmctl there.\n' +
          ODD_NAMES,
      )
      .action(app.action(async (ctx, name: string, command: string[], opts: SshFlags) => runVmSsh(ctx, name, command, opts))),
  );
  vm.addCommand(
    new Command('exec')
      .description('run a command in the guest through the QEMU guest agent: its stdout and stderr as they were, its exit status')
      .argument('<name>', 'VM name')
      .argument('<command...>', 'the program (looked up on the guest\'s PATH) and its arguments, after --; no shell')
      .option('--timeout <seconds>', 'give up waiting for it after this long (default 300; exit 6, it keeps running in the guest)')
      .addHelpText(
        'after',
        examples('kvmctl vm exec web1 -- uname -a', "kvmctl vm exec web1 -- sh -c 'df -h / && free -m'", 'kvmctl vm exec web1 --timeout 600 -- apt-get -y upgrade', 'kvmctl -o json vm exec web1 -- hostname') +
          '\nNeeds qemu-guest-agent running in the guest and its channel in the domain (vm create adds it); exit 5 says which is missing.\n' +
          "Exit status: the command's own; kvmctl's errors (5: no agent, 6: timeout) come with a kvmctl: error: line on stderr.\n" +
          ODD_NAMES,
      )
      .action(app.action(async (ctx, name: string, command: string[], opts: { timeout?: string }) => runVmExec(ctx, name, command, opts))),
  );
  vm.addCommand(
    verb('set', 'change vCPUs and memory, in the definition (default) and/or the running guest', 'kvmctl vm set web1 --vcpus 4 --memory 8G', 'kvmctl vm set web1 --memory 1G --live')
      .option('--vcpus <n>', 'virtual CPUs')
      .option('--memory <size>', 'memory, e.g. 2G')
      .option('--live', 'change the running guest (within the maximum it was started with)')
      .option('--config', 'change the definition, from the next start (the default)')
      .action(app.action(async (ctx, name: string, opts: { vcpus?: string; memory?: string; live?: boolean; config?: boolean }) => runVmSet(ctx, name, opts))),
  );

  const snapshot = new Command('snapshot')
    .description("snapshots of a VM's disks (and memory, when running), kept inside its qcow2 disks")
    .addHelpText('after', examples('kvmctl vm snapshot create web1 before-upgrade', 'kvmctl vm snapshot list web1', 'kvmctl vm snapshot revert web1 before-upgrade', 'kvmctl vm snapshot delete web1 before-upgrade'));
  snapshot.addCommand(
    new Command('create')
      .description('take a snapshot (default name: snap-YYYYMMDD-HHMMSS)')
      .argument('<name>', 'VM name')
      .argument('[snapshot]', `snapshot name: ${NEW_NAME_HELP}, not all digits`)
      .option('--description <text>', 'a note kept with it')
      .addHelpText('after', examples('kvmctl vm snapshot create web1', 'kvmctl vm snapshot create web1 before-upgrade --description "before apt upgrade"'))
      .action(app.action(async (ctx, name: string, snap: string | undefined, opts: { description?: string }) => runSnapshotCreate(ctx, name, snap, opts))),
  );
  snapshot.addCommand(
    new Command('list')
      .description("list a VM's snapshots")
      .argument('<name>', 'VM name')
      .addHelpText('after', examples('kvmctl vm snapshot list web1', 'kvmctl vm snapshot list web1 -o json'))
      .action(app.action(async (ctx, name: string) => runSnapshotList(ctx, name))),
  );
  snapshot.addCommand(
    new Command('revert')
      .description('put the VM back to a snapshot (its state then is the snapshot\'s: running or shut off)')
      .argument('<name>', 'VM name')
      .argument('<snapshot>', 'snapshot name')
      .addHelpText('after', examples('kvmctl vm snapshot revert web1 before-upgrade'))
      .action(app.action(async (ctx, name: string, snap: string) => runSnapshotRevert(ctx, name, snap))),
  );
  snapshot.addCommand(
    new Command('delete')
      .description('delete a snapshot (the VM keeps its current state)')
      .argument('<name>', 'VM name')
      .argument('<snapshot>', 'snapshot name')
      .addHelpText('after', examples('kvmctl vm snapshot delete web1 before-upgrade'))
      .action(app.action(async (ctx, name: string, snap: string) => runSnapshotDelete(ctx, name, snap))),
  );
  vm.addCommand(snapshot);

  vm.addCommand(vmCloneCommand(app));
  vm.addCommand(migrateCommand(app));
  vm.addCommand(
    verb('delete', 'delete a VM (refused while it runs, unless --force); --remove-storage removes its own volumes', 'kvmctl vm delete web1', 'kvmctl vm delete web1 --remove-storage', 'kvmctl vm delete web1 --force --remove-storage')
      .option('--remove-storage', 'also remove its disk volumes that no other VM uses and that are no base image, and its cloud-init seed')
      .option('--force', 'power it off first if it runs')
      .action(app.action(async (ctx, name: string, opts: { removeStorage?: boolean; force?: boolean }) => runVmDelete(ctx, name, opts))),
  );
  return vm;
}
