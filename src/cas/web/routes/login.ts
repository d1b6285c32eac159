/**
 * Login and logout. Step 1 takes the user name, step 2 the password (and a TOTP code when the
 * instance asks for one). The session id is rotated at login; failures back off per account and
 * address and are audited with address and user agent.
 */
import type { FastifyInstance } from 'fastify';
import type { ArchiveReader } from '../../../instance/api.js';
import { base, csrfToken, currentLogin, pageContext, sendPage } from '../context.js';
import { loginPasswordPage, loginUserPage } from '../views/login.js';
import { WebError } from '../errors.js';
import type { MessageKey } from '../i18n.js';

const csrfField = { type: 'string', maxLength: 100 } as const;
/**
 * "Trust this device for 14 days": the instance's device token, kept by the browser only for this
 * instance's web path. The instance stores a hash and decides; the CAS only carries it.
 */
export const DEVICE_COOKIE = 'coffer_device';
/** Longer than any token the instance issues: a bigger cookie is not one of ours and is not passed on. */
const MAX_DEVICE_TOKEN_CHARS = 200;

export async function loginRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;
  const ctx = (request: Parameters<typeof pageContext>[0]) => pageContext(request, branding, app.web.assets.version);

  app.get('/', async (request, reply) => {
    if (!currentLogin(request)) return reply.redirect(`${base(request)}/login`, 303);
    return reply.redirect(`${base(request)}/folders`, 303);
  });

  app.get<{ Querystring: { change?: string; lang?: string } }>('/login', {
    schema: { querystring: { type: 'object', properties: { change: { type: 'string', maxLength: 1 }, lang: { type: 'string', maxLength: 5 } }, additionalProperties: false } },
  }, async (request, reply) => {
    if (currentLogin(request)) return reply.redirect(`${base(request)}/folders`, 303);
    const c = ctx(request);
    const notice = request.session.notice ? c.t(request.session.notice as MessageKey) : undefined;
    if (request.session.notice) request.session.notice = undefined;
    const pending = request.session.pendingLogin;
    if (request.query.change) request.session.pendingLogin = undefined;
    else if (pending && pending.instanceId === request.instance!.id) {
      return sendPage(reply, loginPasswordPage(c, { csrf: csrfToken(request), user: pending.user, needTotp: pending.needTotp }));
    }
    return sendPage(reply, loginUserPage(c, { csrf: csrfToken(request), notice, user: pending?.user }));
  });

  app.post<{ Body: { _csrf: string; user: string } }>('/login', {
    schema: { body: { type: 'object', properties: { _csrf: csrfField, user: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['_csrf', 'user'], additionalProperties: false } },
  }, async (request, reply) => {
    const user = request.body.user.trim();
    if (!user) throw new WebError('BAD_REQUEST');
    request.session.pendingLogin = { instanceId: request.instance!.id, user };
    return reply.redirect(`${base(request)}/login`, 303);
  });

  app.post<{ Body: { _csrf: string; password: string; username?: string; totp?: string; trust?: '1' } }>('/login/password', {
    schema: {
      body: {
        type: 'object',
        properties: {
          _csrf: csrfField, password: { type: 'string', maxLength: 1024 }, username: { type: 'string', maxLength: 255 }, totp: { type: 'string', maxLength: 10 },
          trust: { type: 'string', enum: ['1'] },
        },
        required: ['_csrf', 'password'], additionalProperties: false,
      },
    },
  }, async (request, reply) => {
    const inst = request.instance!;
    const pending = request.session.pendingLogin;
    if (!pending || pending.instanceId !== inst.id) return reply.redirect(`${base(request)}/login`, 303);
    const c = ctx(request);
    const remote = request.ip;
    const userAgent = String(request.headers['user-agent'] ?? '').slice(0, 300);
    const { backoff } = app.web;
    const waitMs = backoff.retryAfterMs(inst.id, pending.user, remote);
    if (waitMs > 0) {
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return sendPage(reply, loginPasswordPage(c, { csrf: csrfToken(request), user: pending.user, needTotp: pending.needTotp, error: c.t('login.backoff', { seconds: Math.ceil(waitMs / 1000) }) }), 429);
    }
    const reader: ArchiveReader = inst.client;
    const totp = request.body.totp?.trim();
    const deviceToken = request.cookies[DEVICE_COOKIE];
    const r = await reader.authenticate({
      user: pending.user, password: request.body.password, channel: 'web', remote, userAgent, ...(totp ? { totp } : {}),
      ...(deviceToken && deviceToken.length <= MAX_DEVICE_TOKEN_CHARS ? { deviceToken } : {}),
      ...(totp && request.body.trust === '1' ? { trustDevice: true } : {}),
    });
    if (!r.ok) {
      if (r.reason === 'mfaRequired') {
        request.session.pendingLogin = { ...pending, needTotp: true };
        if (!totp) return sendPage(reply, loginPasswordPage(c, { csrf: csrfToken(request), user: pending.user, needTotp: true }));
      }
      if (r.reason === 'credentials' || r.reason === 'mfaRequired') backoff.noteFailure(inst.id, pending.user, remote);
      await app.web.audit(inst.id, null, 'LoginFailed', { user: pending.user, remote, userAgent, reason: r.reason });
      request.log.info({ instance: inst.id, user: pending.user, reason: r.reason }, 'web login failed');
      const key: MessageKey = r.reason === 'privilege' ? 'login.privilege' : r.reason === 'safeMode' ? 'login.safeMode' : 'login.failed';
      return sendPage(reply, loginPasswordPage(c, { csrf: csrfToken(request), user: pending.user, needTotp: request.session.pendingLogin?.needTotp, error: c.t(key) }), 401);
    }
    backoff.noteSuccess(inst.id, pending.user, remote);
    // Session fixation: a new id at login (OWASP); nothing from before login is kept.
    await request.session.regenerate();
    const now = Date.now();
    request.session.login = {
      instanceId: inst.id, token: r.session, userName: r.userName, fullName: r.fullName, isAdmin: r.isAdmin,
      privileges: r.privileges, emailAddress: r.emailAddress, loginAtMs: now, lastSeenMs: now,
      ...(r.mfaEnrolmentRequired ? { mfaEnrolmentRequired: true } : {}),
    };
    csrfToken(request);
    if (r.deviceToken) {
      reply.setCookie(DEVICE_COOKIE, r.deviceToken.token, {
        path: `${base(request)}/`, httpOnly: true, secure: true, sameSite: 'lax',
        maxAge: Math.max(0, Math.floor((r.deviceToken.expiresAt - now) / 1000)),
      });
    }
    await app.web.audit(inst.id, r.session, 'Login', { user: r.userName, remote, userAgent, ...(r.deviceToken ? { trustedDevice: 'added' } : {}) });
    request.log.info({ instance: inst.id, user: r.userName, mfaEnrolment: r.mfaEnrolmentRequired === true }, 'web login');
    // An instance that requires MFA sends a user without it to enrolment first (nothing else is open).
    return reply.redirect(`${base(request)}/${r.mfaEnrolmentRequired ? 'account' : 'folders'}`, 303);
  });

  app.post<{ Body: { _csrf: string } }>('/logout', {
    schema: { body: { type: 'object', properties: { _csrf: csrfField }, required: ['_csrf'], additionalProperties: false } },
  }, async (request, reply) => {
    const login = currentLogin(request);
    if (login) {
      await app.web.audit(login.instanceId, login.token, 'Logout', { user: login.userName });
      await request.instance!.client.logout({ session: login.token }).catch(() => {});
    }
    await request.session.destroy();
    return reply.redirect(`${base(request)}/login`, 303);
  });
}
