/**
 * Reading an untrusted image's header with qemu-img, within limits
 * (UNTRUSTED_INFO_LIMITS): exceeding any of them is a refusal naming the
 * image and the limit, never a hang or a host out of memory. For every verb
 * that takes an image from outside the pools (volume import, and images
 * fetched from elsewhere).
 */
import { RefusedError } from '../errors.js';
import { CommandTimeoutError, ToolError, type Runner } from '../exec/runner.js';
import { formatBytes } from '../units/size.js';
import { parseImageInfo, qemuImg, UNTRUSTED_INFO_LIMITS, type ImageInfo } from './qemu-img.js';

const LIMITS_TEXT = `${formatBytes(UNTRUSTED_INFO_LIMITS.addressSpaceBytes)} of memory, ${UNTRUSTED_INFO_LIMITS.cpuSeconds} s of CPU, ${UNTRUSTED_INFO_LIMITS.timeoutMs / 1000} s in all`;
/** What qemu-img says, or how it ends, when prlimit's limits bite (allocation failures, SIGXCPU, abort). */
const LIMIT_HIT = /Cannot allocate memory|Failed to allocate|out of memory|Resource temporarily unavailable|killed by SIG(ABRT|XCPU|KILL|SEGV)/i;

function overLimit(path: string, detail: string): RefusedError {
  return new RefusedError(
    `image ${path}: qemu-img could not read its header within the limits for an untrusted image (${LIMITS_TEXT}): ${detail}`,
    'the header asks for more than any real image needs, or refers to something that never answers (a FIFO, a hung mount); kvmctl does not import it',
  );
}

export async function inspectUntrustedImage(runner: Runner, path: string, format: string): Promise<ImageInfo> {
  const cmd = qemuImg.untrustedInfo(path, format);
  let result;
  try {
    result = await runner.run(cmd);
  } catch (e) {
    if (e instanceof CommandTimeoutError) throw overLimit(path, `it was still running after ${UNTRUSTED_INFO_LIMITS.timeoutMs / 1000} s`);
    if (e instanceof Error && LIMIT_HIT.test(e.message)) throw overLimit(path, e.message);
    throw e;
  }
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').pop() ?? '';
    if (LIMIT_HIT.test(result.stderr) || result.exitCode === 134 || result.exitCode === 152) throw overLimit(path, detail || `exit ${result.exitCode}`);
    throw new ToolError(cmd, result);
  }
  return parseImageInfo(result.stdout)[0]!;
}
