/** Per-instance IMAP connection log: one file per day in `<base>/logs/`, written only when enabled. */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export class ConnectionLog {
  constructor(private baseDir: string, private isEnabled: () => boolean) {}

  append(lines: string[]): void {
    if (!lines.length || !this.isEnabled()) return;
    const dir = path.join(this.baseDir, 'logs');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `imap-${new Date().toISOString().slice(0, 10)}.log`);
    appendFileSync(file, lines.map((l) => `${l.replace(/[\r\n]+/g, ' ')}\n`).join(''));
  }
}
