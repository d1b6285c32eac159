/**
 * Wiring of the Management Server's API part: opens the management database (refusing a damaged
 * one), creates the first administrator on first start, and returns the options for
 * managementApiPlugin. Listening, TLS and shutdown belong to the caller (`buildApp` / cli).
 */
import { ManagementDb } from './db/management-db.js';
import { AdminService, type AuthenticatedAdmin } from './admins.js';
import type { ManagementApiOptions } from './api/plugin.js';
import { createManagementInvoker, type ManagementInvokerOptions } from './functions/management-invoker.js';
import type { EnvironmentFacts } from './functions/environment-functions.js';

export interface ManagementServerParts {
  readonly db: ManagementDb;
  readonly admins: AdminService;
  /** Set on first start when a password was generated: print it once. */
  readonly initialAdministrator: { userName: string; generatedPassword: string | null; passwordFile: string | null } | null;
  readonly apiOptions: ManagementApiOptions<AuthenticatedAdmin>;
}

export async function openManagementServer(
  dataDir: string,
  options: { facts: EnvironmentFacts; env?: NodeJS.ProcessEnv; forward?: ManagementInvokerOptions['forward'] } & Partial<
    Pick<ManagementApiOptions<AuthenticatedAdmin>, 'backoff' | 'asyncStatus' | 'extraFunctions'>
  >,
): Promise<ManagementServerParts> {
  const db = await ManagementDb.open(dataDir);
  const admins = new AdminService(db);
  const initialAdministrator = await admins.ensureInitialAdministrator(dataDir, options.env ?? process.env);
  const invoke = createManagementInvoker({ db, admins, facts: options.facts, forward: options.forward });
  return {
    db,
    admins,
    initialAdministrator,
    apiOptions: {
      authenticate: (user, password) => admins.authenticateApi(user, password),
      invoke,
      backoff: options.backoff,
      asyncStatus: options.asyncStatus,
      extraFunctions: options.extraFunctions,
    },
  };
}
