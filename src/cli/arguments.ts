import { InvalidArgumentError } from 'commander';

/**
 * A parser of a whole-number option, from `least` up to `most`: a value outside is a usage error
 * (exit 2, one line), never a number a library refuses later with a stack trace, exit 3 (red team
 * Z, Z-07: `keys fetch --concurrency 0`, `--timeout abc`), nor one it reads as its default.
 */
export const wholeNumberFrom = (least: number, most = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new InvalidArgumentError(`expected a whole number ≥ ${least}`);
  if (n > most) throw new InvalidArgumentError(`expected at most ${most}`);
  return n;
};
