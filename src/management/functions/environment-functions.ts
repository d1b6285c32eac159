/** Ping, GetEnvironmentInfo, GetServiceStatus: what the Management Server knows by itself. */
import os from 'node:os';
import type { ManagementDb } from '../db/management-db.js';
import type { FunctionHandler } from './handler.js';

export interface EnvironmentFacts {
  readonly productVersion: string;
  readonly startedAt: Date;
  /** Shown as serverName; defaults to the host name. */
  readonly serverName?: string;
  /** Live state of hosts and CASes, when the server role wires it in; "unknown" without it. */
  readonly probe?: {
    instanceHostStatus(serverName: string): string;
    clientAccessServerStatus(serverName: string): string;
  };
}

export function environmentFunctions(db: ManagementDb, facts: EnvironmentFacts): Record<string, FunctionHandler> {
  const serverName = facts.serverName ?? os.hostname();
  return {
    Ping: async () => null,

    GetEnvironmentInfo: async (_args, context) => ({
      version: facts.productVersion,
      copyright: 'Coffer contributors, MIT licence',
      licenseeName: null,
      licenseeID: null,
      serverName,
      userName: context.admin.userName,
      systemProperties: {
        processors: os.cpus().map((cpu) => cpu.model),
        totalPhysicalMemory: os.totalmem(),
        operatingSystem: `${os.type()} ${os.release()} (${os.arch()})`,
        nodeVersion: process.version,
      },
    }),

    // Hosts and CASes are listed from the management database with the probe's view of them
    // (control link to the host open or not; last push to the CAS delivered or not).
    GetServiceStatus: async () => {
      const database = db.read();
      return {
        managementServer: {
          serverName,
          version: facts.productVersion,
          status: 'running',
          startTime: facts.startedAt.toISOString(),
          uptimeSeconds: Math.round((Date.now() - facts.startedAt.getTime()) / 1000),
        },
        instanceHosts: database.instanceHosts.map((host) => ({ serverName: host.serverName, port: host.port, status: facts.probe?.instanceHostStatus(host.serverName) ?? 'unknown' })),
        clientAccessServers: database.clientAccessServers.map((cas) => ({ serverName: cas.serverName, port: cas.port, status: facts.probe?.clientAccessServerStatus(cas.serverName) ?? 'unknown' })),
      };
    },
  };
}
