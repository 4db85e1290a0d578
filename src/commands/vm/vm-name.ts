/** What the declarations of vm verbs share: the VM name argument and the help line about names that look like options. */
import type { Command } from 'commander';
import type { App } from '../../app.js';
import { arg, verb, type OptionTable, type VerbSpec } from '../../verb.js';

export const ODD_NAMES = "\nA VM name that starts with '-' goes after --: kvmctl vm delete -- -oddname\n";

export const vmNameArg = arg('<name>', 'VM name');

/** A verb on one VM (`kvmctl vm VERB NAME`): the name argument and the note on odd names come with it. */
export function vmVerb<const T extends OptionTable = Record<never, never>>(spec: Omit<VerbSpec<readonly [typeof vmNameArg], T>, 'args' | 'notes'>): (app: App) => Command {
  return verb<readonly [typeof vmNameArg], T>({ ...spec, args: [vmNameArg], notes: ODD_NAMES });
}
