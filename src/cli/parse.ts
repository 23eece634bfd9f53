import { UsageError } from '../errors.js';

/** A flag's value as a finite number, or a UsageError naming the flag. */
export function parseNumber(flag: string, value: string): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, found "${value}"`);
  return n;
}

export function parseInteger(flag: string, value: string): number {
  const n = parseNumber(flag, value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag}: expected an integer, found "${value}"`);
  return n;
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: expected one of ${choices.join(', ')}, found "${value}"`);
  }
  return value as T;
}
