/**
 * Get/SetComplianceConfiguration. The Management Server keeps the configuration in its database
 * (`instanceSettings[<instanceID>].compliance`, so it survives a lost instance directory and is
 * there before the instance first starts) and the instance applies it: instance-lifecycle.ts
 * pushes it with SetInstanceLocalConfiguration at every start and here whenever it is set. The
 * instance then writes a successful user activity to its audit log only when
 * `logSuccessfulUserActivities` names it (names and default: AUDIT_ACTIONS and
 * DEFAULT_COMPLIANCE_CONFIGURATION in src/instance/api.ts).
 */
import { DEFAULT_COMPLIANCE_CONFIGURATION, type ComplianceConfiguration } from '../../instance/api.js';
import type { ManagementDb } from '../db/management-db.js';
import type { FunctionHandler } from '../functions/handler.js';

/** What GetComplianceConfiguration answers: the stored object over the defaults (other fields SPE scripts set are kept as given). */
export function readComplianceConfiguration(db: ManagementDb, instanceId: string): ComplianceConfiguration & Record<string, unknown> {
  const stored = db.read().instanceSettings[instanceId]?.compliance as Record<string, unknown> | undefined;
  return { ...structuredClone(DEFAULT_COMPLIANCE_CONFIGURATION) as ComplianceConfiguration, ...structuredClone(stored ?? {}) };
}

/** The part the instance applies (SetInstanceLocalConfiguration's `compliance`). */
export function complianceForInstance(db: ManagementDb, instanceId: string): ComplianceConfiguration {
  const config = readComplianceConfiguration(db, instanceId);
  return {
    adminEmailPreviewEnabled: config.adminEmailPreviewEnabled === true,
    legalHoldEnabled: config.legalHoldEnabled === true,
    logSuccessfulUserActivities: Array.isArray(config.logSuccessfulUserActivities) ? config.logSuccessfulUserActivities.filter((name): name is string => typeof name === 'string') : [],
  };
}

/**
 * `push` tells the running instance (and throws a ManagementError when it cannot); the shape of
 * `config` was checked at the edge (json-shapes.ts, `complianceConfig`).
 */
export function complianceFunctions(db: ManagementDb, push: (instanceId: string) => Promise<void>): Record<string, FunctionHandler> {
  return {
    GetComplianceConfiguration: async (args) => readComplianceConfiguration(db, args.instanceID as string),
    SetComplianceConfiguration: async (args) => {
      const instanceId = args.instanceID as string;
      // A field left out (or given as null) keeps its value: a partial config changes only what it names.
      const given = Object.fromEntries(Object.entries(args.config as Record<string, unknown>).filter(([, value]) => value !== null && value !== undefined));
      await db.update((draft) => {
        const settings = (draft.instanceSettings[instanceId] ??= {});
        settings.compliance = { ...structuredClone(DEFAULT_COMPLIANCE_CONFIGURATION), ...(settings.compliance as Record<string, unknown> | undefined), ...given };
      });
      await push(instanceId);
      return null;
    },
  };
}
