// The download loop against a real HTTP server on this process's loopback: the
// digest computed while receiving matches the bytes written, across many of the
// loop's periodic young-generation collections (one every 8 MiB).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../../src/images/download.js';

const BODY = randomBytes(40 * 2 ** 20 + 12345);
let server: Server;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'kvmctl-download-'));

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(BODY.length), etag: '"body"' });
    // Written in 1 MiB pieces so that the client reads it in many socket chunks.
    let at = 0;
    const next = (): void => {
      while (at < BODY.length) {
        const piece = BODY.subarray(at, at + 2 ** 20);
        at += piece.length;
        if (!res.write(piece)) return void res.once('drain', next);
      }
      res.end();
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.raw`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function request(name: string) {
  return { what: `image pull ${name}`, url, partPath: join(dir, name), statePath: join(dir, `${name}.state`), signal: new AbortController().signal };
}

describe('download', () => {
  it('writes every byte and returns the SHA-256 and SHA-512 of what it wrote', async () => {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const r = await download({ ...request(`d-${algorithm}`), algorithm });
      const written = readFileSync(join(dir, `d-${algorithm}`));
      expect(r.bytes).toBe(BODY.length);
      expect(written.equals(BODY)).toBe(true);
      expect(r.digest).toEqual({ algorithm, hex: createHash(algorithm).update(BODY).digest('hex') });
      expect(r.resumedFromBytes).toBe(0);
    }
  });

  it('feeds the hasher it is given every byte in order (the benchmark gives one that does nothing)', async () => {
    const seen = createHash('sha256');
    let updates = 0;
    const r = await download({
      ...request('d-given'),
      algorithm: 'sha256',
      newHash: () => ({ update: (c: Buffer) => (updates++, seen.update(c)), digest: () => 'given' }),
    });
    expect(r.digest.hex).toBe('given');
    expect(updates).toBeGreaterThan(1);
    expect(seen.digest('hex')).toBe(createHash('sha256').update(BODY).digest('hex'));
    expect(readFileSync(join(dir, 'd-given')).equals(BODY)).toBe(true);
  });
});
