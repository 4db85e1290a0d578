import type { Script } from 'node:vm';

export interface LoadedBundle {
  exports: Record<string, unknown>;
  script: Script;
  digest: Buffer;
  /** used; absent: none for this bundle and Node version; rejected: by V8 (other flags). */
  cache: 'used' | 'absent' | 'rejected';
}

export function cachePathOf(bundlePath: string): string;
export function loadBundle(bundlePath: string): LoadedBundle;
export function saveCodeCache(bundlePath: string, loaded: LoadedBundle): void;
