/**
 * Instances on the Management Server, for real, through each Instance Host's control interface:
 * CreateInstance, DeleteInstances, GetInstances, Start/Stop/Restart/Freeze/ThawInstances,
 * Get/SetInstanceConfiguration. The management database holds what an instance is (ID, alias,
 * host, start mode, configuration); the host holds what it is doing (status), mirrored by HostLinks.
 */
import type { Logger } from '../../common/logger.js';
import { RpcError } from '../../common/rpc/peer.js';
import type { HostControlClient, InstanceClient } from '../../instance/client.js';
import type { InstanceState } from '../../instance-host/supervisor.js';
import type { ManagementDb } from '../db/management-db.js';
import type { InstanceConfig, InstanceRecord, StartMode } from '../db/schema.js';
import { ManagementError } from '../errors.js';
import type { HostLinks } from '../hosts/host-links.js';
import { describeInstanceIdProblem, describeNameConflict } from '../instance-ids.js';
import { parseInstanceFilter, selectInstances } from '../instance-filter.js';
import type { FunctionHandler } from '../functions/handler.js';
import { complianceForInstance, complianceFunctions } from './compliance.js';

export type ReportedStatus = InstanceState['status'];

/** One row of GetInstances. */
export interface InstanceView {
  instanceID: string;
  alias: string | null;
  displayName: string;
  instanceHost: string;
  startMode: StartMode;
  baseDirectory: string;
  status: ReportedStatus;
  startStopError: string | null;
  processID: number | null;
}

export interface InstanceServices {
  readonly db: ManagementDb;
  readonly links: HostLinks;
  readonly log: Logger;
  /** Called after any change the routing table may show. */
  readonly changed: () => void;
}

/** Statuses in which the instance process serves calls. */
export const SERVING_STATUSES: readonly ReportedStatus[] = ['running', 'frozen', 'safeMode'];

export function viewInstance(services: InstanceServices, record: InstanceRecord): InstanceView {
  const why = services.links.whyDisconnected(record.host);
  const state = why ? undefined : services.links.state(record.host, record.id);
  return {
    instanceID: record.id,
    alias: record.alias,
    displayName: record.config.displayName,
    instanceHost: record.host,
    startMode: record.startMode,
    baseDirectory: record.config.baseDirectory,
    status: why ? 'error' : state?.status ?? 'stopped',
    startStopError: why ? `${why}.` : state?.startStopError ?? null,
    processID: state?.pid ?? null,
  };
}

function findRecord(services: InstanceServices, instanceId: string): InstanceRecord {
  const record = services.db.read().instances.find((instance) => instance.id === instanceId);
  if (!record) throw new ManagementError('NOT_FOUND', `Instance '${instanceId}' does not exist.`);
  return record as InstanceRecord;
}

function select(services: InstanceServices, filterText: string): InstanceRecord[] {
  const parsed = parseInstanceFilter(filterText);
  if (!parsed.ok) throw new ManagementError('INVALID_ARGUMENT', `instanceFilter ${parsed.message}.`);
  const records = services.db.read().instances as InstanceRecord[];
  for (const id of parsed.value.instanceIds) {
    if (!records.some((record) => record.id === id)) throw new ManagementError('NOT_FOUND', `instanceFilter: instance '${id}' does not exist.`);
  }
  const rows = records.map((record) => ({ record, id: record.id, host: record.host, isRunning: SERVING_STATUSES.includes(viewInstance(services, record).status) }));
  return selectInstances(parsed.value, rows).map((row) => row.record);
}

/** What the host's `define` takes: a relative base directory lives under the host's `<data>/instances`. */
function defineSpec(record: InstanceRecord): { instanceId: string; baseDir: string; startMode: StartMode } {
  return { instanceId: record.id, baseDir: record.config.baseDirectory, startMode: record.startMode };
}

/** Control calls fail with RpcErrors; callers see a ManagementError with the host's words. */
async function onHost<T>(services: InstanceServices, record: InstanceRecord, what: string, call: (control: HostControlClient) => Promise<T>): Promise<T> {
  const control = services.links.control(record.host);
  try {
    return await call(control);
  } catch (error) {
    if (error instanceof ManagementError) throw error;
    const message = error instanceof RpcError || error instanceof Error ? error.message : String(error);
    throw new ManagementError('INSTANCE_FAILED', `${what} instance '${record.id}' failed: ${message}`);
  }
}

/** Settings the instance applies itself, pushed at every start and when they change. */
const LOCAL_SETTINGS = ['imapServerConnectionLogEnabled', 'webAccessMfaRequired'] as const;

/**
 * Pushes the settings the instance applies itself (SetInstanceLocalConfiguration): those of the
 * instance configuration (LOCAL_SETTINGS) and the compliance configuration, which decides what
 * the instance writes to its audit log.
 */
export async function pushLocalConfiguration(services: InstanceServices, record: InstanceRecord, connect: InstanceConnector): Promise<void> {
  const client = await connect(record);
  try {
    await client.management('SetInstanceLocalConfiguration', {
      imapServerConnectionLogEnabled: record.config.imapServerConnectionLogEnabled,
      // The instance's own name for it: its logins ask for MFA enrolment on the web channel.
      requireMfa: record.config.webAccessMfaRequired,
      compliance: complianceForInstance(services.db, record.id),
    });
  } finally {
    client.close();
  }
}

/** Opens a connection to an instance process through its host (one per call; see instance-forward.ts). */
export type InstanceConnector = (record: InstanceRecord) => Promise<InstanceClient>;

/** Defines every instance of a newly connected host there and starts the `automatic` ones. */
export async function setUpHostInstances(services: InstanceServices, serverName: string, control: HostControlClient, connect: InstanceConnector): Promise<void> {
  const records = (services.db.read().instances as InstanceRecord[]).filter((record) => record.host.toLowerCase() === serverName.toLowerCase());
  for (const record of records) {
    try {
      services.links.remember(record.host, await control.call<InstanceState>('define', defineSpec(record)));
      const state = services.links.state(record.host, record.id);
      if (record.startMode === 'automatic' && state && (state.status === 'stopped' || state.status === 'error')) {
        services.links.remember(record.host, await control.call<InstanceState>('start', { instanceId: record.id }));
        await pushLocalConfiguration(services, record, connect);
        services.log.info({ instance: record.id, host: serverName }, 'instance started (start mode automatic)');
      }
    } catch (error) {
      services.log.error({ instance: record.id, host: serverName, err: error }, 'could not set up instance on its Instance Host');
    }
  }
  services.changed();
}

function newConfig(config: Record<string, unknown>, baseDirectory: string): InstanceConfig {
  return {
    displayName: typeof config.displayName === 'string' ? config.displayName : '',
    baseDirectory,
    debugLogEnabled: config.debugLogEnabled === true,
    imapServerConnectionLogEnabled: config.imapServerConnectionLogEnabled === true,
    webAccessMfaRequired: config.webAccessMfaRequired === true,
    vssWriterEnabled: config.vssWriterEnabled === true,
    vssWriterExcludeIndexes: config.vssWriterExcludeIndexes === true,
  };
}

function aliasOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function checkNames(services: InstanceServices, id: string, alias: string | null, ownId: string | null): void {
  const existing = services.db.read().instances.map((instance) => ({ id: instance.id, alias: instance.alias }));
  const idConflict = ownId === null ? describeNameConflict(id, existing, null) : null;
  if (idConflict) throw new ManagementError('ALREADY_EXISTS', `config.instanceID: '${id}' ${idConflict}.`);
  if (alias !== null) {
    const aliasProblem = describeInstanceIdProblem(alias);
    if (aliasProblem) throw new ManagementError('INVALID_ARGUMENT', `config.alias: '${alias}' ${aliasProblem}.`);
    if (alias === id && ownId === null) return;
    const aliasConflict = describeNameConflict(alias, existing, ownId ?? id);
    if (aliasConflict) throw new ManagementError('ALREADY_EXISTS', `config.alias: '${alias}' ${aliasConflict}.`);
  }
}

function findHost(services: InstanceServices, serverName: string) {
  const host = services.db.read().instanceHosts.find((h) => h.serverName.toLowerCase() === serverName.toLowerCase());
  if (!host) throw new ManagementError('NOT_FOUND', `config.instanceHost: there is no Instance Host '${serverName}' (GetInstanceHosts lists them).`);
  return host;
}

function isStopped(view: InstanceView): boolean {
  return view.status === 'stopped' || (view.status === 'error' && view.processID === null);
}

/** Runs `action` on every selected instance; all are tried, failures are reported together. */
async function forEachSelected(services: InstanceServices, filterText: string, action: (record: InstanceRecord) => Promise<void>): Promise<null> {
  const failures: string[] = [];
  await Promise.all(select(services, filterText).map(async (record) => {
    try { await action(record); } catch (error) { failures.push(error instanceof ManagementError ? error.message : `instance '${record.id}': ${(error as Error).message}`); }
  }));
  services.changed();
  if (failures.length > 0) throw new ManagementError('INSTANCE_FAILED', failures.sort().join(' '));
  return null;
}

export function instanceLifecycleFunctions(services: InstanceServices, connect: InstanceConnector): Record<string, FunctionHandler> {
  const start = async (record: InstanceRecord, safeMode: boolean | undefined) => {
    if (record.startMode === 'disabled') throw new ManagementError('INVALID_STATE', `Instance '${record.id}' has start mode disabled and cannot be started; change its start mode first (SetInstanceConfiguration).`);
    const view = viewInstance(services, record);
    if (SERVING_STATUSES.includes(view.status)) {
      if (safeMode !== undefined && (view.status === 'safeMode') !== safeMode) {
        services.links.remember(record.host, await onHost(services, record, 'Switching Safe Mode of', (c) => c.call<InstanceState>('setSafeMode', { instanceId: record.id, on: safeMode })));
      }
      return;
    }
    await onHost(services, record, 'Defining', (c) => c.call<InstanceState>('define', defineSpec(record)));
    services.links.remember(record.host, await onHost(services, record, 'Starting', (c) => c.call<InstanceState>('start', { instanceId: record.id, safeMode: safeMode ?? false })));
    await pushLocalConfiguration(services, record, connect).catch((error: Error) => services.log.warn({ instance: record.id, err: error.message }, 'could not push the instance configuration'));
  };

  /**
   * Tells a running instance a changed setting now. A stopped one hears it at its start; a frozen
   * one holds every write until it is thawed (process.ts writeGate), so it hears it at ThawInstances
   * rather than leaving the caller waiting.
   */
  const pushIfServing = async (record: InstanceRecord, what: string) => {
    const view = viewInstance(services, record);
    if (!SERVING_STATUSES.includes(view.status) || view.status === 'frozen') return;
    try {
      await pushLocalConfiguration(services, record, connect);
    } catch (error) {
      throw new ManagementError('INSTANCE_FAILED', `The ${what} is stored, but instance '${record.id}' could not be told (${(error as Error).message}); it applies it at its next start.`);
    }
  };

  return {
    ...complianceFunctions(services.db, (instanceId) => pushIfServing(findRecord(services, instanceId), 'compliance configuration')),

    GetInstances: async (args) => select(services, args.instanceFilter as string).map((record) => viewInstance(services, record)),

    GetInstanceConfiguration: async (args) => {
      const record = findRecord(services, args.instanceID as string);
      return { instanceID: record.id, alias: record.alias, instanceHost: record.host, startMode: record.startMode, ...record.config };
    },

    CreateInstance: async (args) => {
      const config = args.config as Record<string, unknown>;
      const id = config.instanceID as string;
      const alias = aliasOf(config.alias);
      checkNames(services, id, alias, null);
      const host = findHost(services, config.instanceHost as string);
      const baseDirectory = typeof config.baseDirectory === 'string' && config.baseDirectory !== '' ? config.baseDirectory : host.baseDirectory ? `${host.baseDirectory.replace(/[\\/]+$/, '')}/${id}` : id;
      const record: InstanceRecord = { id, alias, host: host.serverName, startMode: (config.startMode as StartMode | undefined) ?? 'automatic', config: newConfig(config, baseDirectory) };
      // The base directory is created on the host before the instance exists anywhere else.
      const state = await onHost(services, record, 'Creating', (c) => c.call<InstanceState>('define', defineSpec(record)));
      try {
        await services.db.update((draft) => {
          if (draft.instances.some((i) => i.id === id)) throw new ManagementError('ALREADY_EXISTS', `config.instanceID: instance '${id}' already exists.`);
          draft.instances.push(record);
        });
      } catch (error) {
        await services.links.control(record.host).call('remove', { instanceId: id }).catch(() => {});
        throw error;
      }
      services.links.remember(record.host, state);
      services.changed();
      return viewInstance(services, record);
    },

    SetInstanceConfiguration: async (args) => {
      const config = args.config as Record<string, unknown>;
      const current = findRecord(services, config.instanceID as string);
      const view = viewInstance(services, current);
      const alias = config.alias === undefined || config.alias === null ? current.alias : aliasOf(config.alias);
      checkNames(services, current.id, alias, current.id);
      const hostName = typeof config.instanceHost === 'string' ? findHost(services, config.instanceHost).serverName : current.host;
      const baseDirectory = typeof config.baseDirectory === 'string' && config.baseDirectory !== '' ? config.baseDirectory : current.config.baseDirectory;
      const movesHost = hostName.toLowerCase() !== current.host.toLowerCase();
      if ((movesHost || baseDirectory !== current.config.baseDirectory) && !isStopped(view)) {
        throw new ManagementError('INVALID_STATE', `Instance '${current.id}' must be stopped before its Instance Host or base directory changes (it is ${view.status}).`);
      }
      const flag = (name: keyof InstanceConfig) => (typeof config[name] === 'boolean' ? (config[name] as boolean) : (current.config[name] as boolean));
      const next: InstanceRecord = {
        id: current.id,
        alias,
        host: hostName,
        startMode: (config.startMode as StartMode | undefined) ?? current.startMode,
        config: {
          displayName: typeof config.displayName === 'string' ? config.displayName : current.config.displayName,
          baseDirectory,
          debugLogEnabled: flag('debugLogEnabled'),
          imapServerConnectionLogEnabled: flag('imapServerConnectionLogEnabled'),
          webAccessMfaRequired: flag('webAccessMfaRequired'),
          vssWriterEnabled: flag('vssWriterEnabled'),
          vssWriterExcludeIndexes: flag('vssWriterExcludeIndexes'),
        },
      };
      // The (new) host learns the instance first, so a refused directory leaves the database as it was.
      services.links.remember(next.host, await onHost(services, next, 'Configuring', (c) => c.call<InstanceState>('define', defineSpec(next))));
      if (movesHost) {
        await services.links.control(current.host).call('remove', { instanceId: current.id }).catch(() => {});
        services.links.forget(current.host, current.id);
      }
      await services.db.update((draft) => {
        const index = draft.instances.findIndex((i) => i.id === current.id);
        if (index < 0) throw new ManagementError('NOT_FOUND', `Instance '${current.id}' does not exist.`);
        draft.instances[index] = next;
      });
      if (LOCAL_SETTINGS.some((key) => next.config[key] !== current.config[key])) await pushIfServing(next, 'instance configuration');
      services.changed();
      return null;
    },

    DeleteInstances: async (args) => {
      const selected = select(services, args.instanceFilter as string);
      const running = selected.map((record) => viewInstance(services, record)).filter((view) => !isStopped(view));
      if (running.length > 0) {
        throw new ManagementError('INVALID_STATE', `Stop these instances before deleting them: ${running.map((view) => `${view.instanceID} (${view.status})`).join(', ')}.`);
      }
      for (const record of selected) {
        if (services.links.isConnected(record.host)) {
          await onHost(services, record, 'Removing', (c) => c.call('remove', { instanceId: record.id }));
          services.links.forget(record.host, record.id);
        }
      }
      const ids = new Set(selected.map((record) => record.id));
      // The base directories stay on their hosts: deleting archived mail takes an operator's hand.
      await services.db.update((draft) => {
        draft.instances = draft.instances.filter((instance) => !ids.has(instance.id));
        for (const id of ids) delete draft.instanceSettings[id];
      });
      services.changed();
      return null;
    },

    StartInstances: async (args) => forEachSelected(services, args.instanceFilter as string, (record) => start(record, args.safeMode as boolean | undefined)),

    StopInstances: async (args) =>
      forEachSelected(services, args.instanceFilter as string, async (record) => {
        if (isStopped(viewInstance(services, record))) return;
        services.links.remember(record.host, await onHost(services, record, 'Stopping', (c) => c.call<InstanceState>('stop', { instanceId: record.id })));
      }),

    RestartInstances: async (args) =>
      forEachSelected(services, args.instanceFilter as string, async (record) => {
        if (isStopped(viewInstance(services, record))) return start(record, undefined);
        services.links.remember(record.host, await onHost(services, record, 'Restarting', (c) => c.call<InstanceState>('restart', { instanceId: record.id })));
        await pushLocalConfiguration(services, record, connect).catch(() => {});
      }),

    FreezeInstances: async (args) =>
      forEachSelected(services, args.instanceFilter as string, async (record) => {
        const view = viewInstance(services, record);
        if (view.status === 'frozen') return;
        if (!SERVING_STATUSES.includes(view.status)) throw new ManagementError('INVALID_STATE', `Instance '${record.id}' is ${view.status}; only a running instance can be frozen.`);
        services.links.remember(record.host, await onHost(services, record, 'Freezing', (c) => c.call<InstanceState>('freeze', { instanceId: record.id })));
      }),

    ThawInstances: async (args) =>
      forEachSelected(services, args.instanceFilter as string, async (record) => {
        const view = viewInstance(services, record);
        if (view.status !== 'frozen') return;
        services.links.remember(record.host, await onHost(services, record, 'Thawing', (c) => c.call<InstanceState>('thaw', { instanceId: record.id })));
        // Settings changed while it was frozen were not pushed (pushIfServing).
        await pushLocalConfiguration(services, record, connect).catch((error: Error) => services.log.warn({ instance: record.id, err: error.message }, 'could not push the instance configuration'));
      }),
  };
}
