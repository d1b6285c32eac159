/**
 * Logon and logout. The password comes first; an administrator whose MFA is `active` then gives
 * a TOTP code, one whose MFA is `pending` sees the secret and confirms it with the first valid
 * code, which makes MFA active (SPE: "The MFA process needs to be finalized on the next login").
 * Wrong passwords and wrong codes count as failures per address and per user name, and the next
 * attempt waits (250 ms doubling to 8 s, the Management API's back-off). The session id is
 * rotated when the logon completes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ConsoleContext, sendHtml } from '../context.js';
import { csrfToken, redirectWith, takeFlash } from '../session.js';
import { codePage, enrolPage, loginPage } from '../views/login.js';

/** The code step must follow the password soon; after this the password is asked again. */
export const PENDING_LOGIN_TTL_MS = 5 * 60_000;
/** Wrong codes allowed in one pending logon before the password is asked again. */
export const MAX_WRONG_CODES_PER_LOGIN = 5;
const MAX_PASSWORD_CHARS = 1024;

const csrf = { type: 'string', maxLength: 100 } as const;

export function registerLoginRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const pendingOf = (request: FastifyRequest) => {
    const pending = request.session.consolePending;
    if (pending && Date.now() - pending.sinceMs > PENDING_LOGIN_TTL_MS) {
      request.session.consolePending = undefined;
      return undefined;
    }
    return pending;
  };

  /** Waits out the back-off, then runs the check; counts a failure when it answers null. */
  const withBackoff = async <T>(request: FastifyRequest, userName: string, check: () => Promise<T | null>): Promise<T | null> => {
    const remote = request.ip;
    const delayMs = ctx.failures.delayMsFor(remote, userName);
    const endAttempt = ctx.failures.beginAttempt(remote, userName);
    let result: T | null = null;
    try {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      result = await check();
    } finally {
      endAttempt();
    }
    if (result !== null) return result;
    const failures = ctx.failures.recordFailure(remote, userName);
    request.log.warn({ remote, user: userName, failures, delayMs }, 'console: logon failed');
    return null;
  };

  const completeLogin = async (request: FastifyRequest, reply: FastifyReply, userName: string) => {
    ctx.failures.recordSuccess(request.ip, userName);
    // A new session id at logon: an id planted before the logon (session fixation) is worth nothing.
    await request.session.regenerate();
    const now = Date.now();
    request.session.consoleLogin = { userName, loginAtMs: now, lastSeenMs: now };
    request.log.info({ remote: request.ip, user: userName }, 'console: logged on');
    return reply.redirect('/instances', 303);
  };

  app.get('/', async (request, reply) => reply.redirect(request.session.consoleLogin ? '/instances' : '/login', 303));

  app.get<{ Querystring: { restart?: string; bye?: string; expired?: string } }>('/login', {
    schema: { querystring: { type: 'object', properties: { restart: { type: 'string', maxLength: 1 }, bye: { type: 'string', maxLength: 1 }, expired: { type: 'string', maxLength: 1 } }, additionalProperties: false } },
  }, async (request, reply) => {
    if (request.session.consoleLogin) return reply.redirect('/instances', 303);
    if (request.query.restart) request.session.consolePending = undefined;
    if (pendingOf(request)) return reply.redirect('/login/code', 303);
    const flash = takeFlash(request)
      ?? (request.query.bye ? { kind: 'ok' as const, text: 'You have logged out.' } : undefined)
      ?? (request.query.expired ? { kind: 'error' as const, text: 'Your session has expired. Please log on again.' } : undefined);
    return sendHtml(reply, loginPage({ csrf: csrfToken(request), flash }));
  });

  app.post<{ Body: { _csrf: string; userName: string; password: string } }>('/login', {
    schema: {
      body: {
        type: 'object',
        properties: { _csrf: csrf, userName: { type: 'string', maxLength: 255 }, password: { type: 'string', maxLength: MAX_PASSWORD_CHARS } },
        required: ['_csrf', 'userName', 'password'], additionalProperties: false,
      },
    },
  }, async (request, reply) => {
    const userName = request.body.userName.trim();
    request.session.consolePending = undefined;
    const result = userName === '' ? null : await withBackoff(request, userName, () => ctx.admins.authenticateConsole(userName, request.body.password));
    if (!result) {
      return sendHtml(reply, loginPage({ csrf: csrfToken(request), userName, flash: { kind: 'error', text: 'The user name or the password is wrong.' } }), 401);
    }
    if (result.step === 'done') return completeLogin(request, reply, result.admin.userName);
    request.session.consolePending = { userName: result.admin.userName, step: result.step, sinceMs: Date.now(), wrongCodes: 0 };
    return reply.redirect('/login/code', 303);
  });

  app.get('/login/code', async (request, reply) => {
    if (request.session.consoleLogin) return reply.redirect('/instances', 303);
    const pending = pendingOf(request);
    if (!pending) return redirectWith(request, reply, '/login', { kind: 'error', text: 'Please enter your user name and password.' });
    return renderCodeStep(request, reply, pending.userName, pending.step, takeFlash(request));
  });

  const renderCodeStep = (request: FastifyRequest, reply: FastifyReply, userName: string, step: 'code' | 'enrol', flash: { kind: 'ok' | 'error'; text: string } | undefined, statusCode = 200) => {
    if (step === 'code') return sendHtml(reply, codePage({ csrf: csrfToken(request), userName, flash }), statusCode);
    const enrolment = ctx.admins.pendingEnrolment(userName);
    if (!enrolment) {
      // MFA changed under the logon (reset, disabled, confirmed elsewhere): start over.
      request.session.consolePending = undefined;
      return redirectWith(request, reply, '/login', { kind: 'error', text: 'Your MFA settings changed meanwhile. Please log on again.' });
    }
    return sendHtml(reply, enrolPage({ csrf: csrfToken(request), userName, enrolment, flash }), statusCode);
  };

  app.post<{ Body: { _csrf: string; code: string } }>('/login/code', {
    schema: { body: { type: 'object', properties: { _csrf: csrf, code: { type: 'string', maxLength: 20 } }, required: ['_csrf', 'code'], additionalProperties: false } },
  }, async (request, reply) => {
    const pending = pendingOf(request);
    if (!pending) return redirectWith(request, reply, '/login', { kind: 'error', text: 'Please enter your user name and password.' });
    const isAccepted = await withBackoff(request, pending.userName, async () => (await ctx.admins.verifyMfaCode(pending.userName, request.body.code)) || null);
    if (isAccepted) {
      if (pending.step === 'enrol') request.log.info({ user: pending.userName }, 'console: MFA enrolment confirmed, MFA is active');
      return completeLogin(request, reply, pending.userName);
    }
    const wrongCodes = pending.wrongCodes + 1;
    if (wrongCodes >= MAX_WRONG_CODES_PER_LOGIN) {
      request.session.consolePending = undefined;
      return redirectWith(request, reply, '/login', { kind: 'error', text: 'Too many wrong codes. Please log on again.' });
    }
    request.session.consolePending = { ...pending, wrongCodes };
    return renderCodeStep(request, reply, pending.userName, pending.step, { kind: 'error', text: 'The code is wrong or has already been used. Enter the current code.' }, 401);
  });

  app.post<{ Body: { _csrf: string } }>('/logout', {
    schema: { body: { type: 'object', properties: { _csrf: csrf }, required: ['_csrf'], additionalProperties: false } },
  }, async (request, reply) => {
    const userName = request.session.consoleLogin?.userName;
    await request.session.destroy();
    if (userName) request.log.info({ remote: request.ip, user: userName }, 'console: logged out');
    return reply.redirect('/login?bye=1', 303);
  });
}
