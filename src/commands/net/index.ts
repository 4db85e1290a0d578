import { Command } from 'commander';
import type { App } from '../../app.js';

export function netCommand(_app: App): Command {
  return new Command('net').description('manage libvirt networks, DHCP, NAT and port forwards');
}
