/**
 * TOTP (RFC 6238) for MFA (system administrators and archive users), through otplib: 6 digits, 30 s steps, SHA-1,
 * as every authenticator app expects. One step of clock drift either way is accepted.
 */
import { generateSecret, generateURI, verify } from 'otplib';

/** Seconds of drift accepted either way: one 30 s step, the usual phone clock error. */
const DRIFT_TOLERANCE_SECONDS = 30;
export const TOTP_ISSUER = 'Coffer';

export function createTotpSecret(): string {
  return generateSecret();
}

export function totpUri(userName: string, secret: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label: userName, secret });
}

/**
 * The RFC 6238 time step a valid code belongs to, or null. Codes of `afterTimeStep` or earlier
 * are refused, so a code seen once (shoulder-surfed, logged by a proxy) cannot be replayed.
 */
export async function matchTotpCode(secret: string, code: string, afterTimeStep?: number): Promise<number | null> {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  try {
    const result = await verify({ secret, token, epochTolerance: DRIFT_TOLERANCE_SECONDS, ...(afterTimeStep === undefined ? {} : { afterTimeStep }) });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
