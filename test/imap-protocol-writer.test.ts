import { once } from 'node:events';
import { createServer, connect, type Socket, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputStallError, ResponseWriter, type LiteralSizeMismatch } from '../src/cas/imap/protocol/writer.js';
import { badCharset, serverBug } from '../src/cas/imap/protocol/errors.js';
import { literal } from '../src/cas/imap/protocol/quote.js';

interface SocketPair {
  server: Server;
  serverSide: Socket;
  clientSide: Socket;
}

const open: SocketPair[] = [];

async function socketPair(): Promise<SocketPair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(server, 'connection');
  const clientSide = connect(address.port, '127.0.0.1');
  await once(clientSide, 'connect');
  const [serverSide] = (await accepted) as [Socket];
  const pair = { server, serverSide, clientSide };
  open.push(pair);
  return pair;
}

afterEach(async () => {
  for (const { server, serverSide, clientSide } of open.splice(0)) {
    serverSide.destroy();
    clientSide.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Reads everything the client side receives until `total` bytes have arrived. */
async function readExactly(socket: Socket, total: number, delayMsPerChunk = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  socket.pause();
  while (received < total) {
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) {
      await once(socket, 'readable');
      continue;
    }
    chunks.push(chunk);
    received += chunk.length;
    if (delayMsPerChunk > 0) await new Promise((resolve) => setTimeout(resolve, delayMsPerChunk));
  }
  return Buffer.concat(chunks);
}

function pattern(bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  for (let k = 0; k < bytes; k++) buf[k] = 0x41 + (k % 26);
  return buf;
}

async function* chunksOf(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let k = 0; k < buf.length; k += size) yield buf.subarray(k, k + size);
}

describe('IMAP response writer', () => {
  it('writes untagged, tagged, continuation and error responses', async () => {
    const { serverSide, clientSide } = await socketPair();
    const writer = new ResponseWriter(serverSide);
    await writer.untagged('OK [CAPABILITY IMAP4rev1] Coffer ready');
    await writer.tagged('a1', 'NO', { name: 'NOPERM' }, 'The archive is read-only');
    await writer.tagged('a2', 'OK', undefined, 'line\r\nbreak');
    await writer.continuation();
    await writer.taggedError('a3', badCharset('KOI8-R'));
    await writer.taggedError(null, badCharset('X'));
    await writer.taggedError('a4', serverBug('2026-11-26T13:00:00Z c17'));
    const expected =
      '* OK [CAPABILITY IMAP4rev1] Coffer ready\r\n' +
      'a1 NO [NOPERM] The archive is read-only\r\n' +
      'a2 OK line  break\r\n' +
      '+ Ready\r\n' +
      'a3 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R\r\n' +
      '* NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset X\r\n' +
      'a4 NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2026-11-26T13:00:00Z c17]\r\n';
    expect((await readExactly(clientSide, expected.length)).toString()).toBe(expected);
  });

  it('writes a FETCH response item by item with literals, and keeps other responses out of it', async () => {
    const { serverSide, clientSide } = await socketPair();
    const writer = new ResponseWriter(serverSide);
    const fetch = await writer.fetch(3);
    await fetch.item('UID', '17');
    const interloper = writer.untagged('3 EXISTS');
    await fetch.item('FLAGS', '(\\Seen)');
    await fetch.literal('BODY[TEXT]', 5, Buffer.from('hello'));
    await fetch.item('BODY[HEADER.FIELDS (Subject)]', [literal('Subject: x\r\n\r\n')]);
    await fetch.end();
    await interloper;
    const expected = '* 3 FETCH (UID 17 FLAGS (\\Seen) BODY[TEXT] {5}\r\nhello BODY[HEADER.FIELDS (Subject)] {14}\r\nSubject: x\r\n\r\n)\r\n* 3 EXISTS\r\n';
    expect((await readExactly(clientSide, expected.length)).toString()).toBe(expected);
  });

  it('waits for drain with a slow reader and delivers a streamed literal byte for byte', async () => {
    const { serverSide, clientSide } = await socketPair();
    let writesRefused = 0;
    const originalWrite = serverSide.write.bind(serverSide);
    let maxBuffered = 0;
    serverSide.write = ((chunk: Buffer) => {
      const isAccepted = originalWrite(chunk);
      if (!isAccepted) writesRefused++;
      maxBuffered = Math.max(maxBuffered, serverSide.writableLength);
      return isAccepted;
    }) as typeof serverSide.write;
    const writer = new ResponseWriter(serverSide);
    // Bigger than what loopback socket buffers take in (several MB with autotuning).
    const body = pattern(32 * 1024 * 1024);
    const header = '* 1 FETCH (BODY[] {33554432}\r\n';
    // The reader starts only once the writer has met a full socket (or after a while): loopback
    // buffers can take megabytes, and a reader that keeps up would never make write() refuse.
    clientSide.pause();
    const reading = (async () => {
      for (let waited = 0; writesRefused === 0 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      return readExactly(clientSide, header.length + body.length + 3);
    })();
    const fetch = await writer.fetch(1);
    await fetch.literal('BODY[]', body.length, Readable.from(chunksOf(body, 16 * 1024)));
    await fetch.end();
    const received = await reading;
    expect(received.subarray(0, header.length).toString()).toBe(header);
    expect(received.subarray(header.length, header.length + body.length).equals(body)).toBe(true);
    expect(received.subarray(header.length + body.length).toString()).toBe(')\r\n');
    expect(writesRefused).toBeGreaterThan(0);
    // Waiting for drain keeps the socket's own buffer near one high-water mark, not the whole body.
    expect(maxBuffered).toBeLessThan(256 * 1024);
  });

  it('pads a short literal with spaces and cuts a long one, reporting both as bugs', async () => {
    const { serverSide, clientSide } = await socketPair();
    const mismatches: LiteralSizeMismatch[] = [];
    const writer = new ResponseWriter(serverSide, { onLiteralSizeMismatch: (m) => mismatches.push(m) });
    const fetch = await writer.fetch(1);
    await fetch.literal('BODY[1]', 6, chunksOf(Buffer.from('abc'), 2));
    await fetch.literal('BODY[2]', 4, chunksOf(Buffer.from('0123456789'), 3));
    await fetch.literal('BODY[3]', 2, Buffer.from('xyz'));
    await fetch.end();
    const expected = '* 1 FETCH (BODY[1] {6}\r\nabc    BODY[2] {4}\r\n0123 BODY[3] {2}\r\nxy)\r\n';
    expect((await readExactly(clientSide, expected.length)).toString()).toBe(expected);
    expect(mismatches).toEqual([
      { itemName: 'BODY[1]', announcedBytes: 6, sourceBytes: 3 },
      { itemName: 'BODY[2]', announcedBytes: 4, sourceBytes: 6 },
      { itemName: 'BODY[3]', announcedBytes: 2, sourceBytes: 3 },
    ]);
  });

  it('completes the announced literal when its source fails, then rethrows', async () => {
    const { serverSide, clientSide } = await socketPair();
    const writer = new ResponseWriter(serverSide, { onLiteralSizeMismatch: () => undefined });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('ab');
      throw new Error('disk read failed');
    }
    const fetch = await writer.fetch(2);
    await expect(fetch.literal('BODY[]', 5, failing())).rejects.toThrow('disk read failed');
    await fetch.end();
    const expected = '* 2 FETCH (BODY[] {5}\r\nab   )\r\n';
    expect((await readExactly(clientSide, expected.length)).toString()).toBe(expected);
  });

  it('rejects a write that cannot drain within the output-stall timeout', async () => {
    const { serverSide, clientSide } = await socketPair();
    clientSide.pause();
    const writer = new ResponseWriter(serverSide, { outputStallTimeoutMs: 200 });
    const fetch = await writer.fetch(1);
    const started = Date.now();
    await expect(fetch.literal('BODY[]', 64 * 1024 * 1024, chunksOf(pattern(64 * 1024 * 1024), 64 * 1024))).rejects.toBeInstanceOf(OutputStallError);
    expect(Date.now() - started).toBeLessThan(10_000);
    fetch.abandon();
  });
});
