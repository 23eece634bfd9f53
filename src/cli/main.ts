import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { benchCommand } from './commandBench.js';
import { compressCommand } from './commandCompress.js';
import { inspectCommand } from './commandInspect.js';
import { evalCommand } from './commandEval.js';

/** Builds the `hmf` program; the only module (with its commands) that knows commander. */
export function program(): Command {
  const p = new Command('hmf')
    .description('Compress TensorFlow.js models with hybrid matrix factorization (HMF), low-rank factorization or pruning')
    .version(TOOL_VERSION)
    .option('--verbose', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  for (const c of [compressCommand(), inspectCommand(), benchCommand(), evalCommand()]) {
    c.exitOverride().configureOutput({ outputError: () => {} }).option('--verbose', 'print stack traces of errors');
    p.addCommand(c);
  }
  return p;
}

/** Runs the CLI on argv; resolves to the exit code, throws HmfErrors for bin/ to map. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // Help shown because no command was given: usage error, help already on stderr.
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      throw new UsageError(err.message.replace(/^error: /, ''), { cause: err });
    }
    throw err;
  }
}
