import { Command } from 'commander';
import type { App } from '../../app.js';

export function poolCommand(_app: App): Command {
  return new Command('pool').description('manage storage pools (dir, fs, netfs/NFS, logical)');
}
