/**
 * Instance IDs and aliases (Function Reference, CreateInstance): a-z, 0-9 and '-', lower case
 * only, first character a letter, 3 to 32 characters. Aliases follow the same rules and share one
 * name space with IDs, because the CAS resolves `user@<id or alias>` and `/<id or alias>/`.
 * Pure functions: the callers hold the data.
 */
export const INSTANCE_ID_MIN_CHARS = 3;
export const INSTANCE_ID_MAX_CHARS = 32;
const INSTANCE_ID_PATTERN = /^[a-z][a-z0-9-]*$/;

/** null when valid, else a sentence saying what is wrong (without the subject). */
export function describeInstanceIdProblem(value: string): string | null {
  if (value.length < INSTANCE_ID_MIN_CHARS) return `must be at least ${INSTANCE_ID_MIN_CHARS} characters long`;
  if (value.length > INSTANCE_ID_MAX_CHARS) return `must be at most ${INSTANCE_ID_MAX_CHARS} characters long`;
  if (!/^[a-z]/.test(value)) return 'must start with a lower-case letter (a-z)';
  if (!INSTANCE_ID_PATTERN.test(value)) return 'may contain only a-z, 0-9 and a dash (-)';
  return null;
}

export function isValidInstanceId(value: string): boolean {
  return describeInstanceIdProblem(value) === null;
}

export interface InstanceNames {
  readonly id: string;
  readonly alias: string | null;
}

/**
 * null when `candidate` may be used as an ID or alias of the instance `ownId` (null for a new
 * instance); else why not. An instance may reuse its own ID as its alias.
 */
export function describeNameConflict(candidate: string, existing: readonly InstanceNames[], ownId: string | null): string | null {
  for (const instance of existing) {
    if (instance.id === ownId) continue;
    if (instance.id === candidate) return `is already the ID of instance '${instance.id}'`;
    if (instance.alias === candidate) return `is already the alias of instance '${instance.id}'`;
  }
  return null;
}
