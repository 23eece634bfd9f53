import chalk, { Chalk } from 'chalk';
import type { Style } from '../report/format.js';

/** Colour only on a TTY and never with NO_COLOR set (docs/ARCHITECTURE.md §4). */
export function styleFor(stream: NodeJS.WriteStream): Style {
  const enabled = stream.isTTY === true && process.env.NO_COLOR === undefined;
  const c = enabled ? new Chalk({ level: chalk.level || 1 }) : new Chalk({ level: 0 });
  return { bold: c.bold, dim: c.dim, good: c.green, bad: c.red, warn: c.yellow };
}

/** Progress on stderr: a spinner on a TTY, nothing otherwise or with --quiet. */
export interface Progress {
  update(message: string): void;
  stop(): void;
}

export async function startProgress(quiet: boolean): Promise<Progress> {
  // A terminal of zero columns (a pty nobody sized, e.g. under `script`) made ora clear
  // lines without end: no spinner there either.
  if (quiet || !process.stderr.isTTY || !(process.stderr.columns > 0)) return { update() {}, stop() {} };
  // Loaded only for a spinner: ora and its dependencies took ~40 ms of every start.
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr }).start();
  return {
    update(message) {
      spinner.text = message;
    },
    stop() {
      spinner.stop();
    },
  };
}
