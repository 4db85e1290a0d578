/**
 * What a libvirt URI says about where the host is: `driver[+transport]://[user@][host][:port]/path[?params]`
 * (https://libvirt.org/uri.html). A URI without a host, or with the unix transport, names a daemon
 * on this machine; any other names another host, whose facts must come from that host.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_URI } from '../exec/command.js';

export interface LibvirtUri {
  driver: string;
  transport?: string;
  user?: string;
  host?: string;
  port?: string;
  path: string;
  params: URLSearchParams;
}

const URI = /^([a-z][a-z0-9.-]*)(?:\+([a-z0-9.-]+))?:\/\/(?:([^@/?]*)@)?(\[[^\]]*\]|[^:/?]*)(?::(\d+))?(\/[^?]*)?(?:\?(.*))?$/i;

export function parseLibvirtUri(uri: string): LibvirtUri | undefined {
  const m = URI.exec(uri);
  if (!m) return undefined;
  const host = m[4] ? m[4].replace(/^\[(.*)\]$/, '$1') : undefined;
  return {
    driver: m[1] ?? '',
    transport: m[2]?.toLowerCase(),
    user: m[3] ? decodeURIComponent(m[3]) : undefined,
    host: host ? decodeURIComponent(host) : undefined,
    port: m[5],
    path: m[6] ?? '',
    params: new URLSearchParams(m[7] ?? ''),
  };
}

/** True when the URI names a daemon on this machine (its facts may be read locally). */
export function isLocalUri(uri: string): boolean {
  const u = parseLibvirtUri(uri);
  if (!u) return true;
  if (u.transport === 'unix') return true;
  // qemu+ssh:///system still goes through ssh (to localhost), so only a bare driver:///path is local.
  return u.host === undefined && u.transport === undefined;
}

/** The URI a run connects to: --connect, else $KVMCTL_URI, else $LIBVIRT_DEFAULT_URI, else qemu:///system. */
// scheme:///path, scheme://host/path, scheme://user@host:port/path?query, test:///default
const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]*(\/[^\s]*)?$/i;

export function resolveUri(flag: string | undefined, env: Record<string, string | undefined>): string {
  // An empty variable is unset, as an empty KVMCTL_HOSTS is.
  const uri = flag ?? (env.KVMCTL_URI || undefined) ?? (env.LIBVIRT_DEFAULT_URI || undefined) ?? DEFAULT_URI;
  if (!URI_PATTERN.test(uri)) {
    const from = flag !== undefined ? '--connect' : env.KVMCTL_URI ? 'KVMCTL_URI' : 'LIBVIRT_DEFAULT_URI';
    throw new UsageError(
      `malformed libvirt URI ${JSON.stringify(uri)} (from ${from})`,
      'use a URI such as qemu:///system, qemu+ssh://root@host/system or qemu+unix:///system?socket=/path/libvirt-sock',
    );
  }
  return uri;
}
