/**
 * Security → System Administrators. SPE: "System administrators have the ability to log on to the
 * Management Console and therefore have full administrative privileges", so every logged-on
 * administrator may list, create, configure and delete the others. Two refusals SPE leaves
 * implicit: nobody deletes the account they are logged on with (the session would outlive its
 * account), and the last administrator stays (AdminService refuses it).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SystemAdministratorView } from '../../admins.js';
import { type ConsoleContext, describeFailure, frameFor, sendHtml } from '../context.js';
import { ConsoleError } from '../errors.js';
import { currentUserName, redirectWith } from '../session.js';
import { adminPath, administratorsPage, configureAdministratorPage, createAdministratorPage, deleteAdministratorPage } from '../views/administrators.js';

const TITLE = 'System Administrators';
const csrf = { type: 'string', maxLength: 100 } as const;
const profileProperties = {
  fullName: { type: 'string', maxLength: 200 },
  emailAddress: { type: 'string', maxLength: 254 },
  password: { type: 'string', maxLength: 1024 },
  repeatPassword: { type: 'string', maxLength: 1024 },
} as const;
const userNameParams = { params: { type: 'object', properties: { userName: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['userName'], additionalProperties: false } } as const;

interface ProfileBody { _csrf: string; fullName?: string; emailAddress?: string; password?: string; repeatPassword?: string }

function passwordsProblem(body: ProfileBody, isRequired: boolean): string | null {
  const password = body.password ?? '';
  const repeat = body.repeatPassword ?? '';
  if (password === '' && repeat === '') return isRequired ? 'Enter a password.' : null;
  if (password !== repeat) return 'The passwords do not match.';
  return null;
}

export function registerAdministratorRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const frame = (request: FastifyRequest) => frameFor(request, TITLE, 'administrators');
  const find = (userName: string): SystemAdministratorView => {
    const admin = ctx.admins.get(userName);
    if (!admin) throw new ConsoleError('NOT_FOUND', `System administrator '${userName}' does not exist.`);
    return admin;
  };
  const isSelf = (request: FastifyRequest, userName: string) => currentUserName(request).toLowerCase() === userName.toLowerCase();

  app.get('/administrators', async (request, reply) => sendHtml(reply, administratorsPage(frame(request), ctx.admins.list())));

  app.get('/administrators/new', async (request, reply) => sendHtml(reply, createAdministratorPage(frame(request))));

  app.post<{ Body: ProfileBody & { userName: string; enableMfa?: 'on' } }>('/administrators', {
    schema: {
      body: {
        type: 'object',
        properties: { _csrf: csrf, userName: { type: 'string', maxLength: 255 }, ...profileProperties, enableMfa: { type: 'string', enum: ['on'] } },
        required: ['_csrf', 'userName'], additionalProperties: false,
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    const values = { userName: body.userName.trim(), fullName: body.fullName?.trim() ?? '', emailAddress: body.emailAddress?.trim() ?? '', enableMfa: body.enableMfa === 'on' };
    const refuse = (text: string, statusCode = 400) => sendHtml(reply, createAdministratorPage({ ...frame(request), flash: { kind: 'error', text } }, values), statusCode);
    const problem = passwordsProblem(body, true);
    if (problem) return refuse(problem);
    try {
      await ctx.admins.create({ userName: values.userName, fullName: values.fullName, emailAddress: values.emailAddress }, body.password ?? '');
      if (values.enableMfa) await ctx.admins.enableMfa(values.userName);
    } catch (error) {
      return refuse(describeFailure(request, error, 'Creating the system administrator'));
    }
    request.log.info({ user: currentUserName(request), created: values.userName, isMfaEnabled: values.enableMfa }, 'console: system administrator created');
    return redirectWith(request, reply, '/administrators', { kind: 'ok', text: `System administrator '${values.userName}' was created.` });
  });

  app.get<{ Params: { userName: string } }>('/administrators/:userName', { schema: userNameParams }, async (request, reply) =>
    sendHtml(reply, configureAdministratorPage(frame(request), find(request.params.userName))));

  app.post<{ Params: { userName: string }; Body: ProfileBody }>('/administrators/:userName', {
    schema: { ...userNameParams, body: { type: 'object', properties: { _csrf: csrf, ...profileProperties }, required: ['_csrf'], additionalProperties: false } },
  }, async (request, reply) => {
    const admin = find(request.params.userName);
    const body = request.body;
    const values = { fullName: body.fullName?.trim() ?? '', emailAddress: body.emailAddress?.trim() ?? '' };
    const refuse = (text: string) => sendHtml(reply, configureAdministratorPage({ ...frame(request), flash: { kind: 'error', text } }, admin, values), 400);
    const problem = passwordsProblem(body, false);
    if (problem) return refuse(problem);
    try {
      // The password first: when it is refused (too short…), nothing has changed yet.
      if (body.password) await ctx.admins.setPassword(admin.userName, body.password);
      await ctx.admins.configure({ userName: admin.userName, ...values });
    } catch (error) {
      return refuse(describeFailure(request, error, 'Saving the system administrator'));
    }
    request.log.info({ user: currentUserName(request), configured: admin.userName, isPasswordChanged: !!body.password }, 'console: system administrator configured');
    return redirectWith(request, reply, '/administrators', { kind: 'ok', text: `System administrator '${admin.userName}' was saved.` });
  });

  app.post<{ Params: { userName: string }; Body: { _csrf: string; action: 'enable' | 'disable' | 'reset' } }>('/administrators/:userName/mfa', {
    schema: { ...userNameParams, body: { type: 'object', properties: { _csrf: csrf, action: { type: 'string', enum: ['enable', 'disable', 'reset'] } }, required: ['_csrf', 'action'], additionalProperties: false } },
  }, async (request, reply) => {
    const admin = find(request.params.userName);
    const path = adminPath(admin.userName);
    const action = request.body.action;
    try {
      if (action === 'enable') await ctx.admins.enableMfa(admin.userName);
      else if (action === 'reset') await ctx.admins.resetMfa(admin.userName);
      else await ctx.admins.disableMfa(admin.userName);
    } catch (error) {
      return redirectWith(request, reply, path, { kind: 'error', text: describeFailure(request, error, 'Changing MFA') });
    }
    request.log.info({ user: currentUserName(request), target: admin.userName, action }, 'console: MFA of a system administrator changed');
    const text = action === 'disable' ? `MFA of '${admin.userName}' is disabled.` : `MFA of '${admin.userName}' is pending: the set-up finishes at their next logon.`;
    return redirectWith(request, reply, path, { kind: 'ok', text });
  });

  app.get<{ Params: { userName: string } }>('/administrators/:userName/delete', { schema: userNameParams }, async (request, reply) => {
    const admin = find(request.params.userName);
    if (isSelf(request, admin.userName)) return redirectWith(request, reply, '/administrators', { kind: 'error', text: 'You cannot delete the account you are logged on with.' });
    return sendHtml(reply, deleteAdministratorPage(frame(request), admin));
  });

  app.post<{ Params: { userName: string }; Body: { _csrf: string } }>('/administrators/:userName/delete', {
    schema: { ...userNameParams, body: { type: 'object', properties: { _csrf: csrf }, required: ['_csrf'], additionalProperties: false } },
  }, async (request, reply) => {
    const admin = find(request.params.userName);
    if (isSelf(request, admin.userName)) return redirectWith(request, reply, '/administrators', { kind: 'error', text: 'You cannot delete the account you are logged on with.' });
    try {
      await ctx.admins.delete(admin.userName);
    } catch (error) {
      return redirectWith(request, reply, '/administrators', { kind: 'error', text: describeFailure(request, error, 'Deleting the system administrator') });
    }
    request.log.info({ user: currentUserName(request), deleted: admin.userName }, 'console: system administrator deleted');
    return redirectWith(request, reply, '/administrators', { kind: 'ok', text: `System administrator '${admin.userName}' was deleted.` });
  });
}
