import { Command, Option } from 'commander';
import { examples, type App } from '../../app.js';
import { CREATABLE_MODES } from '../../libvirt/network-xml.js';
import { runNetCreate, type NetCreateOptions } from './create.js';
import { runNetInfo } from './info.js';
import { runNetLeases } from './leases.js';
import { runNetAutostart, runNetDelete, runNetStart, runNetStop } from './lifecycle.js';
import { runNetList } from './list.js';
import { runNetReserve, runNetUnreserve } from './reserve.js';
import { natCommand } from './nat/index.js';
import { forwardCommand } from './forward/index.js';
import { NEW_NAME_HELP } from '../../validate/names.js';

export function netCommand(app: App): Command {
  const net = new Command('net')
    .description('manage libvirt networks, DHCP, NAT and port forwards')
    .addHelpText('after', examples('kvmctl net list', 'kvmctl net create lab --mode nat --subnet 10.10.0.0/24', 'kvmctl net leases', 'kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24'));

  net.addCommand(
    new Command('list')
      .description('list libvirt networks: state, autostart, mode, bridge, subnet, DHCP range, leases')
      .addHelpText('after', examples('kvmctl net list', 'kvmctl net list -o json'))
      .action(app.action(async (ctx) => runNetList(ctx), { fanOut: true })),
  );
  net.addCommand(
    new Command('info')
      .description('show one network: definition, DNS domain, static DHCP hosts, port forwards and leases')
      .argument('<name>', 'network name')
      .addHelpText('after', examples('kvmctl net info default', 'kvmctl net info default -o json'))
      .action(app.action(async (ctx, name: string) => runNetInfo(ctx, name))),
  );
  net.addCommand(
    new Command('create')
      .description('define, start and autostart a network; gateway = first host address, DHCP on the rest unless told otherwise')
      .argument('<name>', `network name: ${NEW_NAME_HELP}`)
      .addOption(new Option('--mode <mode>', 'nat: private subnet masqueraded out; route: routed, no NAT; isolated: VMs and host only; bridge: join an existing host bridge').choices([...CREATABLE_MODES]).makeOptionMandatory())
      .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.10.0.0/24 (default: the first free 192.168.N.0/24 from N=100)')
      .option('--dhcp-range <from-to>', 'DHCP addresses (default: every host address after the gateway)')
      .option('--no-dhcp', 'no DHCP server on the network')
      .option('--bridge-name <name>', 'the bridge libvirt creates (default: a free virbrN); with --mode bridge, the existing host bridge')
      .option('--forward-dev <iface>', 'nat/route: the host interface traffic leaves through')
      .option('--domain <domain>', 'DNS domain the network serves, e.g. lab.local')
      .option('--no-start', 'define it without starting it')
      .option('--no-autostart', 'do not start it when libvirt starts')
      .option('--print-xml', 'print the network XML and change nothing')
      .addHelpText(
        'after',
        examples(
          'kvmctl net create lab --mode nat --subnet 10.10.0.0/24',
          'kvmctl net create lab --mode nat --subnet 10.10.0.0/24 --dhcp-range 10.10.0.100-10.10.0.200 --domain lab.local',
          'kvmctl net create backend --mode isolated --subnet 172.30.0.0/24 --no-dhcp',
          'kvmctl net create lan --mode bridge --bridge-name br0',
          'kvmctl net create lab --mode nat --subnet 10.10.0.0/24 --print-xml',
        ) + '\nRe-running with the same options changes nothing (exit 0); other options for an existing name are exit 4.\nA subnet that overlaps another network, a host address or a route is exit 4.\n',
      )
      .action(app.action(async (ctx, name: string, opts: NetCreateOptions) => runNetCreate(ctx, name, opts))),
  );
  net.addCommand(
    new Command('start')
      .description('start a network')
      .argument('<name>', 'network name')
      .addHelpText('after', examples('kvmctl net start lab'))
      .action(app.action(async (ctx, name: string) => runNetStart(ctx, name))),
  );
  net.addCommand(
    new Command('stop')
      .description('stop a network (refused while running VMs use it, unless --force)')
      .argument('<name>', 'network name')
      .option('--force', 'stop it even though running VMs use it (they lose their network)')
      .addHelpText('after', examples('kvmctl net stop lab', 'kvmctl net stop lab --force'))
      .action(app.action(async (ctx, name: string, opts: { force?: boolean }) => runNetStop(ctx, name, opts))),
  );
  net.addCommand(
    new Command('autostart')
      .description('start the network when libvirt starts (or not, with --disable)')
      .argument('<name>', 'network name')
      .option('--disable', 'turn autostart off')
      .addHelpText('after', examples('kvmctl net autostart lab', 'kvmctl net autostart lab --disable'))
      .action(app.action(async (ctx, name: string, opts: { disable?: boolean }) => runNetAutostart(ctx, name, opts))),
  );
  net.addCommand(
    new Command('delete')
      .description('stop and undefine a network (refused while running VMs use it: exit 5, naming them)')
      .argument('<name>', 'network name')
      .addHelpText('after', examples('kvmctl net delete lab'))
      .action(app.action(async (ctx, name: string) => runNetDelete(ctx, name))),
  );
  net.addCommand(
    new Command('leases')
      .description('DHCP leases of one network or all: MAC, IP, hostname, expiry and the VM that owns the MAC')
      .argument('[name]', 'network name (default: every active network)')
      .addHelpText('after', examples('kvmctl net leases', 'kvmctl net leases default -o json'))
      .action(app.action(async (ctx, name: string | undefined) => runNetLeases(ctx, name), { fanOut: true })),
  );
  net.addCommand(
    new Command('reserve')
      .description('give a MAC a fixed DHCP address (in the running network and its definition)')
      .argument('<name>', 'network name')
      .requiredOption('--mac <mac>', 'the VM interface\'s MAC address')
      .requiredOption('--ip <ip>', 'the address to give it, inside the network\'s subnet')
      .option('--hostname <name>', 'the host name dnsmasq gives it')
      .addHelpText('after', examples('kvmctl net reserve default --mac 52:54:00:12:34:56 --ip 192.168.122.50', 'kvmctl net reserve lab --mac 52:54:00:12:34:56 --ip 10.10.0.10 --hostname web1'))
      .action(app.action(async (ctx, name: string, opts: { mac: string; ip: string; hostname?: string }) => runNetReserve(ctx, name, opts))),
  );
  net.addCommand(
    new Command('unreserve')
      .description('remove a fixed DHCP address, by MAC or by IP')
      .argument('<name>', 'network name')
      .option('--mac <mac>', 'the reserved MAC address')
      .option('--ip <ip>', 'the reserved address')
      .addHelpText('after', examples('kvmctl net unreserve default --mac 52:54:00:12:34:56', 'kvmctl net unreserve default --ip 192.168.122.50'))
      .action(app.action(async (ctx, name: string, opts: { mac?: string; ip?: string }) => runNetUnreserve(ctx, name, opts))),
  );
  net.addCommand(natCommand(app));
  net.addCommand(forwardCommand(app));
  return net;
}
