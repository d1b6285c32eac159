/**
 * The parser's input queue: received chunks kept as they arrived, read through an offset, so no
 * byte is copied or scanned twice.
 */
export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private offset = 0;
  private unread = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.unread += chunk.length;
  }

  /** Bytes pushed and not yet consumed. */
  get length(): number {
    return this.unread;
  }

  /** The unread part of the first chunk, without copying; empty when the queue is empty. */
  peek(): Buffer {
    const chunk = this.chunks[this.head];
    return chunk === undefined ? Buffer.alloc(0) : chunk.subarray(this.offset);
  }

  /** Consumes `count` bytes of the first chunk (at most `peek().length`). */
  consume(count: number): void {
    this.offset += count;
    this.unread -= count;
    if (this.offset >= this.chunks[this.head]!.length) {
      this.head++;
      this.offset = 0;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      } else if (this.head > 1024) {
        this.chunks.splice(0, this.head);
        this.head = 0;
      }
    }
  }

  clear(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.offset = 0;
    this.unread = 0;
  }
}
