/** What the declarations of vm verbs share: the VM name argument and the help line about names that look like options. */
import { arg, names, verbOn } from '../../verb.js';

export const ODD_NAMES = "\nA VM name that starts with '-' goes after --: kvmctl vm delete -- -oddname\n";

export const vmNameArg = arg('<name>', 'VM name');

/** A verb on one VM (`kvmctl vm VERB NAME`): the name argument and the note on odd names come with it. */
export const vmVerb = verbOn([vmNameArg], ODD_NAMES);

/** A verb on one or more VMs (`kvmctl vm VERB NAME...`): each name in turn, as vmVerb does one (src/many-names.ts). */
export const vmsVerb = verbOn([names('<name...>', 'VM name(s)', { kind: 'vm' })], ODD_NAMES);

/** vm delete: several VMs one after the other only (--parallel is refused, for this reason). */
export const vmsDeleteVerb = verbOn(
  [names('<name...>', 'VM name(s)', { kind: 'vm', serial: "--remove-storage keeps a disk another VM uses or stands on, as read before each delete; VMs deleted at once would each see the others' disks still in use" })],
  ODD_NAMES,
);
