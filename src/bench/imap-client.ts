/**
 * A minimal raw IMAP client over TLS for the bench: one command at a time, counts response bytes
 * and untagged responses, skips literals without copying them (bodies of many MB stream through).
 */
import tls from 'node:tls';

export interface Reply { ok: boolean; status: string; untagged: number; bytes: number; searchCount: number }

export class RawImap {
  private parts: Buffer[] = [];
  private literalLeft = 0;
  private atLogicalStart = true;
  private head = '';
  private tagCounter = 0;
  private waiter: { tag: string; resolve: (r: Reply) => void; reject: (e: Error) => void; untagged: number; bytes: number; searchCount: number } | null = null;
  private closedError: Error | null = null;

  private constructor(private socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (e: Error) => { this.closedError ??= e; const w = this.waiter; this.waiter = null; w?.reject(e); };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects, waits for the greeting. */
  static async connect(host: string, port: number, timeoutMs = 30_000): Promise<RawImap> {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: 'localhost' });
    const c = new RawImap(socket);
    await c.wait('*', timeoutMs);
    return c;
  }

  command(text: string, timeoutMs = 60_000): Promise<Reply> {
    const tag = `b${++this.tagCounter}`;
    const p = this.wait(tag, timeoutMs);
    this.socket.write(`${tag} ${text}\r\n`);
    return p;
  }

  /** A command whose text contains literals, given as buffers written back to back (LITERAL+). */
  commandParts(parts: (string | Buffer)[], timeoutMs = 600_000): Promise<Reply> {
    const tag = `b${++this.tagCounter}`;
    const p = this.wait(tag, timeoutMs);
    this.socket.write(`${tag} `);
    for (const part of parts) this.socket.write(part);
    this.socket.write('\r\n');
    return p;
  }

  close(): void { this.socket.destroy(); }

  private wait(tag: string, timeoutMs: number): Promise<Reply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error(`timeout waiting for ${tag}`)); }, timeoutMs);
      this.waiter = { tag, untagged: 0, bytes: 0, searchCount: 0, resolve: (r) => { clearTimeout(timer); resolve(r); }, reject: (e) => { clearTimeout(timer); reject(e); } };
    });
  }

  private onData(chunk: Buffer): void {
    if (this.waiter) this.waiter.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - i);
        i += take;
        this.literalLeft -= take;
        continue;
      }
      const lf = chunk.indexOf(10, i);
      if (lf < 0) { this.parts.push(chunk.subarray(i)); break; }
      this.parts.push(chunk.subarray(i, lf + 1));
      i = lf + 1;
      const line = (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)).toString('latin1');
      this.parts = [];
      if (this.atLogicalStart) this.head = line.length > 4096 ? line.slice(0, 4096) : line;
      const m = /\{(\d+)\+?\}\r?\n$/.exec(line);
      if (m) { this.literalLeft = Number(m[1]); this.atLogicalStart = false; continue; }
      this.atLogicalStart = true;
      this.onLogicalLine(this.head, line);
    }
  }

  private onLogicalLine(head: string, full: string): void {
    const w = this.waiter;
    if (!w) return;
    if (w.tag === '*' ? head.startsWith('* ') : head.startsWith(`${w.tag} `)) {
      this.waiter = null;
      const status = head.trimEnd();
      w.resolve({ ok: w.tag === '*' ? status.startsWith('* OK') : status.startsWith(`${w.tag} OK`), status, untagged: w.untagged, bytes: w.bytes, searchCount: w.searchCount });
      return;
    }
    if (head.startsWith('* ')) {
      w.untagged++;
      if (head.startsWith('* SEARCH')) w.searchCount += full.trim().split(' ').length - 2;
    }
  }
}
