/**
 * Instance-scoped functions of the reference, forwarded to the instance process through its
 * Instance Host (InstanceClient.management). Each call opens its own relay connection: closing
 * it is how a cancelled call (cancel-async, or an HTTP client gone away) reaches the instance,
 * whose handler then sees its abort signal. Progress events become percentProgress/statusText.
 */
import type { RoleCertificate } from '../../common/certs.js';
import { RpcError } from '../../common/rpc/peer.js';
import { InstanceClient } from '../../instance/client.js';
import type { InstanceRecord } from '../db/schema.js';
import { MANAGEMENT_ERROR_CODES, ManagementError, type ManagementErrorCode } from '../errors.js';
import type { FunctionHandler } from '../functions/handler.js';
import { SERVING_STATUSES, viewInstance, type InstanceConnector, type InstanceServices } from './instance-lifecycle.js';

/** Functions a frozen instance still answers (the instance's own rule for its write gate). */
const READ_ONLY_FUNCTION = /^(Get|Verify)/;

export function instanceConnector(services: InstanceServices, certificate: () => RoleCertificate): InstanceConnector {
  return async (record: InstanceRecord) => {
    const address = services.links.address(record.host);
    const why = services.links.whyDisconnected(record.host);
    if (!address || why) throw new ManagementError('HOST_UNAVAILABLE', `${why ?? `Instance Host '${record.host}' is not known`}.`);
    try {
      return await InstanceClient.connect(record.id, address, certificate());
    } catch (error) {
      throw new ManagementError('INSTANCE_UNAVAILABLE', `Instance '${record.id}' cannot be reached: ${(error as Error).message}.`);
    }
  };
}

function asManagementError(error: unknown, instanceId: string): unknown {
  if (error instanceof ManagementError) return error;
  if (error instanceof RpcError) {
    if (error.code === 'DISCONNECTED') return new ManagementError('INSTANCE_UNAVAILABLE', `Instance '${instanceId}' closed the connection before answering (${error.message}).`);
    const code = (MANAGEMENT_ERROR_CODES as readonly string[]).includes(error.code) ? (error.code as ManagementErrorCode) : 'INSTANCE_FAILED';
    return new ManagementError(code, error.message);
  }
  return error;
}

/** The forward for one instance function: checks the instance exists and runs, then calls it. */
export function forwardToInstance(services: InstanceServices, connect: InstanceConnector): (name: string) => FunctionHandler {
  return (name) => async (args, context) => {
    const instanceId = args.instanceID as string | undefined;
    if (instanceId === undefined) throw new ManagementError('INVALID_ARGUMENT', 'instanceID: required.');
    const record = services.db.read().instances.find((instance) => instance.id === instanceId) as InstanceRecord | undefined;
    if (!record) throw new ManagementError('NOT_FOUND', `Instance '${instanceId}' does not exist.`);
    const view = viewInstance(services, record);
    if (!SERVING_STATUSES.includes(view.status)) {
      throw new ManagementError('INSTANCE_UNAVAILABLE', `Instance '${instanceId}' is ${view.status}${view.startStopError ? ` (${view.startStopError})` : ''}; start it first (StartInstances).`);
    }
    // A frozen instance holds every write until it is thawed (process.ts writeGate); answer now
    // instead of leaving the caller hanging. Reads (Get…, Verify…) go through.
    if (view.status === 'frozen' && !READ_ONLY_FUNCTION.test(name)) {
      throw new ManagementError('INVALID_STATE', `Instance '${instanceId}' is frozen; ${name} would wait until it is thawed (ThawInstances).`);
    }
    const { instanceID: _omit, ...instanceArgs } = args;
    if (context.signal.aborted) throw new ManagementError('CANCELLED', 'The call was cancelled.');
    const client = await connect(record);
    try {
      return await client.management(name, instanceArgs, (percent, text) => context.progress(percent, text ?? undefined), context.signal);
    } catch (error) {
      if (context.signal.aborted) throw new ManagementError('CANCELLED', 'The call was cancelled.');
      throw asManagementError(error, instanceId);
    } finally {
      client.close();
    }
  };
}
