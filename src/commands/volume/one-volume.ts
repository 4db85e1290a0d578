/** The argument of the verbs on one volume. */
import { arg, verbOn } from '../../verb.js';

export const volumeRefArg = arg('<pool/name>', 'the volume');

/** A verb on one volume (`kvmctl volume VERB POOL/NAME`). */
export const volumeVerb = verbOn([volumeRefArg]);
