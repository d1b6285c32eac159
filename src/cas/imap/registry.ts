/**
 * The one command table (STYLE.md rule 2): every command the server knows, by wire name. UID
 * variants are the same specs with `allowsUid`; EXAMINE, LSUB, CHECK and UNSUBSCRIBE are flags on
 * the SELECT, LIST, NOOP and SUBSCRIBE modules.
 */
import type { CommandSpec } from './command-spec.js';
import { authenticateCommand } from './commands/authenticate.js';
import { capabilityCommand } from './commands/capability.js';
import { enableCommand } from './commands/enable.js';
import { fetchCommand } from './commands/fetch.js';
import { idCommand } from './commands/id.js';
import { idleCommand } from './commands/idle.js';
import { listCommand, lsubCommand } from './commands/list.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { namespaceCommand } from './commands/namespace.js';
import { checkCommand, noopCommand } from './commands/noop.js';
import { searchCommand } from './commands/search.js';
import { examineCommand, selectCommand } from './commands/select.js';
import { starttlsCommand } from './commands/starttls.js';
import { statusCommand } from './commands/status.js';
import { subscribeCommand, unsubscribeCommand } from './commands/subscribe.js';
import { unselectCommand } from './commands/unselect.js';
import { READ_ONLY_COMMANDS } from './read-only.js';

const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [
    capabilityCommand,
    noopCommand,
    logoutCommand,
    idCommand,
    starttlsCommand,
    loginCommand,
    authenticateCommand,
    enableCommand,
    namespaceCommand,
    listCommand,
    lsubCommand,
    statusCommand,
    selectCommand,
    examineCommand,
    unselectCommand,
    checkCommand,
    subscribeCommand,
    unsubscribeCommand,
    searchCommand,
    fetchCommand,
    idleCommand,
    ...READ_ONLY_COMMANDS,
  ].map((spec) => [spec.name, spec]),
);

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.get(name);
}

export function commandNames(): string[] {
  return [...COMMANDS.keys()];
}
