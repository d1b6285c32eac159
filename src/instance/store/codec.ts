/**
 * Compression of stored messages and metadata. Brotli at a middle quality: mail is mostly text,
 * brotli beats deflate on it by 10–20 %, and quality 5 keeps ingest well above 1,000 msg/s on two cores.
 */
import zlib from 'node:zlib';

const BROTLI_QUALITY = 5;

export function compress(data: Buffer): Buffer {
  return zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
}

export function decompress(data: Buffer): Buffer {
  return zlib.brotliDecompressSync(data);
}

export function compressJson(value: unknown): Buffer {
  return compress(Buffer.from(JSON.stringify(value), 'utf8'));
}

export function decompressJson<T>(data: Buffer): T {
  return JSON.parse(decompress(data).toString('utf8')) as T;
}
