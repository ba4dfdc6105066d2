/** A command used wrongly, or given a file it cannot use: said in one line, exit status 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file named on the command line, loaded; one that cannot be read is a usage error, not a crash. */
export function readOptionFile<T>(flag: string, path: string, load: (path: string) => T): T {
  try {
    return load(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code;
    throw new UsageError(`${flag} ${path}: cannot read it (${why})`);
  }
}
