/** A command used wrongly, or given a file it cannot use: said in one line, exit status 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}
