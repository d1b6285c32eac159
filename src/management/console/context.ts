/** What the console's route files share: the services they call and helpers for page frames. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminService, AuthenticatedAdmin } from '../admins.js';
import type { FailureTracker } from '../api/basic-auth.js';
import type { Logger } from '../../common/logger.js';
import { isManagementError } from '../errors.js';
import { csrfToken, currentUserName, takeFlash } from './session.js';
import type { PageFrame, Section } from './views/layout.js';

/**
 * Runs a Management API function in-process as the given administrator (the same invoker the API
 * on 8474 uses, without HTTP); resolves with the function's result, throws ManagementError for
 * expected failures.
 */
export type ConsoleInvoke = (functionName: string, args: Record<string, unknown>, admin: AuthenticatedAdmin) => Promise<unknown>;

export interface ConsoleContext {
  readonly admins: AdminService;
  readonly invoke: ConsoleInvoke;
  /** Failed passwords and codes per address and user name (the Management API's back-off). */
  readonly failures: FailureTracker;
  readonly log: Logger;
}

/** The frame of a page for the logged-on administrator; takes the flash message. */
export function frameFor(request: FastifyRequest, title: string, section: Section): PageFrame & { user: { userName: string; csrf: string } } {
  return { title, section, user: { userName: currentUserName(request), csrf: csrfToken(request) }, flash: takeFlash(request) };
}

export function sendHtml(reply: FastifyReply, body: string, statusCode = 200): FastifyReply {
  return reply.code(statusCode).type('text/html; charset=utf-8').send(body);
}

/**
 * The text to show for a failed operation: a ManagementError's message is meant for the operator;
 * anything else is a bug, logged with a reference that the page shows instead of the detail.
 */
export function describeFailure(request: FastifyRequest, error: unknown, what: string): string {
  if (isManagementError(error)) return error.message;
  request.log.error({ err: error }, `console: ${what} failed`);
  return `${what} failed because of an internal error (reference ${request.id}).`;
}
