/**
 * Self-service account functions. They need instance calls that change the user's own record
 * (password with the instance's policy, TOTP secret); those arrive through `AccountService`
 * (by default the instance's own RPCs), and a function a service leaves out is shown as unavailable.
 *
 * When the instance requires MFA and the user has none, this page is where login leads, and the
 * only place open (see the enrolment gate in app.ts) until a confirmed code turns MFA on.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { generateSecret, generateURI, verifySync } from 'otplib';
import type { InstanceClient } from '../../../instance/client.js';
import { base, pageContext, requireLogin, sendPage, type WebLogin } from '../context.js';
import { accountPage, type AccountViewModel } from '../views/account.js';

export interface AccountCallContext { instanceId: string; client: InstanceClient; session: string; userName: string }
export type AccountResult = { ok: true } | { ok: false; message: string };

/** Instance functions for the user's own account (see the report: RPCs `changePassword`, `mfa*`). */
export interface AccountService {
  /** Checks the old password and the instance's password policy; integrated users only. */
  changePassword?(c: AccountCallContext, p: { oldPassword: string; newPassword: string }): Promise<AccountResult>;
  mfaStatus?(c: AccountCallContext): Promise<'on' | 'off'>;
  /** Stores a confirmed TOTP secret; from then on `authenticate` asks for a code. */
  mfaEnable?(c: AccountCallContext, p: { secret: string }): Promise<AccountResult>;
  mfaDisable?(c: AccountCallContext): Promise<AccountResult>;
  /** Whether the instance requires MFA (then it cannot be turned off). */
  mfaRequired?(c: AccountCallContext): Promise<boolean>;
}

const asResult = async (fn: () => Promise<unknown>): Promise<AccountResult> => {
  try { await fn(); return { ok: true }; } catch (e) { return { ok: false, message: (e as Error).message }; }
};

/** The instance's own account RPCs (changePassword, mfaStatus, mfaEnable, mfaDisable), called with the user's session. */
export const instanceAccountService: Required<AccountService> = {
  changePassword: (c, p) => asResult(() => c.client.changePassword({ session: c.session, ...p })),
  mfaStatus: async (c) => (await c.client.mfaStatus({ session: c.session })).status,
  mfaEnable: (c, p) => asResult(() => c.client.mfaEnable({ session: c.session, secret: p.secret })),
  mfaDisable: (c) => asResult(() => c.client.mfaDisable({ session: c.session })),
  mfaRequired: async (c) => (await c.client.mfaStatus({ session: c.session })).required,
};

const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string', maxLength: 100 } }, required: ['_csrf'], additionalProperties: false } as const;

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;
  const svc: AccountService = app.web.options.account ? { mfaRequired: instanceAccountService.mfaRequired, ...app.web.options.account } : instanceAccountService;
  const callCtx = (request: FastifyRequest, login: WebLogin): AccountCallContext => ({ instanceId: login.instanceId, client: request.instance!.client, session: login.token, userName: login.userName });

  async function render(request: FastifyRequest, reply: Parameters<typeof sendPage>[0], message?: AccountViewModel['message'], status = 200) {
    const login = requireLogin(request);
    const ctx = pageContext(request, branding, app.web.assets.version);
    const hasPriv = login.privileges.includes('changePassword');
    const mfa = svc.mfaStatus && svc.mfaEnable && svc.mfaDisable ? await svc.mfaStatus(callCtx(request, login)) : 'unavailable';
    const pending = request.session.mfaPending;
    const enrolment = login.mfaEnrolmentRequired === true;
    const model: AccountViewModel = {
      canChangePassword: enrolment ? 'afterEnrolment' : !svc.changePassword ? 'unavailable' : hasPriv ? 'yes' : 'noPrivilege',
      mfa,
      mfaPending: pending && mfa === 'off' ? { secret: pending, uri: generateURI({ issuer: branding.current.productName, label: login.userName, secret: pending }) } : undefined,
      mfaRequired: enrolment || (mfa === 'on' && svc.mfaRequired ? await svc.mfaRequired(callCtx(request, login)) : false),
      enrolment,
      message,
    };
    return sendPage(reply, accountPage(ctx, model), status);
  }

  app.get('/account', async (request, reply) => render(request, reply));

  app.post<{ Body: { _csrf: string; oldPassword: string; newPassword: string; repeatPassword: string } }>('/account/password', {
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['_csrf', 'oldPassword', 'newPassword', 'repeatPassword'],
        properties: { _csrf: { type: 'string', maxLength: 100 }, oldPassword: { type: 'string', maxLength: 1024 }, newPassword: { type: 'string', minLength: 1, maxLength: 1024 }, repeatPassword: { type: 'string', maxLength: 1024 } },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    const t = pageContext(request, branding, app.web.assets.version).t;
    if (!svc.changePassword || !login.privileges.includes('changePassword')) return render(request, reply, { kind: 'error', text: t('account.noPrivilege') }, 403);
    if (request.body.newPassword !== request.body.repeatPassword) return render(request, reply, { kind: 'error', text: t('account.passwordMismatch') }, 400);
    const r = await svc.changePassword(callCtx(request, login), { oldPassword: request.body.oldPassword, newPassword: request.body.newPassword });
    request.log.info({ instance: login.instanceId, user: login.userName, ok: r.ok }, 'web change password');
    return r.ok ? render(request, reply, { kind: 'ok', text: t('account.passwordChanged') }) : render(request, reply, { kind: 'error', text: t('account.passwordFailed', { message: r.message }) }, 400);
  });

  app.post('/account/mfa/start', { schema: { body: csrfOnly } }, async (request, reply) => {
    requireLogin(request);
    if (!svc.mfaEnable) return render(request, reply);
    request.session.mfaPending = generateSecret();
    return render(request, reply);
  });

  app.post<{ Body: { _csrf: string; code: string } }>('/account/mfa/confirm', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['_csrf', 'code'], properties: { _csrf: { type: 'string', maxLength: 100 }, code: { type: 'string', maxLength: 10 } } } },
  }, async (request, reply) => {
    const login = requireLogin(request);
    const t = pageContext(request, branding, app.web.assets.version).t;
    const secret = request.session.mfaPending;
    if (!secret || !svc.mfaEnable) return render(request, reply);
    const code = request.body.code.replace(/\s/g, '');
    // One step of clock drift either way (RFC 6238 §5.2).
    const ok = /^\d{6}$/.test(code) && verifySync({ secret, token: code, epochTolerance: 30 }).valid;
    if (!ok) return render(request, reply, { kind: 'error', text: t('account.mfaBadCode') }, 400);
    const r = await svc.mfaEnable(callCtx(request, login), { secret });
    request.session.mfaPending = undefined;
    if (r.ok && login.mfaEnrolmentRequired) {
      // Enrolment was what stood between the user and the archive; the instance has opened the session.
      request.session.login = { ...login, mfaEnrolmentRequired: undefined };
      return reply.redirect(`${base(request)}/folders`, 303);
    }
    return render(request, reply, r.ok ? { kind: 'ok', text: t('account.mfaEnabled') } : { kind: 'error', text: r.message });
  });

  app.post('/account/mfa/remove', { schema: { body: csrfOnly } }, async (request, reply) => {
    const login = requireLogin(request);
    const t = pageContext(request, branding, app.web.assets.version).t;
    if (!svc.mfaDisable) return render(request, reply);
    const r = await svc.mfaDisable(callCtx(request, login));
    return render(request, reply, r.ok ? { kind: 'ok', text: t('account.mfaDisabled') } : { kind: 'error', text: r.message });
  });
}
