/**
 * The application's own static files (`public/web/` at the repository root): one stylesheet and one
 * small script, read once at start, served with a content hash in the URL, long caching and a
 * gzip copy made up front (no compression plugin needed for two files).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface StaticAsset { body: Buffer; gzip: Buffer; contentType: string; etag: string }
export interface StaticAssets { version: string; files: Map<string, StaticAsset> }

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
export const ASSET_FILES = ['app.js', 'app.css'] as const;

export function defaultPublicDir(): string {
  // src/cas/web/assets.ts and dist/cas/web/assets.js are both three levels below the repository root.
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../public/web');
}

export function loadStaticAssets(dir = defaultPublicDir()): StaticAssets {
  const files = new Map<string, StaticAsset>();
  const h = createHash('sha256');
  for (const name of ASSET_FILES) {
    const body = readFileSync(path.join(dir, name));
    h.update(body);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    files.set(name, { body, gzip: gzipSync(body, { level: 9 }), contentType: TYPES[path.extname(name)]!, etag });
  }
  return { version: h.digest('base64url').slice(0, 10), files };
}
