/**
 * Failed logins back off per account and per address: after each failure the next attempt for the
 * same user name or the same address is refused until a delay has passed (doubling up to a cap).
 * The CAS refuses early, without asking the instance, so guessing costs the attacker time and costs
 * the instance nothing. The instance keeps its own back-off as a second line.
 */

export const BACKOFF = {
  /** The first failures of one account are free: people mistype. */
  freeFailuresPerAccount: 2,
  /** An address may be a whole office behind NAT: more free failures before it slows down. */
  freeFailuresPerAddress: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  /** Failures older than this are forgotten. */
  windowMs: 30 * 60_000,
  /** Bounds memory under a spray of random user names. */
  maxEntries: 100_000,
} as const;

interface Entry { failures: number; lastMs: number; blockedUntilMs: number }

export class LoginBackoff {
  private readonly entries = new Map<string, Entry>();

  private keys(instanceId: string, user: string, remote: string): string[] {
    return [`u\u0000${instanceId}\u0000${user.toLowerCase()}`, `a\u0000${remote}`];
  }

  /** Milliseconds to wait before this user name or address may try again; 0 when allowed. */
  retryAfterMs(instanceId: string, user: string, remote: string, nowMs = Date.now()): number {
    let wait = 0;
    for (const k of this.keys(instanceId, user, remote)) {
      const e = this.entries.get(k);
      if (e && nowMs - e.lastMs < BACKOFF.windowMs) wait = Math.max(wait, e.blockedUntilMs - nowMs);
    }
    return Math.max(0, wait);
  }

  noteFailure(instanceId: string, user: string, remote: string, nowMs = Date.now()): void {
    for (const k of this.keys(instanceId, user, remote)) {
      const prev = this.entries.get(k);
      const failures = prev && nowMs - prev.lastMs < BACKOFF.windowMs ? prev.failures + 1 : 1;
      const over = failures - (k.startsWith('u') ? BACKOFF.freeFailuresPerAccount : BACKOFF.freeFailuresPerAddress);
      const delay = over > 0 ? Math.min(BACKOFF.baseDelayMs * 2 ** (over - 1), BACKOFF.maxDelayMs) : 0;
      this.entries.delete(k);
      this.entries.set(k, { failures, lastMs: nowMs, blockedUntilMs: nowMs + delay });
    }
    while (this.entries.size > BACKOFF.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  noteSuccess(instanceId: string, user: string, remote: string): void {
    // Only the account is cleared: one good login from a shared address must not reset an attack from it.
    this.entries.delete(this.keys(instanceId, user, remote)[0]!);
  }
}
