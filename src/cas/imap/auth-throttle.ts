/**
 * Delays answers to failed logins, more with each failure from the same address or for the same
 * login name (issue 4), so password guessing is slow whichever of the two an attacker varies.
 */
import { AUTH_FAILURE_MEMORY_MS, MAX_AUTH_FAILURE_ENTRIES } from './server-limits.js';

interface FailureRecord {
  count: number;
  lastAtMs: number;
}

export interface AuthThrottleOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export class AuthThrottle {
  private readonly failures = new Map<string, FailureRecord>();

  constructor(private readonly options: AuthThrottleOptions) {}

  /** Records a failure and returns how long to wait before answering it. */
  recordFailure(address: string, loginName: string): number {
    const now = Date.now();
    const count = Math.max(this.bump(`a:${address}`, now), this.bump(`n:${loginName.toLowerCase()}`, now));
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(count - 1, 16));
  }

  /** A successful login forgets the failures of its name (not of its address). */
  recordSuccess(loginName: string): void {
    this.failures.delete(`n:${loginName.toLowerCase()}`);
  }

  private bump(key: string, now: number): number {
    const record = this.failures.get(key);
    if (record === undefined || now - record.lastAtMs > AUTH_FAILURE_MEMORY_MS) {
      this.failures.delete(key);
      if (this.failures.size >= MAX_AUTH_FAILURE_ENTRIES) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      this.failures.set(key, { count: 1, lastAtMs: now });
      return 1;
    }
    record.count++;
    record.lastAtMs = now;
    // Re-insert so the map stays ordered by last failure (oldest first).
    this.failures.delete(key);
    this.failures.set(key, record);
    return record.count;
  }
}
