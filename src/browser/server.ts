import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

/** What a URL prefix serves: a folder on disk, or files held in memory (relative path -> bytes). */
export type Mount = string | ReadonlyMap<string, Uint8Array | string>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
};

export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * A static file server on 127.0.0.1 and a free port, for the browser: GET only, each URL
 * prefix (`/tfjs/`) mapped to a folder or to in-memory files; a path that leaves its folder
 * is a 404, as is everything not mounted. Pages are cross-origin isolated (COOP/COEP
 * headers; everything is same-origin): Chromium then gives performance.now() 5 us
 * resolution instead of 100 us, which batch-1 latencies of a fraction of a millisecond need.
 */
export async function startStaticServer(mounts: Readonly<Record<string, Mount>>): Promise<StaticServer> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const prefix = prefixes.find((p) => path.startsWith(p));
      const body = req.method === 'GET' && prefix !== undefined ? await lookup(mounts[prefix], path.slice(prefix.length)) : null;
      if (body === null) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, {
          'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        })
        .end(body);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

async function lookup(mount: Mount, rel: string): Promise<Uint8Array | string | null> {
  if (typeof mount !== 'string') return mount.get(rel) ?? null;
  const root = resolve(mount);
  const file = resolve(root, rel);
  if (!file.startsWith(root + sep)) return null;
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}
