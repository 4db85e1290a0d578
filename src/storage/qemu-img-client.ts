/**
 * qemu-img bound to a runner: the one way storage code and verbs reach
 * qemu-img. Each method builds its argv with `qemuImg` (the format is always
 * named), runs it, and on failure throws a ToolError that names the image and
 * what to do. One client per connection: a host's runner makes its own.
 */
import type { Command } from '../exec/command.js';
import { CommandTimeoutError, ToolError, type Runner } from '../exec/runner.js';
import { RefusedError } from '../errors.js';
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

export class QemuImg {
  constructor(readonly runner: Runner) {}

  /** The image's own header (no chain). */
  async info(path: string, format: string): Promise<ImageInfo> {
    return parseImageInfo(await this.checked(qemuImg.info(path, format)))[0]!;
  }

  /** The image and, with followChain, every file of its backing chain (top first). */
  async infoChain(path: string, format: string, followChain: boolean): Promise<ImageInfo[]> {
    return parseImageInfo(await this.checked(qemuImg.info(path, format, followChain)));
  }

  /**
   * The header of an image nobody vouched for, read within UNTRUSTED_INFO_LIMITS:
   * exceeding any of them is a refusal naming the image and the limit, never a
   * hang or a host out of memory.
   */
  async inspectUntrusted(path: string, format: string): Promise<ImageInfo> {
    const cmd = qemuImg.untrustedInfo(path, format);
    let result;
    try {
      result = await this.runner.run(cmd);
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

  /** Writes dest (a fresh name: convert truncates an existing file) from src. */
  async convert(src: { path: string; format: string }, dest: string, destFormat: string): Promise<void> {
    await this.checked(qemuImg.convert(src.path, src.format, dest, destFormat));
  }

  /** Whether two images hold the same guest-visible data (exit 0 same, 1 different). */
  async sameContent(a: { path: string; format: string }, b: { path: string; format: string }): Promise<boolean> {
    const r = await this.runner.run(qemuImg.compare(a.path, a.format, b.path, b.format));
    return r.exitCode === 0;
  }

  async snapshotCreate(path: string, name: string): Promise<void> {
    await this.checked(qemuImg.snapshotCreate(path, name));
  }

  /** By id: a name that looks like an id cannot pick another snapshot. */
  async snapshotApply(path: string, id: string): Promise<void> {
    await this.checked(qemuImg.snapshotApply(path, id));
  }

  async snapshotDelete(path: string, name: string): Promise<void> {
    await this.checked(qemuImg.snapshotDelete(path, name));
  }

  private async checked(cmd: Command): Promise<string> {
    const result = await this.runner.run(cmd);
    if (result.exitCode !== 0) throw new ToolError(cmd, result);
    return result.stdout;
  }
}
