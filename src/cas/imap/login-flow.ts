/**
 * The one path from credentials to an authenticated session, shared by LOGIN and AUTHENTICATE:
 * split `user@instance` on the last `@`, route to the instance, let the instance check the password
 * and the `imap` login privilege, and answer failures after a growing delay.
 */
import type { CommandOutcome } from './command-spec.js';
import { CAPABILITIES_AUTHENTICATED } from './capabilities.js';
import type { Session } from './session.js';

export function splitLoginName(loginName: string): { user: string; instance: string } | null {
  const at = loginName.lastIndexOf('@');
  if (at <= 0 || at === loginName.length - 1) return null;
  return { user: loginName.slice(0, at), instance: loginName.slice(at + 1) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function failed(session: Session, loginName: string, text = 'Authentication failed.'): Promise<CommandOutcome> {
  const delayMs = session.host.throttle.recordFailure(session.remoteAddress, loginName);
  await sleep(delayMs);
  return { status: 'NO', code: { name: 'AUTHENTICATIONFAILED' }, text };
}

export async function performLogin(session: Session, loginName: string, password: string): Promise<CommandOutcome> {
  if (!session.isSecure) {
    return { status: 'NO', code: { name: 'PRIVACYREQUIRED' }, text: 'Use STARTTLS (or port 993) before logging in.' };
  }
  const parts = splitLoginName(loginName);
  if (parts === null || password === '') {
    session.log.info('login name without @instance');
    return failed(session, loginName, 'Authentication failed. Log in as user@instance.');
  }
  const route = await session.host.resolveInstance(parts.instance);
  if (!route.ok) {
    if (route.reason === 'unavailable') {
      session.log.info({ instance: parts.instance }, 'login to an unavailable instance');
      return { status: 'NO', code: { name: 'UNAVAILABLE' }, text: route.message };
    }
    session.log.info({ instance: parts.instance.slice(0, 64) }, 'login to an unknown instance');
    return failed(session, loginName);
  }
  let result;
  try {
    result = await route.client.authenticate({ user: parts.user, password, channel: 'imap', remote: session.remoteAddress });
  } catch (error) {
    session.log.warn({ err: error, instance: route.instanceId }, 'instance did not answer the login');
    return { status: 'NO', code: { name: 'UNAVAILABLE' }, text: 'The archive is not available right now. Please try again later.' };
  }
  if (!result.ok) {
    session.log.info({ instance: route.instanceId, reason: result.reason }, 'login refused');
    switch (result.reason) {
      case 'safeMode':
        return { status: 'NO', code: { name: 'UNAVAILABLE' }, text: 'The archive is in safe mode: only administrators can log in.' };
      case 'privilege':
        return { status: 'NO', code: { name: 'AUTHORIZATIONFAILED' }, text: 'This user may not access the archive over IMAP.' };
      default:
        return failed(session, loginName);
    }
  }
  session.host.throttle.recordSuccess(loginName);
  session.setLoggedIn({ instanceId: route.instanceId, client: route.client, token: result.session, userName: result.userName, loginName });
  session.log.info('logged in');
  return { status: 'OK', code: { name: 'CAPABILITY', args: CAPABILITIES_AUTHENTICATED }, text: 'Logged in' };
}
