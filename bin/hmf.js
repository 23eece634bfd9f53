#!/usr/bin/env node
// Runs the CLI and maps hmf's error classes to exit codes (docs/ARCHITECTURE.md, "Exit codes").
import { main } from '../dist/src/cli/main.js';

const argv = process.argv;
const verbose = argv.includes('--verbose');
// Everything after a lone `--` is an operand, not a flag.
const flags = argv.indexOf('--') < 0 ? argv : argv.slice(0, argv.indexOf('--'));
try {
  process.exitCode = await main(argv);
} catch (err) {
  const code = typeof err?.exitCode === 'number' ? err.exitCode : 1;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hmf: ${code === 1 ? 'internal error: ' : ''}${message}\n`);
  if (typeof err?.hint === 'string') process.stderr.write(`(${err.hint})\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (code === 1) process.stderr.write('(run with --verbose for the stack trace)\n');
  // With --json every outcome is JSON on stdout, so a CI step can parse failures too.
  if (flags.includes('--json')) {
    const type = code === 1 ? 'InternalError' : typeof err?.name === 'string' ? err.name : 'Error';
    process.stdout.write(`${JSON.stringify({ error: { type, message, exitCode: code } }, null, 2)}\n`);
  }
  process.exitCode = code;
}
