/** What the declarations of vm verbs share: the VM name argument and the help line about names that look like options. */
import { arg, verbOn } from '../../verb.js';

export const ODD_NAMES = "\nA VM name that starts with '-' goes after --: kvmctl vm delete -- -oddname\n";

export const vmNameArg = arg('<name>', 'VM name');

/** A verb on one VM (`kvmctl vm VERB NAME`): the name argument and the note on odd names come with it. */
export const vmVerb = verbOn([vmNameArg], ODD_NAMES);
