/**
 * What the declarations of vm verbs share: a verb on one VM name, and the help
 * line about names that look like options.
 */
import { Command } from 'commander';
import { examples } from '../../app.js';

export const ODD_NAMES = "\nA VM name that starts with '-' goes after --: kvmctl vm delete -- -oddname\n";

/** A verb that takes one VM name. */
export function vmVerb(name: string, description: string, ...example: string[]): Command {
  return new Command(name).description(description).argument('<name>', 'VM name').addHelpText('after', examples(...example) + ODD_NAMES);
}
