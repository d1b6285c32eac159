/**
 * The instance's SMTP settings (SetSmtpSettings), used to test them (TestSmtpSettings) and to
 * restore archived messages to a user's mailbox from Web Access. The password is never shown back.
 */
import nodemailer from 'nodemailer';
import type { Settings } from './instance-db.js';
import { InstanceError } from './errors.js';

const SMTP_TIMEOUT_MS = 15_000;
const PROTOCOLS = ['SMTP', 'SMTP-TLS', 'SMTPS'] as const;

export interface SmtpSettings {
  hostname: string; port?: number | null; protocol?: (typeof PROTOCOLS)[number]; ignoreSslPolicyErrors?: boolean;
  authenticationRequired?: boolean; username?: string | null; password?: string | null;
  fromDisplayName?: string | null; fromEmailAddress?: string | null; recipientEmailAddresses?: string[];
}

export class Smtp {
  constructor(private settings: Settings) {}

  get(): SmtpSettings | null {
    const s = this.settings.read<SmtpSettings | null>('smtp', null);
    return s ? { ...s, password: null } : null;
  }

  /** With the password: only for the CAS sending a restore on a user's behalf. */
  full(): SmtpSettings | null { return this.settings.read<SmtpSettings | null>('smtp', null); }

  set(next: unknown): void {
    if (!next || typeof next !== 'object' || Array.isArray(next)) throw new InstanceError('INVALID_ARGUMENT', 'settings: expected an object');
    const s = { ...(next as SmtpSettings) };
    if (typeof s.hostname !== 'string' || !s.hostname.trim()) throw new InstanceError('INVALID_ARGUMENT', 'settings.hostname: required');
    if (s.protocol !== undefined && !PROTOCOLS.includes(s.protocol)) throw new InstanceError('INVALID_ARGUMENT', `settings.protocol: expected one of ${PROTOCOLS.join(', ')}`);
    if (s.port !== undefined && s.port !== null && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) throw new InstanceError('INVALID_ARGUMENT', 'settings.port: expected 1 to 65535');
    // A Set without a password keeps the stored one, so scripts need not repeat it.
    if (typeof s.password !== 'string') s.password = this.settings.read<SmtpSettings | null>('smtp', null)?.password ?? '';
    this.settings.write('smtp', s);
  }

  private transport() {
    const s = this.settings.read<SmtpSettings | null>('smtp', null);
    if (!s) throw new InstanceError('INVALID_STATE', 'No SMTP settings are set for this instance; use SetSmtpSettings first.');
    const protocol = s.protocol ?? 'SMTP-TLS';
    return {
      s,
      t: nodemailer.createTransport({
        host: s.hostname, port: s.port ?? (protocol === 'SMTPS' ? 465 : protocol === 'SMTP' ? 25 : 587), secure: protocol === 'SMTPS', requireTLS: protocol === 'SMTP-TLS', ignoreTLS: protocol === 'SMTP',
        tls: { rejectUnauthorized: s.ignoreSslPolicyErrors !== true }, auth: s.authenticationRequired ? { user: s.username ?? '', pass: s.password ?? '' } : undefined,
        connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS,
      }),
    };
  }

  async test(instanceId: string): Promise<{ recipients: string[]; response: string }> {
    const { s, t } = this.transport();
    const recipients = s.recipientEmailAddresses ?? [];
    if (!s.fromEmailAddress || recipients.length === 0) throw new InstanceError('INVALID_STATE', 'The SMTP settings need fromEmailAddress and recipientEmailAddresses.');
    try {
      const info = await t.sendMail({ from: s.fromEmailAddress, to: recipients, subject: 'Coffer: test of the instance SMTP settings', text: `Sent by Coffer to test the SMTP settings of instance ${instanceId}.\n` });
      return { recipients, response: info.response };
    } catch (e) {
      throw new InstanceError('INVALID_STATE', `Sending the test message through ${s.hostname} failed: ${(e as Error).message}`);
    } finally { t.close(); }
  }

  /** Restore to mailbox: the archived bytes go out unchanged, in a new SMTP envelope. */
  async sendRaw(to: string, raws: Buffer[]): Promise<number> {
    const { s, t } = this.transport();
    const from = s.fromEmailAddress ?? `archive@${s.hostname}`;
    try {
      for (const raw of raws) await t.sendMail({ envelope: { from, to: [to] }, raw });
      return raws.length;
    } catch (e) {
      throw new InstanceError('INVALID_STATE', `Restoring through ${s.hostname} failed: ${(e as Error).message}`);
    } finally { t.close(); }
  }
}
