/**
 * Expected digests: `--checksum sha256:HEX`, and the SUMS files distributions
 * publish next to their images, in both layouts in use: GNU coreutils
 * (`HEX  NAME`, `HEX *NAME`) and BSD/Fedora (`SHA256 (NAME) = HEX`).
 */
import { UsageError } from '../errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
}

export function formatDigest(d: Digest): string {
  return `${d.algorithm}:${d.hex}`;
}

export function parseChecksum(flag: string, text: string): Digest {
  const m = /^(sha256|sha512):([0-9a-fA-F]+)$/.exec(text.trim());
  const algorithm = m?.[1] as DigestAlgorithm | undefined;
  if (!m || !algorithm || m[2]!.length !== HEX_LENGTH[algorithm]) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}`, 'give sha256:<64 hex digits> or sha512:<128 hex digits>, as printed by sha256sum or sha512sum');
  }
  return { algorithm, hex: m[2]!.toLowerCase() };
}

/** The algorithm a SUMS file holds, from its digests' length. */
function algorithmOfHex(hex: string): DigestAlgorithm | undefined {
  return DIGEST_ALGORITHMS.find((a) => HEX_LENGTH[a] === hex.length);
}

/**
 * The digest listed for fileName in a SUMS file, or undefined when the file
 * has no entry for it.
 */
export function digestFromSums(text: string, fileName: string): Digest | undefined {
  const found: Digest[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const gnu = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{128})\s+\*?(?:\.\/)?(.+)$/.exec(line);
    const bsd = /^(SHA256|SHA512)\s*\((?:\.\/)?(.+)\)\s*=\s*([0-9a-fA-F]+)$/i.exec(line);
    let hex: string | undefined;
    let name: string | undefined;
    if (gnu) [hex, name] = [gnu[1], gnu[2]];
    else if (bsd) [name, hex] = [bsd[2], bsd[3]];
    if (hex === undefined || name !== fileName) continue;
    const algorithm = algorithmOfHex(hex);
    if (algorithm === undefined || (bsd && bsd[1]!.toLowerCase() !== algorithm)) continue;
    found.push({ algorithm, hex: hex.toLowerCase() });
  }
  // The same name listed with two different digests of one algorithm is no answer.
  for (const a of DIGEST_ALGORITHMS) {
    if (new Set(found.filter((d) => d.algorithm === a).map((d) => d.hex)).size > 1) return undefined;
  }
  return found.find((d) => d.algorithm === 'sha512') ?? found[0];
}
