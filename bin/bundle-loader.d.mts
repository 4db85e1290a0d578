import type { Script } from 'node:vm';

export interface LoadedBundle {
  exports: Record<string, unknown>;
  script: Script;
  digest: Buffer;
  cacheUsed: boolean;
}

export function cachePathOf(bundlePath: string): string;
export function loadBundle(bundlePath: string): LoadedBundle;
export function saveCodeCache(bundlePath: string, loaded: LoadedBundle): void;
