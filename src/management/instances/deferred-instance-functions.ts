/**
 * Instance functions whose engine is not built yet (archiving/export profiles, jobs, directory
 * services, index and SMTP settings, archive admin access, some store maintenance).
 * They validate their arguments, keep their configuration in the management database
 * (`instanceSettings[<instanceID>]`) so scripts can set and read it back, and answer truthfully:
 * a call that would have to *do* something the engine cannot do yet fails with NOT_AVAILABLE_YET
 * and says so, rather than pretending to succeed.
 */
import type { ManagementDb } from '../db/management-db.js';
import { ManagementError } from '../errors.js';
import type { FunctionHandler } from '../functions/handler.js';


interface Stored<T> { nextId: number; items: T[] }
interface ProfileRecord { id: number; properties: Record<string, unknown>; serverSideExecution: { automatic: boolean; automaticPauseBetweenExecutions: number | null; automaticMaintenanceWindows: string | null } }
interface JobRecord { id: number; name: string | null; action: string | null; owner: string | null; enabled: boolean; schedule: Record<string, unknown> }

const notYet = (what: string) => new ManagementError('NOT_AVAILABLE_YET', `${what} The configuration is kept; nothing was run.`);

export function deferredInstanceFunctions(db: ManagementDb): Record<string, FunctionHandler> {
  const read = <T>(instanceId: string, key: string, fallback: T): T => (db.read().instanceSettings[instanceId]?.[key] as T | undefined) ?? fallback;
  const write = <T>(instanceId: string, key: string, change: (current: T | undefined) => { value: T; result: unknown }) =>
    db.update((draft) => {
      const settings = (draft.instanceSettings[instanceId] ??= {});
      const { value, result } = change(settings[key] as T | undefined);
      settings[key] = value as unknown;
      return result;
    });
  const id = (args: Readonly<Record<string, unknown>>) => args.instanceID as string;
  const num = (value: unknown, name: string): number => {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n)) throw new ManagementError('INVALID_ARGUMENT', `${name}: expected an integer.`);
    return n;
  };

  const profiles = (instanceId: string) => read<Stored<ProfileRecord>>(instanceId, 'profiles', { nextId: 1, items: [] });
  const jobs = (instanceId: string) => read<Stored<JobRecord>>(instanceId, 'jobs', { nextId: 1, items: [] });
  const changeJob = (args: Readonly<Record<string, unknown>>, change: (job: JobRecord) => void) => {
    const jobId = num(args.id, 'id');
    return write<Stored<JobRecord>>(id(args), 'jobs', (current) => {
      const store = structuredClone(current ?? { nextId: 1, items: [] });
      const job = store.items.find((j) => j.id === jobId);
      if (!job) throw new ManagementError('NOT_FOUND', `Job ${jobId} does not exist.`);
      change(job);
      return { value: store, result: null };
    });
  };
  const schedule = (args: Readonly<Record<string, unknown>>) => {
    const out: Record<string, unknown> = {};
    for (const key of ['timeZoneId', 'date', 'interval', 'time', 'dayOfWeek', 'dayOfMonth']) if (args[key] !== undefined) out[key] = args[key];
    if (typeof out.date === 'string' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(out.date)) throw new ManagementError('INVALID_ARGUMENT', 'date: expected YYYY-MM-DDThh:mm:ss.');
    if (typeof out.time === 'string' && !/^\d{2}:\d{2}(:\d{2})?$/.test(out.time)) throw new ManagementError('INVALID_ARGUMENT', 'time: expected hh:mm or hh:mm:ss.');
    if ((out.dayOfWeek !== undefined || out.dayOfMonth !== undefined) && out.time === undefined) throw new ManagementError('INVALID_ARGUMENT', 'time: required with dayOfWeek or dayOfMonth.');
    return out;
  };

  return {
    GetTimeZones: async () => ['$Local', ...Intl.supportedValuesOf('timeZone')].map((zone) => ({ id: zone, displayName: zone === '$Local' ? 'Time zone of the operating system' : zone })),

    // Archiving and export profiles: stored, not run.
    GetProfiles: async (args) => profiles(id(args)).items,
    CreateProfile: async (args) =>
      write<Stored<ProfileRecord>>(id(args), 'profiles', (current) => {
        const store = structuredClone(current ?? { nextId: 1, items: [] });
        const profile: ProfileRecord = { id: store.nextId++, properties: args.properties as Record<string, unknown>, serverSideExecution: { automatic: false, automaticPauseBetweenExecutions: null, automaticMaintenanceWindows: null } };
        store.items.push(profile);
        return { value: store, result: { id: profile.id } };
      }),
    DeleteProfile: async (args) =>
      write<Stored<ProfileRecord>>(id(args), 'profiles', (current) => {
        const profileId = num(args.id, 'id');
        const store = structuredClone(current ?? { nextId: 1, items: [] });
        if (!store.items.some((p) => p.id === profileId)) throw new ManagementError('NOT_FOUND', `Profile ${profileId} does not exist.`);
        store.items = store.items.filter((p) => p.id !== profileId);
        return { value: store, result: null };
      }),
    SetProfileServerSideExecution: async (args) =>
      write<Stored<ProfileRecord>>(id(args), 'profiles', (current) => {
        const profileId = num(args.id, 'id');
        const store = structuredClone(current ?? { nextId: 1, items: [] });
        const profile = store.items.find((p) => p.id === profileId);
        if (!profile) throw new ManagementError('NOT_FOUND', `Profile ${profileId} does not exist.`);
        const windows = (args.automaticMaintenanceWindows as string | undefined) ?? null;
        if (windows !== null && !/^\d{2}:\d{2}-\d{2}:\d{2}$/.test(windows)) throw new ManagementError('INVALID_ARGUMENT', 'automaticMaintenanceWindows: expected hh:mm-hh:mm.');
        profile.serverSideExecution = { automatic: args.automatic === true, automaticPauseBetweenExecutions: (args.automaticPauseBetweenExecutions as number | undefined) ?? null, automaticMaintenanceWindows: windows };
        return { value: store, result: null };
      }),
    RunProfile: async (args) => {
      const profileId = num(args.id, 'id');
      if (!profiles(id(args)).items.some((p) => p.id === profileId)) throw new ManagementError('NOT_FOUND', `Profile ${profileId} does not exist.`);
      throw notYet('Coffer does not run archiving or export profiles yet (use coffer import to archive mail).');
    },
    RunTemporaryProfile: async () => { throw notYet('Coffer does not run archiving or export profiles yet (use coffer import to archive mail).'); },
    GetWorkerResults: async () => [],

    // Jobs: stored, not scheduled.
    GetJobs: async (args) => jobs(id(args)).items,
    CreateJob: async (args) =>
      write<Stored<JobRecord>>(id(args), 'jobs', (current) => {
        const store = structuredClone(current ?? { nextId: 1, items: [] });
        const job: JobRecord = { id: store.nextId++, name: (args.name as string | undefined) ?? null, action: (args.action as string | undefined) ?? null, owner: (args.owner as string | undefined) ?? null, enabled: true, schedule: schedule(args) };
        store.items.push(job);
        return { value: store, result: { id: job.id } };
      }),
    DeleteJob: async (args) =>
      write<Stored<JobRecord>>(id(args), 'jobs', (current) => {
        const jobId = num(args.id, 'id');
        const store = structuredClone(current ?? { nextId: 1, items: [] });
        if (!store.items.some((j) => j.id === jobId)) throw new ManagementError('NOT_FOUND', `Job ${jobId} does not exist.`);
        store.items = store.items.filter((j) => j.id !== jobId);
        return { value: store, result: null };
      }),
    RenameJob: async (args) => changeJob(args, (job) => { job.name = (args.name as string | undefined) ?? null; }),
    SetJobEnabled: async (args) => changeJob(args, (job) => { job.enabled = args.enabled !== false; }),
    SetJobSchedule: async (args) => {
      if (args.instanceID === undefined) throw new ManagementError('INVALID_ARGUMENT', 'instanceID: required (the instance whose job this is).');
      return changeJob(args, (job) => { job.schedule = schedule(args); });
    },
    RunJobAsync: async (args) => {
      const jobId = num(args.id, 'id');
      if (!jobs(id(args)).items.some((j) => j.id === jobId)) throw new ManagementError('NOT_FOUND', `Job ${jobId} does not exist.`);
      throw notYet('Coffer does not run jobs yet.');
    },
    CancelJobAsync: async (args) => { throw new ManagementError('INVALID_STATE', `Job ${num(args.id, 'id')} is not running (Coffer does not run jobs yet).`); },
    GetJobResults: async () => [],

    // Settings kept for later parts.
    // Get/SetComplianceConfiguration are applied by the instance (compliance.ts, pushed by instance-lifecycle.ts).
    GetDirectoryServicesConfiguration: async (args) => read(id(args), 'directoryServices', { type: 'none' }),
    SetDirectoryServicesConfiguration: async (args) => write(id(args), 'directoryServices', () => ({ value: args.config, result: null })),
    SyncUsersWithDirectoryServices: async () => { throw notYet('Coffer has no directory services connector yet; users are managed with CreateUser and friends.'); },
    GetIndexConfiguration: async (args) => read(id(args), 'index', { attachmentExtensions: 'txt htm html pdf' }),
    SetIndexConfiguration: async (args) => write(id(args), 'index', () => ({ value: args.config, result: null })),
    GetArchiveAdminEnabled: async (args) => read(id(args), 'archiveAdminEnabled', false),
    SetArchiveAdminEnabled: async (args) => write(id(args), 'archiveAdminEnabled', () => ({ value: args.enabled === true, result: null })),
    CreateClientOneTimeUrlForArchiveAdmin: async (args) => {
      if (!read(id(args), 'archiveAdminEnabled', false)) throw new ManagementError('INVALID_STATE', `Archive admin access is disabled for instance '${id(args)}' (SetArchiveAdminEnabled).`);
      throw notYet('Web Access has no $archiveadmin login yet, so there is no one-time URL to give.');
    },

    // Get/Set/TestSmtpSettings live in the instance (it sends restores with them) and are forwarded.

    // Store maintenance with no counterpart in Coffer's store format yet.
  };
}

/** Names answered by deferredInstanceFunctions (for the report and the tests). */
export const DEFERRED_INSTANCE_FUNCTION_NAMES = Object.freeze(Object.keys(deferredInstanceFunctions({ read: () => ({ instanceSettings: {} }) } as unknown as ManagementDb)));
