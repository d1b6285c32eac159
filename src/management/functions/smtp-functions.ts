/**
 * Get/Set/TestSystemSmtpConfiguration: the provider-wide SMTP account the Management Server
 * sends notifications through, to system administrators named in recipientSystemAdministrator.
 *
 * The password is never read back: GetSystemSmtpConfiguration shows `"password": null`, and a
 * Set without a password (left out or null) keeps the stored one, so a script can round-trip
 * Get → edit → Set without knowing it. An empty string clears it.
 */
import nodemailer from 'nodemailer';
import { ManagementError } from '../errors.js';
import type { ManagementDb } from '../db/management-db.js';
import type { SmtpProtocol, SystemSmtpSettings } from '../db/schema.js';
import { type FunctionHandler, object } from './handler.js';

/** Bounds on one test delivery, so a black-holed server cannot hold an API call for minutes. */
const SMTP_CONNECTION_TIMEOUT_MS = 15_000;
const SMTP_SOCKET_TIMEOUT_MS = 30_000;

const DEFAULT_PORTS: Record<SmtpProtocol, number> = { SMTP: 25, 'SMTP-TLS': 587, SMTPS: 465 };

export function smtpFunctions(db: ManagementDb): Record<string, FunctionHandler> {
  return {
    GetSystemSmtpConfiguration: async () => {
      const settings = db.read().systemSmtp;
      return settings ? { ...settings, password: null, recipientSystemAdministrator: [...settings.recipientSystemAdministrator] } : null;
    },

    SetSystemSmtpConfiguration: async (args) => {
      const config = object(args, 'config');
      await db.update((draft) => {
        const known = new Map(draft.systemAdministrators.map((admin) => [admin.userName.toLowerCase(), admin.userName]));
        const recipients = ((config.recipientSystemAdministrator as string[] | undefined) ?? []).map((name) => {
          const userName = known.get(name.toLowerCase());
          if (!userName) throw new ManagementError('INVALID_ARGUMENT', `config.recipientSystemAdministrator: there is no system administrator '${name}'.`);
          return userName;
        });
        const protocol = (config.protocol as SmtpProtocol | undefined) ?? 'SMTP-TLS';
        const previousPassword = draft.systemSmtp?.password ?? '';
        const settings: SystemSmtpSettings = {
          hostname: config.hostname as string,
          port: (config.port as number | undefined) ?? DEFAULT_PORTS[protocol],
          protocol,
          ignoreSslPolicyErrors: (config.ignoreSslPolicyErrors as boolean | undefined) ?? false,
          authenticationRequired: (config.authenticationRequired as boolean | undefined) ?? false,
          username: (config.username as string | null | undefined) ?? '',
          password: typeof config.password === 'string' ? config.password : previousPassword,
          fromDisplayName: (config.fromDisplayName as string | null | undefined) ?? '',
          fromEmailAddress: (config.fromEmailAddress as string | null | undefined) ?? '',
          recipientSystemAdministrator: recipients,
        };
        draft.systemSmtp = settings;
      });
      return null;
    },

    TestSystemSmtpConfiguration: async () => {
      const database = db.read();
      const settings = database.systemSmtp;
      if (!settings) throw new ManagementError('SMTP_NOT_CONFIGURED', 'No system SMTP configuration is set; use SetSystemSmtpConfiguration first.');
      if (settings.fromEmailAddress === '') throw new ManagementError('SMTP_NOT_CONFIGURED', 'The system SMTP configuration has no fromEmailAddress.');
      const wanted = new Set(settings.recipientSystemAdministrator.map((name) => name.toLowerCase()));
      const recipients = database.systemAdministrators
        .filter((admin) => wanted.has(admin.userName.toLowerCase()) && admin.emailAddress !== '')
        .map((admin) => admin.emailAddress);
      if (recipients.length === 0) {
        throw new ManagementError('SMTP_NOT_CONFIGURED', 'None of the recipientSystemAdministrator has an e-mail address; nobody to send the test message to.');
      }
      const transport = nodemailer.createTransport({
        host: settings.hostname,
        port: settings.port,
        secure: settings.protocol === 'SMTPS',
        requireTLS: settings.protocol === 'SMTP-TLS',
        ignoreTLS: settings.protocol === 'SMTP',
        tls: { rejectUnauthorized: !settings.ignoreSslPolicyErrors },
        auth: settings.authenticationRequired ? { user: settings.username, pass: settings.password } : undefined,
        connectionTimeout: SMTP_CONNECTION_TIMEOUT_MS,
        greetingTimeout: SMTP_CONNECTION_TIMEOUT_MS,
        socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
      });
      try {
        const info = await transport.sendMail({
          from: settings.fromDisplayName ? { name: settings.fromDisplayName, address: settings.fromEmailAddress } : settings.fromEmailAddress,
          to: recipients,
          subject: 'Coffer: test of the system SMTP configuration',
          text: `This message was sent by the Coffer Management Server to test its system SMTP configuration (${settings.hostname}:${settings.port}, ${settings.protocol}).\n`,
        });
        return { recipients, response: info.response };
      } catch (error) {
        throw new ManagementError('SMTP_FAILED', `Sending the test message through ${settings.hostname}:${settings.port} failed: ${(error as Error).message}`);
      } finally {
        transport.close();
      }
    },
  };
}
