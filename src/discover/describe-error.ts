/**
 * A short, path-free description of a failure for reports: Node's messages repeat the path
 * (already in the entry) and the syscall, e.g. "EACCES: permission denied, open '/x'".
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      const text = error.message.startsWith(`${code}: `) ? error.message.split(', ')[0] : `${code}: ${error.message}`;
      return text ?? code;
    }
    return error.message;
  }
  return String(error);
}
