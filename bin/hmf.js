#!/usr/bin/env node
// Runs the CLI and maps hmf's error classes to exit codes (DESIGN.md §5).
import { main } from '../dist/src/cli/main.js';

const verbose = process.argv.includes('--verbose');
try {
  process.exitCode = await main(process.argv);
} catch (err) {
  const code = typeof err?.exitCode === 'number' ? err.exitCode : 1;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hmf: ${code === 1 ? 'internal error: ' : ''}${message}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (code === 1) process.stderr.write('(run with --verbose for the stack trace)\n');
  process.exitCode = code;
}
