import { Command } from 'commander';
import type { App } from '../../app.js';

export function volumeCommand(_app: App): Command {
  return new Command('volume').description('manage disk volumes (qcow2, raw, vmdk) in storage pools');
}
