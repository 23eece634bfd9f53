import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { abandonPendingWrites } from '../io/index.js';
import { TOOL_VERSION } from '../version.js';
import { addCommandHelp, plainDefaults } from './help.js';
import { benchCommand } from './commandBench.js';
import { compressCommand } from './commandCompress.js';
import { inspectCommand } from './commandInspect.js';
import { evalCommand } from './commandEval.js';
import { sweepCommand } from './commandSweep.js';

/** Builds the `hmf` program; the only module (with its commands) that knows commander. */
export function program(): Command {
  const p = new Command('hmf')
    .description('Compress TensorFlow.js models with hybrid matrix factorization (HMF), low-rank factorization or pruning')
    .version(TOOL_VERSION)
    .option('--verbose', 'print stack traces of errors and TF.js\'s own messages')
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  for (const c of [compressCommand(), sweepCommand(), inspectCommand(), benchCommand(), evalCommand()]) {
    c.exitOverride().configureOutput({ outputError: () => {} }).option('--verbose', 'print stack traces of errors and TF.js\'s own messages');
    addCommandHelp(c, c.name());
    plainDefaults(c);
    p.addCommand(c);
  }
  addCommandHelp(p, 'hmf');
  return p;
}

/** `hmf <command> --help` for the command argv names, else `hmf --help`. */
function helpCommand(prog: Command, argv: readonly string[]): string {
  const known = prog.commands.map((c) => c.name());
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  return command !== undefined && known.includes(command) ? `hmf ${command} --help` : 'hmf --help';
}

/** Exit codes of a run stopped by a signal (128 + the signal's number, as shells report it). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * On SIGINT or SIGTERM: undo the writes in progress (the output folder is then complete or
 * as it was before the run), say so, and exit. SIGKILL cannot be caught: the temporary
 * folder it leaves is removed by the next run into the same folder (removeStaleTemporaries).
 */
function stopCleanlyOnSignals(argv: readonly string[]): void {
  for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    process.once(signal, () => {
      abandonPendingWrites();
      const exitCode = SIGNAL_EXIT[signal]!;
      const message = `stopped by ${signal}; no partly written output was left`;
      process.stderr.write(`hmf: ${message}\n`);
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { type: 'Interrupted', message, exitCode } }, null, 2)}\n`);
      process.exit(exitCode);
    });
  }
}

/**
 * hmf's stderr carries hmf's messages only. hmf's own code never uses the console (the
 * library does not print; the CLI writes to the streams), so whatever reaches it comes from
 * dependencies: TF.js's banner urging tfjs-node on the cpu backend, its initializer warnings.
 * Kept off the streams; with --verbose shown on stderr, marked as TF.js's.
 */
function quietDependencies(verbose: boolean): void {
  const forward = (...args: unknown[]) => {
    if (!verbose) return;
    const text = args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ').replace(/=+\n?/g, '').trim();
    if (text) process.stderr.write(`hmf: (from TF.js) ${text}\n`);
  };
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) console[level] = forward;
}

/** Runs the CLI on argv; resolves to the exit code, throws HmfErrors for bin/ to map. */
export async function main(argv: readonly string[]): Promise<number> {
  stopCleanlyOnSignals(argv);
  quietDependencies(argv.includes('--verbose'));
  const prog = program();
  try {
    await prog.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // Help shown because no command was given: usage error, help already on stderr.
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      throw new UsageError(err.message.replace(/^error: /, ''), { cause: err, hint: `run '${helpCommand(prog, argv)}' for usage` });
    }
    throw err;
  }
}
