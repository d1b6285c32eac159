/** pino JSON logs; passwords never written (STYLE.md rule 12). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.COFFER_LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: ['password', '*.password', 'args.password', 'secret', '*.secret'], censor: '[redacted]' },
  });
}
