// The UI's HTTP server (node:http): the page and its bundle from dist/ui/web, the JSON API of
// docs/ui.md over UiBackend, restore progress as server-sent events. Loopback by default; bound
// elsewhere every request needs the token printed at start. A failing request answers one JSON error
// and the server keeps running.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionError, CoverageError, TargetExistsError, UsageError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { errorMessage, type UiBackend } from './ui-backend.js';

/** The built front end: dist/ui/web next to this file's dist/ui/ui-server.js. */
export const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.map': 'application/json' };
const STATIC = new Set(['index.html', 'app.js', 'app.css', 'app.js.map']);
const LOOPBACK_HOSTS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

export interface UiServerOptions {
  backend: UiBackend;
  port: number;
  bind: string;
  /** Required on every request when set (bound beyond loopback). */
  token?: string;
  webDir?: string;
}

export function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\./.test(bind);
}

/** HTTP status of an error: bad input 400, an existing target 409, a server out of reach 503. */
export function httpStatus(err: unknown): number {
  if (err instanceof TargetExistsError) return 409;
  if (err instanceof UsageError || err instanceof CoverageError) return 400;
  if (err instanceof ConnectionError) return 503;
  return 500;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'pitr_ui_token') return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new UsageError('send the request body as application/json.');
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > 64 * 1024) throw new UsageError('the request body is too large.');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new UsageError('the request body is not valid JSON.');
  }
}

export function createUiServer(opts: UiServerOptions): Server {
  const web = opts.webDir ?? WEB_DIR;
  const log = logger().child({ component: 'ui' });
  const b = opts.backend;
  const api: Record<string, (q: Record<string, string>, req: IncomingMessage) => Promise<unknown> | unknown> = {
    'GET /api/status': () => b.status(),
    'GET /api/timeline': (q) => b.timeline(q),
    'GET /api/table-rows': () => b.tableRows(),
    'GET /api/table': (q) => b.tableAt(q),
    'GET /api/diff': (q) => b.diff(q),
    'GET /api/history': (q) => b.history(q),
    'POST /api/restore/command': async (_q, req) => b.restoreCommand(await readBody(req)),
    'POST /api/restore': async (_q, req) => b.startRestore(await readBody(req)),
  };

  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://ui');
      const route = `${req.method} ${url.pathname}`;
      try {
        // A page elsewhere must not reach a loopback server through a name that resolves to it (DNS rebinding).
        if (!opts.token && !LOOPBACK_HOSTS.test(req.headers.host ?? '')) {
          sendJson(res, 403, { error: 'this server answers only to localhost or 127.0.0.1.' });
          return;
        }
        if (opts.token) {
          const given = url.searchParams.get('token') ?? (req.headers.authorization?.replace(/^Bearer\s+/i, '') || undefined) ?? cookieToken(req);
          if (!sameToken(given ?? undefined, opts.token)) {
            sendJson(res, 401, { error: 'this pitr ui needs the token it printed at start: open the URL it printed, or send Authorization: Bearer TOKEN.' });
            return;
          }
          if (url.searchParams.has('token')) res.setHeader('set-cookie', `pitr_ui_token=${encodeURIComponent(opts.token)}; HttpOnly; SameSite=Strict; Path=/`);
        }
        const q = Object.fromEntries(url.searchParams);
        const events = /^\/api\/restore\/([0-9a-f]+)\/events$/.exec(url.pathname);
        if (req.method === 'GET' && events) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
          const write = (e: unknown) => res.write(`data: ${JSON.stringify(e)}\n\n`);
          const stop = b.followRestore(events[1]!, write, () => res.end());
          if (!stop) {
            write({ type: 'error', message: `no restore ${events[1]} is known to this server.` });
            res.end();
            return;
          }
          req.on('close', stop);
          return;
        }
        const handler = api[route];
        if (handler) {
          sendJson(res, 200, await handler(q, req));
          return;
        }
        if (req.method === 'GET' && !url.pathname.startsWith('/api/')) {
          const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
          if (STATIC.has(name)) {
            const body = await readFile(join(web, name)).catch(() => undefined);
            if (body) {
              res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
              res.end(body);
              return;
            }
            if (name === 'index.html') {
              sendJson(res, 500, { error: `the UI's page is not built (${join(web, name)} is missing); run npm run build.` });
              return;
            }
          }
        }
        sendJson(res, 404, { error: `no such endpoint: ${route} (see docs/ui.md).` });
      } catch (err) {
        const status = httpStatus(err);
        if (status >= 500) log.warn({ route, err: errorMessage(err) }, 'request failed');
        if (!res.headersSent) sendJson(res, status, { error: errorMessage(err) });
        else res.end();
      }
    })();
  });
}
