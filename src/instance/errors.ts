/** Expected outcomes of instance calls carry a stable code; the RPC layer passes code and message on. */
export type InstanceErrorCode =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'NO_PERMISSION' | 'SESSION_INVALID' | 'FROZEN'
  | 'STORE_UNAVAILABLE' | 'INVALID_STATE' | 'NOT_IMPLEMENTED_YET' | 'CANCELLED';

export class InstanceError extends Error {
  constructor(readonly code: InstanceErrorCode, message: string, readonly details?: unknown) { super(message); }
}
