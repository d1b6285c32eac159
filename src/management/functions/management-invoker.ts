/**
 * The Management Server's `invoke` for managementApiPlugin: the functions it answers from the
 * management database itself, and a hand-off (`forward`) for everything else (instance functions
 * go to the instance's Instance Host). Without a forward, such calls fail with NOT_IMPLEMENTED.
 */
import { ManagementError } from '../errors.js';
import type { AdminService, AuthenticatedAdmin } from '../admins.js';
import type { ManagementDb } from '../db/management-db.js';
import type { FunctionDeclaration } from '../api/metadata.js';
import type { InvokeContext } from '../api/plugin.js';
import { administratorFunctions } from './administrator-functions.js';
import { environmentFunctions, type EnvironmentFacts } from './environment-functions.js';
import type { FunctionHandler } from './handler.js';
import { smtpFunctions } from './smtp-functions.js';

export interface ManagementInvokerOptions {
  readonly db: ManagementDb;
  readonly admins: AdminService;
  readonly facts: EnvironmentFacts;
  readonly forward?: (declaration: FunctionDeclaration, args: Record<string, unknown>, context: InvokeContext<AuthenticatedAdmin>) => Promise<unknown>;
}

export function createManagementInvoker(options: ManagementInvokerOptions) {
  const handlers = new Map<string, FunctionHandler>(
    Object.entries({
      ...environmentFunctions(options.db, options.facts),
      ...administratorFunctions(options.admins),
      ...smtpFunctions(options.db),
    }),
  );
  return async (declaration: FunctionDeclaration, args: Record<string, unknown>, context: InvokeContext<AuthenticatedAdmin>): Promise<unknown> => {
    const handler = handlers.get(declaration.name);
    if (handler) return handler(args, context);
    if (options.forward) return options.forward(declaration, args, context);
    throw new ManagementError('NOT_IMPLEMENTED', `${declaration.name} is not available on this Management Server yet.`);
  };
}

/** Names the Management Server answers by itself. */
export const LOCAL_FUNCTION_NAMES = [
  'Ping',
  'GetEnvironmentInfo',
  'GetServiceStatus',
  'GetSystemAdministrators',
  'CreateSystemAdministrator',
  'SetSystemAdministratorConfiguration',
  'SetSystemAdministratorPassword',
  'DeleteSystemAdministrator',
  'GetSystemSmtpConfiguration',
  'SetSystemSmtpConfiguration',
  'TestSystemSmtpConfiguration',
] as const;
