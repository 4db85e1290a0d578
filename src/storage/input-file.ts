/**
 * Files the user names as input (cloud-init user-data, meta-data,
 * network-config, an SSH public key) end up where a guest can read them, so
 * kvmctl reads only what is plainly such a file: a regular file, at most
 * INPUT_FILE_LIMIT bytes, read without blocking (a FIFO or /dev/zero is
 * refused, not waited on), with a warning when the file looks like someone
 * else's secret.
 */
import { UsageError } from '../errors.js';
import type { InputFile, LocalFs } from '../local-fs.js';
import { formatBytes } from '../units/size.js';

/** 1 MiB: far above any cloud-init document, far below what would fill a seed or memory. */
export const INPUT_FILE_LIMIT = 1024 * 1024;

const KIND_WORDS: Record<NonNullable<InputFile['kind']>, string> = {
  file: 'a regular file',
  directory: 'a directory',
  fifo: 'a FIFO (named pipe)',
  device: 'a device',
  socket: 'a socket',
  other: 'not a regular file',
};

export interface InputText {
  text: string;
  /** Said before anything is created; the command goes on. */
  warnings: string[];
}

/**
 * The invoking user: under sudo, the user who ran sudo (SUDO_UID), since
 * root owns nothing of theirs.
 */
export function invokingUid(env: Record<string, string | undefined>): number | undefined {
  const uid = process.getuid?.();
  const sudo = env.SUDO_UID !== undefined && /^\d+$/.test(env.SUDO_UID) ? Number(env.SUDO_UID) : undefined;
  return uid === 0 && sudo !== undefined ? sudo : uid;
}

export async function readInputFile(fs: LocalFs, flag: string, path: string, env: Record<string, string | undefined>, limit = INPUT_FILE_LIMIT): Promise<InputText> {
  const subject = `${flag}: ${JSON.stringify(path)}`;
  const f = await fs.readInput(path, limit);
  if (f.error !== undefined) {
    const why = f.error === 'ENOENT' ? 'no such file' : f.error === 'EACCES' ? 'permission denied' : f.error;
    throw new UsageError(`${flag}: cannot read ${JSON.stringify(path)}: ${why}`, 'check the path and that you may read the file');
  }
  if (f.kind !== 'file') {
    throw new UsageError(`${subject} is ${KIND_WORDS[f.kind ?? 'other']}, not a regular file`, 'give a regular file (write the output of a pipe or process to a file first)');
  }
  if (f.bytes === undefined) {
    throw new UsageError(`${subject} is ${formatBytes(f.sizeBytes ?? 0)}, over the limit of ${formatBytes(limit)} for an input file`, 'give a smaller file (cloud-init documents are a few KiB)');
  }
  const warnings: string[] = [];
  const me = invokingUid(env);
  const mode = f.mode ?? 0;
  if (f.uid === 0 && (mode & 0o004) === 0) {
    warnings.push(`${subject} is owned by root and not readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}), yet the guest will be able to read its contents`);
  } else if (me !== undefined && f.uid !== undefined && f.uid !== me) {
    warnings.push(`${subject} is owned by uid ${f.uid}, not by you (uid ${me}), yet the guest will be able to read its contents`);
  }
  return { text: f.bytes.toString('utf8'), warnings };
}
