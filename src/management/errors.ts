/**
 * Expected outcomes of the Management Server, each with a stable code (STYLE.md rule 9).
 * A ManagementError's message is shown to the API caller as `error.message`; anything else that
 * is thrown is a bug: logged with its stack, answered with a generic message and a reference.
 */
export const MANAGEMENT_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNKNOWN_FUNCTION',
  'NOT_IMPLEMENTED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'UNKNOWN_STATUS_TOKEN',
  'TOO_MANY_RUNNING_CALLS',
  'CANCELLED',
  'SMTP_NOT_CONFIGURED',
  'SMTP_FAILED',
  'DATABASE_DAMAGED',
  'DATABASE_WRITE_FAILED',
  'MFA_STATE',
  'INVALID_STATE',
  'HOST_UNAVAILABLE',
  'INSTANCE_UNAVAILABLE',
  'INSTANCE_FAILED',
  'NOT_AVAILABLE_YET',
] as const;

export type ManagementErrorCode = (typeof MANAGEMENT_ERROR_CODES)[number];

export class ManagementError extends Error {
  override readonly name = 'ManagementError';
  constructor(
    readonly code: ManagementErrorCode,
    message: string,
    /** Shown as `error.details`; keep free of secrets and internals. */
    readonly details: string | null = null,
  ) {
    super(message);
  }
}

/** A call argument failed validation; the message names the argument. */
export class InvalidArgumentError extends ManagementError {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('INVALID_ARGUMENT', message);
  }
}

export function isManagementError(error: unknown): error is ManagementError {
  return error instanceof ManagementError;
}
