#!/usr/bin/env node
/**
 * The `coffer` command: `start` (single or multi server mode), `import`, `api`.
 */
import { parseFlags, ConfigError } from './common/config.js';
import { importCommand } from './cli/import.js';

const USAGE = `usage:
  coffer start [--data DIR] [--port-offset N] [--roles management,instance-host,cas] [--demo]
  coffer import --instance ID --user NAME [--folder PATH] FILE_OR_DIR…
  coffer api [-s host:port] [-u user] [-p password] [-t thumbprint] <Function> [--arg=value …]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { flags, positional } = parseFlags(rest);
  switch (command) {
    // Loaded on demand: `coffer import` and `coffer api` should not pay for the server roles' modules.
    case 'start': return (await import('./cli/start.js')).startCommand(flags, positional);
    case 'api': return (await import('./cli/api.js')).apiCommand(rest);
    case 'import': return importCommand(flags, positional);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`${err instanceof ConfigError ? 'configuration error' : 'error'}: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
