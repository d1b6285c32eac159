/**
 * Expected outcomes of the Management Console that end a request early, each with a stable code
 * and the HTTP status it is answered with (STYLE.md rule 9). Failures of the Management Server's
 * own operations arrive as ManagementError (`../errors.ts`) and are shown on the page that asked.
 */
export const CONSOLE_ERROR_STATUS = {
  /** A POST without the session's CSRF token, or from another origin. */
  CSRF: 403,
  /** Input the route schema let through but that makes no sense (empty after trimming…). */
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
} as const;

export type ConsoleErrorCode = keyof typeof CONSOLE_ERROR_STATUS;

export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message);
  }

  get statusCode(): number {
    return CONSOLE_ERROR_STATUS[this.code];
  }
}
