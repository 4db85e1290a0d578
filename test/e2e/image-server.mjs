// An HTTP server for image pull tests, started by the test inside the lab's
// network namespace and listening on its loopback only. It serves the files of
// one folder and misbehaves on request, by path prefix:
//   /files/NAME       the file, with Range and If-Range support and an ETag
//   /redirect/NAME    302 to /files/NAME
//   /status/CODE      that status, empty body
//   /cut-once/NAME    the first GET sends half the file and drops the connection; later GETs behave like /files/
//   /lie/NAME         Content-Length of half the file, and that half (a truncated file HTTP cannot detect)
//   /slow/NAME        like /files/, 256 KiB every 50 ms
//   /huge/NAME        announces 1 PiB, sends nothing more
// Given a certificate and key (argv 3 and 4), the same on HTTPS, and a CONNECT
// proxy (to this loopback only) on a third port.
// Line 1 of stdout is {"port":N,"tlsPort":N,"proxyPort":N}; then one JSON line per request.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';

const root = process.argv[2];
const cutDone = new Set();

function fileOf(name) {
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) return undefined;
  try {
    const path = join(root, name);
    const s = statSync(path);
    if (!s.isFile()) return undefined;
    return { path, size: s.size, etag: '"' + createHash('sha1').update(`${name}:${s.mtimeMs}:${s.size}`).digest('hex') + '"' };
  } catch {
    return undefined;
  }
}

// The first half of a (small) file, for the misbehaving routes.
const firstHalf = (file) => readFileSync(file.path).subarray(0, Math.floor(file.size / 2));

function send(req, res, file, { slow = false } = {}) {
  let start = 0;
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range && (ifRange === undefined || ifRange === file.etag)) {
    start = Number(range[1]);
    if (start >= file.size) {
      res.writeHead(416, { 'content-range': `bytes */${file.size}` });
      return res.end();
    }
    status = 206;
  }
  const headers = { 'content-length': file.size - start, etag: file.etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (status === 206) headers['content-range'] = `bytes ${start}-${file.size - 1}/${file.size}`;
  res.writeHead(status, headers);
  if (!slow) return void createReadStream(file.path, { start, highWaterMark: 1 << 20 }).pipe(res);
  const body = readFileSync(file.path).subarray(start);
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    const piece = body.subarray(at, at + 262144);
    at += piece.length;
    if (at >= body.length) {
      clearInterval(timer);
      res.end(piece);
    } else res.write(piece);
  }, 50);
  res.on('close', () => clearInterval(timer));
}

function handle(req, res) {
  log({ method: req.method, url: req.url, range: req.headers.range ?? null, ifRange: req.headers['if-range'] ?? null });
  const [, kind, name] = /^\/([a-z-]+)\/([^/?]+)$/.exec(req.url ?? '') ?? [];
  if (kind === 'status') {
    res.writeHead(Number(name));
    return res.end();
  }
  if (kind === 'redirect') {
    res.writeHead(302, { location: `/files/${name}` });
    return res.end();
  }
  const file = name === undefined ? undefined : fileOf(name);
  if (!file) {
    res.writeHead(404);
    return res.end();
  }
  if (kind === 'files') return send(req, res, file);
  if (kind === 'slow') return send(req, res, file, { slow: true });
  if (kind === 'cut-once') {
    if (cutDone.has(name)) return send(req, res, file);
    cutDone.add(name);
    const half = firstHalf(file);
    res.writeHead(200, { 'content-length': file.size, etag: file.etag, 'accept-ranges': 'bytes' });
    res.write(half, () => setTimeout(() => res.socket?.destroy(), 100));
    return;
  }
  if (kind === 'lie') {
    const half = firstHalf(file);
    res.writeHead(200, { 'content-length': half.length, etag: file.etag });
    return res.end(half);
  }
  if (kind === 'huge') {
    res.writeHead(200, { 'content-length': String(2 ** 50) });
    res.write(Buffer.alloc(1024));
    return;
  }
  res.writeHead(404);
  res.end();
}

const log = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const listen = (srv) => new Promise((res) => srv.listen(0, '127.0.0.1', () => res(srv.address().port)));
const ports = { port: await listen(createServer(handle)) };
if (process.argv[3]) {
  ports.tlsPort = await listen(createTlsServer({ cert: readFileSync(process.argv[3]), key: readFileSync(process.argv[4]) }, handle));
  const proxy = createServer((req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, client, head) => {
    log({ method: 'CONNECT', url: req.url, range: null, ifRange: null });
    const m = /^127\.0\.0\.1:(\d+)$/.exec(req.url ?? '');
    if (!m) return client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const upstream = connect(Number(m[1]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  ports.proxyPort = await listen(proxy);
}
log(ports);
process.on('SIGTERM', () => process.exit(0));
