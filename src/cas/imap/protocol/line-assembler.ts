/**
 * Assembles one CRLF-terminated line from the input queue, bounded by a byte limit.
 *
 * Each received byte is looked at once. Kept pieces are copied, so a few bytes kept from each
 * received chunk cannot pin whole chunks in memory; of a line that turns out too long only the
 * head (for the tag) and the tail (for a trailing `{n+}`) are kept.
 */

import type { ByteQueue } from './byte-queue.js';
import { MAX_TAG_BYTES } from './limits.js';

/** Bytes of a line's end kept to spot a trailing literal announcement; 16 digits plus `~{+}` fit. */
export const LINE_TAIL_BYTES = 24;

const LF = 0x0a;
const CR = 0x0d;

export type LineReadResult =
  /** A complete line without its CRLF; `consumedBytes` counts the CRLF too. */
  | { readonly kind: 'line'; readonly line: Buffer; readonly consumedBytes: number }
  /**
   * The line exceeded the limit. Its bytes were consumed up to its LF if `isLineComplete`, else
   * up to the end of the input so far (the caller must skip the rest of the line). `head` holds
   * its first bytes, `tail` its last ones without the CR.
   */
  | { readonly kind: 'over-long'; readonly head: Buffer; readonly tail: Buffer; readonly isLineComplete: boolean };

function stripCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
}

export class LineAssembler {
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** The end of an over-long line whose middle was never copied. */
  private overflowTail: Buffer | null = null;

  /** Bytes held for the line being assembled. */
  get length(): number {
    return this.pieceBytes;
  }

  /** Reads from `input` until a line is complete (`line`), too long (`over-long`), or input runs out (null). */
  read(input: ByteQueue, limitBytes: number): LineReadResult | null {
    while (input.length > 0) {
      const chunk = input.peek();
      const lf = chunk.indexOf(LF);
      const pieceEnd = lf === -1 ? chunk.length : lf;
      // One byte of slack: the line may end in a CR that does not count.
      if (this.pieceBytes + pieceEnd > limitBytes + 1) {
        this.keepHeadAndTail(chunk.subarray(0, pieceEnd));
        input.consume(lf === -1 ? chunk.length : lf + 1);
        return this.overLong(lf !== -1);
      }
      this.add(chunk.subarray(0, pieceEnd));
      if (lf === -1) {
        input.consume(chunk.length);
        continue;
      }
      input.consume(lf + 1);
      const line = stripCr(this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pieceBytes));
      if (line.length > limitBytes) return this.overLong(true);
      const consumedBytes = this.pieceBytes + 1;
      this.clear();
      return { kind: 'line', line, consumedBytes };
    }
    return null;
  }

  clear(): void {
    this.pieces = [];
    this.pieceBytes = 0;
    this.overflowTail = null;
  }

  private add(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pieces.push(Buffer.from(piece));
    this.pieceBytes += piece.length;
  }

  private keepHeadAndTail(piece: Buffer): void {
    if (piece.length <= 4 * (MAX_TAG_BYTES + LINE_TAIL_BYTES)) {
      this.add(piece);
      return;
    }
    this.add(piece.subarray(0, Math.max(0, MAX_TAG_BYTES + 1 - this.pieceBytes)));
    this.overflowTail = Buffer.from(piece.subarray(piece.length - LINE_TAIL_BYTES - 1));
  }

  private overLong(isLineComplete: boolean): LineReadResult {
    const all = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.pieceBytes);
    const head = all.subarray(0, MAX_TAG_BYTES + 1);
    const tailSource = stripCr(this.overflowTail ?? all);
    const tail = tailSource.subarray(Math.max(0, tailSource.length - LINE_TAIL_BYTES));
    this.clear();
    return { kind: 'over-long', head, tail, isLineComplete };
  }
}
