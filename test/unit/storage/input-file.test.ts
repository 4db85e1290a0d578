/**
 * Input files (cloud-init documents, SSH keys) read through the real file
 * system: only regular files within the limit, never blocking on a FIFO or
 * reading a device, with a warning for files that look like root's secrets.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realFs } from '../../../src/local-fs.js';
import { INPUT_FILE_LIMIT, readInputFile } from '../../../src/storage/input-file.js';
import { UsageError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmctl-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FLAG = '--cloud-init user-data=';

async function refusal(path: string): Promise<string> {
  const err = await readInputFile(realFs, FLAG, path, {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  return (err as UsageError).message;
}

describe('input files', () => {
  it('a regular file is read whole; one of the invoking user has no warning', async () => {
    const f = join(dir, 'user-data');
    writeFileSync(f, '#cloud-config\n');
    chmodSync(f, 0o644);
    const uid = process.getuid?.() ?? 0;
    expect(await readInputFile(realFs, FLAG, f, { SUDO_UID: undefined })).toEqual({ text: '#cloud-config\n', warnings: uid === 0 ? [] : expect.any(Array) });
  });

  it('a FIFO is refused at once, without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal(fifo)).toBe(`${FLAG}: ${JSON.stringify(fifo)} is a FIFO (named pipe), not a regular file`);
  });

  it('/dev/zero and a directory are refused without reading them', async () => {
    expect(await refusal('/dev/zero')).toBe(`${FLAG}: "/dev/zero" is a device, not a regular file`);
    expect(await refusal(dir)).toBe(`${FLAG}: ${JSON.stringify(dir)} is a directory, not a regular file`);
  });

  it('a file over the limit is refused by its size (a sparse 300 MB file is not read)', async () => {
    const big = join(dir, 'big');
    writeFileSync(big, '');
    truncateSync(big, 300 * 1000 * 1000);
    expect(await refusal(big)).toBe(`${FLAG}: ${JSON.stringify(big)} is 286.1 MiB, over the limit of 1.0 MiB for an input file`);
    const edge = join(dir, 'edge');
    writeFileSync(edge, Buffer.alloc(INPUT_FILE_LIMIT, 0x61));
    expect((await readInputFile(realFs, FLAG, edge, {})).text.length).toBe(INPUT_FILE_LIMIT);
  });

  it('a missing file names the path and the reason', async () => {
    expect(await refusal(join(dir, 'nope'))).toBe(`${FLAG}: cannot read ${JSON.stringify(join(dir, 'nope'))}: no such file`);
  });

  it('a root-owned file others cannot read is read with a warning; so is one of another user (under sudo)', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'x\n');
    chmodSync(secret, 0o640);
    const owner = statSync(secret).uid;
    expect((await readInputFile(realFs, FLAG, secret, {})).warnings).toEqual(
      owner === 0 ? [`${FLAG}: ${JSON.stringify(secret)} is owned by root and not readable by other users (mode 0640), yet the guest will be able to read its contents`] : [],
    );
    chmodSync(secret, 0o644);
    const sudo = owner === 0 ? { SUDO_UID: '1000' } : {};
    expect((await readInputFile(realFs, FLAG, secret, sudo)).warnings).toEqual(
      owner === 0 ? [`${FLAG}: ${JSON.stringify(secret)} is owned by uid 0, not by you (uid 1000), yet the guest will be able to read its contents`] : [],
    );
  });
});
