/**
 * Pulling an image: where it comes from and how it is verified (PullSpec),
 * then download, verify, inspect and publish read-only into a pool, with
 * rollback. `image pull` and `vm create --image` share it.
 */
import { mkdtemp, mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import type { Context } from '../context.js';
import { kvmctlCommand, type CommandResult } from '../exec/command.js';
import { runPlan } from '../exec/plan.js';
import { withLock } from '../exec/lock.js';
import { ConflictError, NotFoundError, RefusedError, UsageError } from '../errors.js';
import { poolCalls } from '../libvirt/storage.js';
import { findVolume, localFileFor, readStorage, requireActivePool } from '../storage/inventory.js';
import { realStorageFiles } from '../storage/local-files.js';
import { appeared, fileCommands } from '../storage/local-write.js';
import { formatBytes } from '../units/size.js';
import { validateName } from '../validate/names.js';
import { loadCatalog, parseDownloadUrl, type CatalogEntry } from './catalog.js';
import { digestFromSums, formatDigest, parseChecksum, type Digest } from './checksum.js';
import { download } from './download.js';
import { verifySignature } from './gpg.js';
import { httpGetSmall } from './http.js';
import { downloadMeter } from './progress.js';
import { checkImageDir, imagePaths, readImageRecord, validateImageName, writeFileNoFollow, type ImageRecord } from './store.js';
import { checkFreeSpace } from '../storage/volume-checks.js';
import { inspectSource } from '../storage/import-source.js';
import { QemuImg } from '../storage/qemu-img-client.js';

export interface ImagePullOptions {
  pool?: string;
  checksum?: string;
  sums?: string;
  name?: string;
}

/** What to fetch and how to check it, decided before anything is read from the network. */
export interface PullSpec {
  url: string;
  name: string;
  pool: string;
  catalog?: CatalogEntry;
  checksum?: Digest;
  sums?: string;
}

export const DEFAULT_IMAGE_POOL = 'default';

/** Whether a --image or pull argument is a URL (any scheme, so that file: or ftp: are refused by name). */
export function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(text);
}

function extensionOf(url: URL): string {
  return /\.(qcow2|img|raw)$/i.exec(url.pathname)?.[0].toLowerCase() ?? '';
}

export async function resolvePullSpec(ctx: Context, source: string, o: ImagePullOptions): Promise<PullSpec> {
  const pool = validateName('pool', o.pool ?? DEFAULT_IMAGE_POOL);
  if (o.checksum !== undefined && o.sums !== undefined) throw new UsageError('give --checksum or --sums, not both', '--checksum ALGO:HEX names the digest; --sums URL names a SUMS file that lists it');
  const checksum = o.checksum === undefined ? undefined : parseChecksum('--checksum', o.checksum);
  const sums = o.sums === undefined ? undefined : parseDownloadUrl('--sums', o.sums).href;
  if (o.name !== undefined) validateImageName('--name', o.name);
  const catalog = await loadCatalog(ctx.io.env, (p) => ctx.fs.read(p));
  let entry: CatalogEntry | undefined;
  let url: URL;
  if (looksLikeUrl(source)) {
    url = parseDownloadUrl('image pull', source);
    entry = catalog.find((e) => e.url === url.href);
  } else {
    entry = catalog.find((e) => e.name === source);
    if (!entry) throw new NotFoundError(`no image ${JSON.stringify(source)} in the catalog`, 'list the names with: kvmctl image catalog; a volume is POOL/VOLUME, a local file ./FILE or /path/FILE, a download https://…');
    url = new URL(entry.url);
  }
  const fromUrl = posix.basename(url.pathname);
  const name = o.name ?? (entry ? validateImageName(`from catalog entry ${entry.name}`, entry.name + extensionOf(url)) : validateImageName(`the last part of ${url.href}`, fromUrl));
  const useEntry = checksum === undefined && sums === undefined;
  const spec: PullSpec = { url: url.href, name, pool, catalog: entry, checksum: checksum ?? (useEntry ? entry?.checksum : undefined), sums: sums ?? (useEntry ? entry?.sums : undefined) };
  if (spec.checksum === undefined && spec.sums === undefined) {
    throw new UsageError(`image ${url.href}: no checksum to verify it against`, 'give --checksum sha256:HEX or --sums URL-of-SHA256SUMS (kvmctl never publishes an image it has not verified)');
  }
  return spec;
}

export interface PullResult {
  image: ImageRecord;
  unchanged: boolean;
  downloadedBytes: number;
  resumedFromBytes: number;
}

/** The digest the image must have: given, or read from the SUMS file (its signature checked when the catalog names one). */
async function expectedDigest(ctx: Context, spec: PullSpec, what: string): Promise<Digest> {
  if (spec.checksum) return spec.checksum;
  const sumsUrl = spec.sums!;
  const raw = await httpGetSmall(`${what}: checksum file`, sumsUrl, ctx.signal);
  const text = raw.toString('utf8');
  const fileName = posix.basename(new URL(spec.url).pathname);
  if (spec.catalog?.sumsSignature && sumsUrl === spec.catalog.sums) await checkSignature(ctx, spec.catalog, raw, what);
  const digest = digestFromSums(text, fileName);
  if (!digest) {
    throw new RefusedError(`${what}: the checksum file ${sumsUrl} has no (single) sha256 or sha512 entry for ${fileName}`, 'nothing was downloaded; check that the SUMS file belongs to the image, or give --checksum sha256:HEX');
  }
  return digest;
}

async function checkSignature(ctx: Context, entry: CatalogEntry, sums: Buffer, what: string): Promise<void> {
  const keyring = entry.keyring;
  if (!keyring || !(await ctx.fs.read(keyring).then((t) => t !== undefined))) {
    ctx.out.warn(`${what}: the signature of ${entry.sums} was not checked: keyring ${keyring ?? '(none named)'} is not installed`);
    return;
  }
  const signature = await httpGetSmall(`${what}: checksum signature`, entry.sumsSignature!, ctx.signal, 1024 * 1024);
  const dir = await mkdtemp(posix.join(tmpdir(), 'kvmctl-sums-'));
  try {
    await writeFile(posix.join(dir, 'SUMS'), sums);
    await writeFile(posix.join(dir, 'SUMS.sig'), signature);
    const r = await verifySignature(ctx.runner, keyring, posix.join(dir, 'SUMS.sig'), posix.join(dir, 'SUMS'));
    if (r.exitCode !== 0) {
      throw new RefusedError(`${what}: the signature of ${entry.sums} does not verify against ${keyring}: ${r.stderr.trim().split('\n').pop() ?? ''}`, 'nothing was downloaded; the checksum file may have been tampered with, try again later or report it to the distribution');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sameSource(record: ImageRecord | undefined, spec: PullSpec): boolean {
  if (!record || record.source !== spec.url) return false;
  return spec.checksum === undefined || record.digest === formatDigest(spec.checksum);
}

/** Downloads, verifies and publishes one image; a second run finds it and changes nothing. */
export async function pullImage(ctx: Context, spec: PullSpec): Promise<PullResult>;
export async function pullImage(ctx: Context, spec: PullSpec, o: { cachedOnly: true }): Promise<PullResult | undefined>;
export async function pullImage(ctx: Context, spec: PullSpec, o: { cachedOnly?: boolean } = {}): Promise<PullResult | undefined> {
  const ref = `${spec.pool}/${spec.name}`;
  const what = `image pull ${ref}`;
  const locate = async () => {
    const view = await readStorage(ctx, { pools: [spec.pool], domains: false });
    const pool = requireActivePool(view, spec.pool);
    const finalPath = localFileFor(ctx, pool, spec.name);
    if (finalPath === undefined || pool.targetPath === undefined) {
      throw new RefusedError(`${what}: pool ${pool.name} is a ${pool.type} pool${ctx.uri.includes('://') && !finalPath ? ' (or on another host)' : ''}; images are pulled into a directory pool on this machine`, 'give --pool with a dir pool of this host (kvmctl pool list)');
    }
    return { view, pool, finalPath, poolDir: pool.targetPath };
  };
  // Found without taking the lock: a second VM of the same image waits for nothing.
  const first = await locate();
  const cached = findVolume(first.view, { pool: spec.pool, volume: spec.name }) ? await readImageRecord(first.poolDir, spec.name) : undefined;
  if (sameSource(cached, spec)) return { image: cached!, unchanged: true, downloadedBytes: 0, resumedFromBytes: 0 };
  if (o.cachedOnly) return undefined;

  // One download per image: a second pull of it waits here, then finds it published.
  const key = `${ctx.uri} image ${ref}`;
  const locked = <T>(fn: () => Promise<T>) => (ctx.dryRun ? fn() : withLock(key, { dir: ctx.stateDir, signal: ctx.signal, timeoutMs: 6 * 3600_000 }, fn));
  return locked(async () => {
    const { view, pool, finalPath, poolDir } = await locate();
    const paths = imagePaths(poolDir, spec.name);
    const existing = findVolume(view, { pool: spec.pool, volume: spec.name });
    const record = existing ? await readImageRecord(poolDir, spec.name) : undefined;
    if (existing) {
      if (sameSource(record, spec)) return { image: record!, unchanged: true, downloadedBytes: 0, resumedFromBytes: 0 };
      throw new ConflictError(
        `volume ${ref} already exists${record ? ` and was pulled from ${record.source} (${record.digest})` : ' and was not pulled by kvmctl'}`,
        'choose another name with --name, or remove it first (kvmctl image remove, or kvmctl volume delete)',
      );
    }
    if (await realStorageFiles.stat(finalPath)) throw new ConflictError(`${what}: a file that is not a volume of pool ${pool.name} exists at ${finalPath}; kvmctl never overwrites it`, `choose another name with --name, or look at the file (${kvmctlCommand(ctx.uri, 'pool', 'refresh', pool.name)} lists it)`);
    const expected = await expectedDigest(ctx, spec, what);
    if (ctx.dryRun) {
      ctx.io.stderr(`would download ${spec.url} to ${paths.part}, verify its ${expected.algorithm} and publish it read-only as ${finalPath}\n`);
      return { image: newRecord(spec, finalPath, expected, 0, 'unknown'), unchanged: false, downloadedBytes: 0, resumedFromBytes: 0 };
    }
    await mkdir(paths.dir, { recursive: true, mode: 0o755 });
    await checkImageDir(paths.dir);
    const meter = await downloadMeter(ctx, `pulling ${spec.name}`);
    let got;
    try {
      got = await download({
        what,
        url: spec.url,
        partPath: paths.part,
        statePath: paths.partState,
        algorithm: expected.algorithm,
        signal: ctx.signal,
        checkSize: (total) => checkFreeSpace(pool, total, false, `${what} (${formatBytes(total)})`),
        onProgress: (done, total) => meter.update(done, total),
      });
    } catch (e) {
      // The folder goes again unless it holds something (a partial download kept for resuming).
      await rmdir(paths.dir).catch(() => undefined);
      throw e;
    } finally {
      meter.stop();
    }
    const discard = async () => {
      await Promise.all([rm(paths.part, { force: true }), rm(paths.partState, { force: true })]);
      await rmdir(paths.dir).catch(() => undefined);
    };
    if (got.digest.hex !== expected.hex) {
      await discard();
      throw new RefusedError(
        `${what}: ${spec.url} has the wrong ${expected.algorithm} digest: expected ${expected.hex}, got ${got.digest.hex}; nothing was published and the download was removed`,
        'the file changed or was damaged on the way; pull again, and if it persists check the checksum source',
      );
    }
    let format: string;
    try {
      // The same header checks as volume import: an image that refers to host files is refused.
      format = (await inspectSource(new QemuImg(ctx.runner), paths.part, {}, realStorageFiles)).format;
    } catch (e) {
      await discard();
      throw e;
    }
    const image = newRecord(spec, finalPath, expected, got.bytes, format);
    await publish(ctx, what, spec.pool, paths, finalPath, image);
    return { image, unchanged: false, downloadedBytes: got.bytes - got.resumedFromBytes, resumedFromBytes: got.resumedFromBytes };
  });
}

function newRecord(spec: PullSpec, path: string, digest: Digest, sizeBytes: number, format: string): ImageRecord {
  return { name: spec.name, pool: spec.pool, path, source: spec.url, catalogName: spec.catalog?.name, digest: formatDigest(digest), sizeBytes, format, pulledAt: new Date().toISOString() };
}

/** The verified file, made read-only, gets its final name (link(2): never over another file), then its record. */
async function publish(ctx: Context, what: string, pool: string, paths: ReturnType<typeof imagePaths>, finalPath: string, image: ImageRecord): Promise<void> {
  const newMeta = `${paths.meta}.new`;
  const conflict = (r: CommandResult) =>
    appeared(r) ? new ConflictError(`${finalPath} appeared while kvmctl was pulling it (another process?); it was left untouched`, 'choose another name with --name') : undefined;
  await runPlan(ctx, {
    label: what,
    steps: [
      { what: `${paths.part} read-only`, do: { command: fileCommands.makeReadOnly(paths.part) } },
      { what: `image ${finalPath}`, do: { command: fileCommands.link(paths.part, finalPath), failure: conflict }, undo: { command: fileCommands.remove(finalPath) } },
      { what: `image record ${newMeta}`, do: { run: () => writeFileNoFollow(newMeta, JSON.stringify(image, null, 2) + '\n', 0o644), describe: `write ${newMeta}` } },
      { what: `image record ${paths.meta}`, do: { command: fileCommands.replace(newMeta, paths.meta) }, undo: { command: fileCommands.remove(paths.meta) } },
      { what: `download ${paths.part} removed`, do: { command: fileCommands.remove(paths.part) } },
      { what: `download state ${paths.partState} removed`, do: { command: fileCommands.remove(paths.partState) } },
      { what: `storage pool ${pool} (refreshed)`, do: { virsh: poolCalls.refresh(pool) } },
    ],
  });
}
