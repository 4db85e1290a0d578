/**
 * What `net nat enable` changed besides its tagged rules, so that `disable`
 * undoes exactly that: whether kvmctl turned ip_forward on, and the gateway
 * address it gave each bridge. ip_forward belongs to a network namespace, so
 * the record is kept per namespace, keyed by the namespace's inode.
 */
import { mkdir, readFile, readlink, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface NatBridgeState {
  subnet: string;
  out?: string;
  /** The gateway address kvmctl added to the bridge ("10.0.0.1/24"); absent when it was there already. */
  addedAddress?: string;
}

export interface NatState {
  /** True when kvmctl turned net.ipv4.ip_forward on (it was off). */
  ipForwardChanged: boolean;
  bridges: Record<string, NatBridgeState>;
}

export interface NatStateStore {
  /** Where the record lives, for messages. */
  readonly location: string;
  load(): Promise<NatState>;
  /** Writes the record; an empty one removes it. */
  save(state: NatState): Promise<void>;
}

export function emptyNatState(): NatState {
  return { ipForwardChanged: false, bridges: {} };
}

function isEmpty(state: NatState): boolean {
  return !state.ipForwardChanged && Object.keys(state.bridges).length === 0;
}

/** "net:[4026531840]" (the link /proc/self/ns/net points to) -> "4026531840". */
export function netnsIdFromLink(link: string): string {
  const m = /^net:\[(\d+)\]$/.exec(link.trim());
  if (!m?.[1]) throw new Error(`unexpected network namespace link ${JSON.stringify(link)}`);
  return m[1];
}

export async function currentNetnsId(): Promise<string> {
  return netnsIdFromLink(await readlink('/proc/self/ns/net'));
}

/** The record of one network namespace as a JSON file under DIR/net/. */
export function fileNatStateStore(dir: string, netnsId: string): NatStateStore {
  const file = join(dir, 'net', `nat-netns-${netnsId}.json`);
  return {
    location: file,
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyNatState();
        throw e;
      }
      const parsed = JSON.parse(text) as Partial<NatState>;
      return { ipForwardChanged: parsed.ipForwardChanged === true, bridges: parsed.bridges ?? {} };
    },
    async save(state) {
      if (isEmpty(state)) {
        await unlink(file).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
        return;
      }
      await mkdir(join(dir, 'net'), { recursive: true, mode: 0o700 });
      // Write then rename, so a crash never leaves half a record.
      await writeFile(file + '.tmp', JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
      await rename(file + '.tmp', file);
    },
  };
}

/** An in-memory record, for tests. */
export function memoryNatStateStore(initial: NatState = emptyNatState()): NatStateStore & { state: NatState } {
  const store = {
    location: 'memory',
    state: structuredClone(initial),
    async load() {
      return structuredClone(store.state);
    },
    async save(state: NatState) {
      store.state = structuredClone(state);
    },
  };
  return store;
}

/** The record of the network namespace this process runs in. */
export async function currentNatStateStore(dir: string): Promise<NatStateStore & { netnsId: string }> {
  const netnsId = await currentNetnsId();
  return { ...fileNatStateStore(dir, netnsId), netnsId };
}
