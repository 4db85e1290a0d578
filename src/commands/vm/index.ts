import { Command } from 'commander';
import type { App } from '../../app.js';

export function vmCommand(_app: App): Command {
  return new Command('vm').description('create, inspect and run virtual machines');
}
