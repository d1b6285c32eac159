/**
 * Frame codec for role-to-role RPC: [u32 length][u8 type][payload]. Length counts type+payload.
 * JSON frames carry requests, responses, errors, stream ends and events; binary frames carry
 * stream chunks and flow-control credit, prefixed with the u32 stream id.
 */
export const enum FrameType {
  Request = 1,
  Response = 2,
  Error = 3,
  Chunk = 4,
  End = 5,
  Event = 6,
  Credit = 7,
  Hello = 8,
  Cancel = 9,
  /** A request carrying binary buffers: u32 jsonBytes | JSON {id, method, params, sizes} | the buffers. */
  RequestWithData = 10,
  /** A response carrying binary buffers, same layout: u32 jsonBytes | JSON {id, result, sizes} | the buffers. */
  ResponseWithData = 11,
}

/** A frame larger than this is a protocol error: chunks are 64 KiB; an ingest batch is at most 32 MiB or one message of at most MAX_MESSAGE_BYTES. */
export const MAX_FRAME_BYTES = 160 * 1024 * 1024;
/** The largest message the archive takes (mail servers stop far below; this bounds memory per batch). */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

export interface Frame {
  type: FrameType;
  /**
   * The payload in the pieces it arrived in (one piece when it arrived in one read): a frame of
   * megabytes of message data is not copied into one buffer only to be cut apart again.
   */
  parts: Buffer[];
}

/** A frame's payload as one buffer (copied only when it arrived in pieces). */
export function joined(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Byte ranges of a payload that arrived in pieces, read front to back: views where a range lies in one piece. */
class Pieces {
  private index = 0;
  private base = 0;
  constructor(private readonly parts: readonly Buffer[]) {}

  /** Bytes [from, to) of the payload; `from` never goes back. */
  slice(from: number, to: number): Buffer {
    while (this.index < this.parts.length && from >= this.base + this.parts[this.index]!.length) {
      this.base += this.parts[this.index]!.length;
      this.index++;
    }
    const first = this.parts[this.index];
    if (first === undefined || from === to) return Buffer.alloc(0);
    if (to <= this.base + first.length) return first.subarray(from - this.base, to - this.base);
    const pieces: Buffer[] = [];
    let at = this.base;
    for (let i = this.index; i < this.parts.length && at < to; i++) {
      const p = this.parts[i]!;
      const a = Math.max(from, at), b = Math.min(to, at + p.length);
      if (b > a) pieces.push(p.subarray(a - at, b - at));
      at += p.length;
    }
    return Buffer.concat(pieces);
  }
}

export function encodeJson(type: FrameType, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out[4] = type;
  body.copy(out, 5);
  return out;
}

export function encodeBinary(type: FrameType, id: number, data: Buffer | null, extra?: number): Buffer {
  const dataLen = data ? data.length : 4;
  const out = Buffer.allocUnsafe(9 + dataLen);
  out.writeUInt32BE(dataLen + 5, 0);
  out[4] = type;
  out.writeUInt32BE(id, 5);
  if (data) data.copy(out, 9);
  else out.writeUInt32BE(extra ?? 0, 9);
  return out;
}

export function encodeRequestWithData(request: { id: number; method: string; params: unknown }, buffers: Buffer[]): Buffer[] {
  return encodeWithData(FrameType.RequestWithData, request, buffers);
}

export function encodeResponseWithData(response: { id: number; result: unknown }, buffers: Buffer[]): Buffer[] {
  return encodeWithData(FrameType.ResponseWithData, response, buffers);
}

function encodeWithData(type: FrameType, value: object, buffers: Buffer[]): Buffer[] {
  const json = Buffer.from(JSON.stringify({ ...value, sizes: buffers.map((b) => b.length) }), 'utf8');
  const head = Buffer.allocUnsafe(9 + json.length);
  const total = 1 + 4 + json.length + buffers.reduce((n, b) => n + b.length, 0);
  head.writeUInt32BE(total, 0);
  head[4] = type;
  head.writeUInt32BE(json.length, 5);
  json.copy(head, 9);
  return [head, ...buffers];
}

/** The JSON part and the buffers of a RequestWithData or ResponseWithData payload (views of the received bytes). */
export function decodeWithData<T>(parts: readonly Buffer[]): { value: T & { sizes: number[] }; data: Buffer[] } {
  const payload = new Pieces(parts);
  const jsonLen = payload.slice(0, 4).readUInt32BE(0);
  const value = JSON.parse(payload.slice(4, 4 + jsonLen).toString('utf8')) as T & { sizes: number[] };
  const data: Buffer[] = [];
  let off = 4 + jsonLen;
  for (const n of value.sizes) { data.push(payload.slice(off, off + n)); off += n; }
  return { value, data };
}

/** Incremental decoder: push chunks, get whole frames; never copies a payload that spans chunks (see Frame.parts). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= 5) {
      const head = this.peek(5);
      const len = head.readUInt32BE(0);
      if (len < 1 || len > MAX_FRAME_BYTES) throw new Error(`RPC frame length ${len} out of range`);
      if (this.buffered < 4 + len) break;
      const type = head[4] as FrameType;
      this.take(5);
      frames.push({ type, parts: this.take(len - 1) });
    }
    return frames;
  }

  /** The first `n` bytes in one buffer (joined only when the first chunk is shorter). */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const merged = Buffer.concat(this.chunks);
    this.chunks = [merged];
    return merged;
  }

  /** The next `n` bytes, as views of the chunks they are in. */
  private take(n: number): Buffer[] {
    const out: Buffer[] = [];
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        out.push(first);
        this.chunks.shift();
        n -= first.length;
      } else {
        out.push(first.subarray(0, n));
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
    if (out.length === 0) out.push(Buffer.alloc(0));
    return out;
  }
}
