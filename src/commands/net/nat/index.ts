import { Command } from 'commander';
import { examples, type App } from '../../../app.js';
import { runNatCheck } from './check.js';
import { runNatDisable } from './disable.js';
import { runNatEnable, type NatEnableOptions } from './enable.js';
import { runNatList } from './list.js';

export function natCommand(app: App): Command {
  const nat = new Command('nat')
    .description('NAT for VMs on any bridge, as libvirt sets it up for virbr0: tagged iptables rules, ip_forward')
    .addHelpText('after', examples('kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24', 'kvmctl net nat list', 'kvmctl net nat check', 'kvmctl net nat disable --bridge br0'));
  nat.addCommand(
    new Command('enable')
      .description('give the bridge its gateway address if missing, turn ip_forward on, add MASQUERADE and FORWARD rules (each tagged kvmctl:nat:BRIDGE)')
      .requiredOption('--bridge <bridge>', 'the bridge the VMs are on')
      .requiredOption('--subnet <cidr>', 'the VMs\' subnet; the bridge gets its first address as gateway if it has none in it')
      .option('--out <iface>', 'masquerade only traffic leaving through this interface (default: any)')
      .addHelpText(
        'after',
        examples('kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24', 'kvmctl net nat enable --bridge br0 --subnet 10.20.0.0/24 --out eth0') +
          '\nRunning it again adds nothing (or, after a firewall reload, exactly the rules that are missing); other settings for a bridge that has kvmctl NAT are exit 4.\n',
      )
      .action(app.action(async (ctx, opts: NatEnableOptions) => runNatEnable(ctx, opts))),
  );
  nat.addCommand(
    new Command('disable')
      .description('remove exactly the rules enable added, its gateway address, and restore ip_forward if kvmctl changed it')
      .requiredOption('--bridge <bridge>', 'the bridge')
      .addHelpText('after', examples('kvmctl net nat disable --bridge br0'))
      .action(app.action(async (ctx, opts: { bridge: string }) => runNatDisable(ctx, opts))),
  );
  nat.addCommand(
    new Command('check')
      .description("check that every rule kvmctl recorded for NAT in this namespace is in the firewall (and ip_forward on): exit 0, else 5 with what is missing")
      .addHelpText(
        'after',
        examples('kvmctl net nat check', 'kvmctl net nat check -o json') +
          '\nA firewall reload (iptables-restore, firewalld, a reboot without saved rules) removes kvmctl\'s rules silently.\nRunning the printed `kvmctl net nat enable` again adds back exactly the missing rules.\n',
      )
      .action(app.action(async (ctx) => runNatCheck(ctx))),
  );
  nat.addCommand(
    new Command('list')
      .description('every NAT rule on the host with its owner: kvmctl, libvirt, docker or other')
      .addHelpText('after', examples('kvmctl net nat list', 'kvmctl net nat list -o json'))
      .action(app.action(async (ctx) => runNatList(ctx))),
  );
  return nat;
}
