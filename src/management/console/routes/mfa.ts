/**
 * Your MFA Settings: enable (→ pending, finished at the next logon), reset secret (active →
 * pending), disable, and Generate New API Password (shown once, in the answer to the POST, with
 * `Cache-Control: no-store`; never stored in the session).
 */
import type { FastifyInstance } from 'fastify';
import { type ConsoleContext, describeFailure, frameFor, sendHtml } from '../context.js';
import { currentUserName, redirectWith } from '../session.js';
import { mfaSettingsPage } from '../views/mfa.js';

const csrfOnly = { body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 100 } }, required: ['_csrf'], additionalProperties: false } } as const;

export function registerMfaRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const me = (userName: string) => {
    const view = ctx.admins.get(userName);
    if (!view) throw new Error(`console: logged-on administrator '${userName}' vanished`);
    return view;
  };

  app.get('/mfa', async (request, reply) => sendHtml(reply, mfaSettingsPage(frameFor(request, 'Your MFA Settings', 'mfa'), me(currentUserName(request)))));

  const change = (path: string, what: string, run: (userName: string) => Promise<unknown>, done: string) => {
    app.post(path, { schema: csrfOnly }, async (request, reply) => {
      const userName = currentUserName(request);
      try {
        await run(userName);
        request.log.info({ user: userName }, `console: ${what}`);
        return redirectWith(request, reply, '/mfa', { kind: 'ok', text: done });
      } catch (error) {
        return redirectWith(request, reply, '/mfa', { kind: 'error', text: describeFailure(request, error, what) });
      }
    });
  };
  change('/mfa/enable', 'enable MFA', (userName) => ctx.admins.enableMfa(userName),
    'MFA is enabled and pending. Log out and log on again to set up your authenticator app.');
  change('/mfa/reset', 'reset the MFA secret', (userName) => ctx.admins.resetMfa(userName),
    'A new MFA secret was generated; codes of the old one no longer work. Log out and log on again to set up your authenticator app.');
  change('/mfa/disable', 'disable MFA', (userName) => ctx.admins.disableMfa(userName), 'MFA is disabled.');

  app.post('/mfa/api-password', { schema: csrfOnly }, async (request, reply) => {
    const userName = currentUserName(request);
    let password: string;
    try {
      password = await ctx.admins.generateApiPassword(userName);
    } catch (error) {
      return redirectWith(request, reply, '/mfa', { kind: 'error', text: describeFailure(request, error, 'Generating the API password') });
    }
    request.log.info({ user: userName }, 'console: new API password generated');
    const frame = { ...frameFor(request, 'Your MFA Settings', 'mfa'), flash: { kind: 'ok' as const, text: 'A new API password was generated. The previous one no longer works.' } };
    return sendHtml(reply.header('Cache-Control', 'no-store'), mfaSettingsPage(frame, me(userName), password));
  });
}
