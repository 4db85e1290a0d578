import { Command } from 'commander';
import type { App } from '../../app.js';

export function bridgeCommand(_app: App): Command {
  return new Command('bridge').description('manage host Linux bridges and their ports');
}
