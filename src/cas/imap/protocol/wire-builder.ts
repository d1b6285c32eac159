/**
 * Response bytes built in place: text is encoded and buffers are copied straight into large
 * chunks, so a header sync of thousands of messages allocates a few chunks, not a string and a
 * buffer per item. `take` hands over what was built; the chunk's unused rest is kept for more.
 */
const CHUNK_BYTES = 64 * 1024;

export class WireBuilder {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private sealed: Buffer[] = [];
  private sealedBytes = 0;

  /** Bytes built and not yet taken. */
  get length(): number {
    return this.sealedBytes + this.used;
  }

  /** Appends text as UTF-8. */
  text(s: string): this {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (this.used + s.length * 3 > this.chunk.length) this.fresh(s.length * 3);
    this.used += this.chunk.write(s, this.used, 'utf8');
    return this;
  }

  /** Appends bytes: copied when small, kept by reference when large (a message body). */
  bytes(b: Buffer): this {
    if (b.length === 0) return this;
    if (b.length >= CHUNK_BYTES / 2) {
      this.seal();
      this.sealed.push(b);
      this.sealedBytes += b.length;
      return this;
    }
    if (this.used + b.length > this.chunk.length) this.fresh(b.length);
    b.copy(this.chunk, this.used);
    this.used += b.length;
    return this;
  }

  /** Appends pre-serialised text, whichever form it arrived in. */
  wire(value: string | Buffer): this {
    return typeof value === 'string' ? this.text(value) : this.bytes(value);
  }

  /** Everything built so far, in order; the builder starts empty again. */
  take(): Buffer[] {
    this.seal();
    const out = this.sealed;
    this.sealed = [];
    this.sealedBytes = 0;
    return out;
  }

  /** Everything built so far as one buffer. */
  takeOne(): Buffer {
    const parts = this.take();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Drops everything after the first `length` bytes (a response that failed half-built). */
  truncate(length: number): void {
    let drop = this.length - length;
    if (drop <= 0) return;
    const fromChunk = Math.min(drop, this.used);
    this.used -= fromChunk;
    drop -= fromChunk;
    while (drop > 0) {
      const last = this.sealed.pop()!;
      this.sealedBytes -= last.length;
      if (last.length > drop) {
        this.sealed.push(last.subarray(0, last.length - drop));
        this.sealedBytes += last.length - drop;
        drop = 0;
      } else {
        drop -= last.length;
      }
    }
  }

  private seal(): void {
    if (this.used === 0) return;
    this.sealed.push(this.chunk.subarray(0, this.used));
    this.sealedBytes += this.used;
    // The rest of the chunk stays ours for what comes next; the sealed part is never written again.
    this.chunk = this.chunk.subarray(this.used);
    this.used = 0;
  }

  private fresh(min: number): void {
    this.seal();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, min));
  }
}
