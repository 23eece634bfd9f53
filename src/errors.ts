/**
 * The one error hierarchy of hmf. Library code throws these; only `bin/hmf.js`
 * turns them into exit codes (docs/ARCHITECTURE.md §5).
 */
export class HmfError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** What to do next, printed on a line of its own after the message (e.g. where help is). */
  readonly hint?: string;

  constructor(message: string, exitCode: number, options?: { cause?: unknown; hint?: string }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    if (options?.hint) this.hint = options.hint;
  }
}

/** Bad flags, arguments or data files given by the user (exit 2). */
export class UsageError extends HmfError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, 2, options);
  }
}

/** A model that cannot be read or is invalid (exit 3). */
export class ModelFormatError extends HmfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

/** The requested compression cannot be reached (exit 4). */
export class TargetUnreachableError extends HmfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 4, options);
  }
}

/** A quality gate (`--max-error`, `--min-agreement`) failed (exit 5). */
export class QualityGateError extends HmfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 5, options);
  }
}
