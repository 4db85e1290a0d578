/**
 * kvmctl's HTTP client for images: undici's EnvHttpProxyAgent, so HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY are honoured like curl and wget do; TLS is always
 * verified, whatever NODE_TLS_REJECT_UNAUTHORIZED says (a private CA goes in
 * NODE_EXTRA_CA_CERTS). Redirects are followed here, so that each hop is
 * checked: http(s) only, and never from https down to http.
 */
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher } from 'undici';
import { InterruptedError, KvmctlError, NotFoundError } from '../errors.js';
import { parseDownloadUrl } from './catalog.js';

const MAX_REDIRECTS = 5;
const VERIFIED = { rejectUnauthorized: true };

let agent: Dispatcher | undefined;

async function dispatcher(): Promise<Dispatcher> {
  // Loaded on first use, to keep it out of every other command's start-up.
  // undici parses HTTP with a WebAssembly module; V8's optimising recompile of it
  // in the background takes some 35 MiB for a parser that only counts body bytes,
  // so the baseline compiler's code is kept (this process compiles no other wasm).
  setFlagsFromString('--liftoff-only');
  const { EnvHttpProxyAgent } = await import('undici');
  agent ??= new EnvHttpProxyAgent({ connect: VERIFIED, requestTls: VERIFIED, proxyTls: VERIFIED } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
  return agent;
}

export class HttpError extends KvmctlError {}

export interface Response {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  headers: Record<string, string | undefined>;
  body: Readable;
}

/** Drops a body not read: undici reports the abort as an error event, which must not go unheard. */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function header(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function describeNetworkError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.cause?.code ?? err.code;
  const message = err.cause?.message ?? err.message;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** GET url (with extra headers), following checked redirects. The caller consumes or destroys the body. */
export async function httpGet(what: string, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  const client = await dispatcher();
  let current = parseDownloadUrl(what, url);
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await client.request({ origin: current.origin, path: current.pathname + current.search, method: 'GET', headers: { 'user-agent': 'kvmctl', ...headers }, signal });
    } catch (e) {
      if (signal.aborted) throw new InterruptedError(`${what}: interrupted while connecting to ${current.host}`);
      throw new HttpError(`${what}: cannot reach ${current.href}: ${describeNetworkError(e)}`, 'check the URL, the network and the proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)', { cause: e });
    }
    const location = header(res.headers, 'location');
    if (res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
      discardBody(res.body);
      if (hop >= MAX_REDIRECTS) throw new HttpError(`${what}: more than ${MAX_REDIRECTS} redirects from ${url}`, 'give the final URL of the image');
      const next = parseDownloadUrl(`${what} (redirected by ${current.host})`, new URL(location, current).href);
      if (current.protocol === 'https:' && next.protocol === 'http:') {
        throw new HttpError(`${what}: ${current.href} redirects to ${next.href}, from https down to plain http`, 'refused: the image would travel unprotected; give an https URL that stays https');
      }
      current = next;
      continue;
    }
    const flat: Record<string, string | undefined> = {};
    for (const k of Object.keys(res.headers)) flat[k] = header(res.headers, k);
    return { url: current.href, status: res.statusCode, headers: flat, body: res.body };
  }
}

/** Throws the error an HTTP status means, after discarding the body. */
export function failForStatus(what: string, res: Response): never {
  discardBody(res.body);
  if (res.status === 404 || res.status === 410) {
    throw new NotFoundError(`${what}: ${res.url} not found (HTTP ${res.status})`, 'check the URL (or the catalog entry: kvmctl image catalog)');
  }
  const retry = res.status >= 500 || res.status === 429;
  throw new HttpError(`${what}: ${res.url} answered HTTP ${res.status}`, retry ? 'the server failed; try again later (a partial download is kept and resumed)' : 'check the URL and whether the server needs credentials kvmctl does not send');
}

/** A small file (a SUMS file, a signature): refused beyond maxBytes. */
export async function httpGetSmall(what: string, url: string, signal: AbortSignal, maxBytes = 4 * 1024 * 1024): Promise<Buffer> {
  const res = await httpGet(what, url, {}, signal);
  if (res.status !== 200) failForStatus(what, res);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        discardBody(res.body);
        throw new HttpError(`${what}: ${res.url} is larger than ${maxBytes} bytes, which no checksum file is`, 'check the URL');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof KvmctlError) throw e;
    if (signal.aborted) throw new InterruptedError(`${what}: interrupted`);
    throw new HttpError(`${what}: reading ${res.url} failed: ${describeNetworkError(e)}`, 'try again', { cause: e });
  }
  return Buffer.concat(chunks);
}

export { describeNetworkError };
