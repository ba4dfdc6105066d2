/** What a POSIX shell reads as one word standing for itself: no quoting, expansion or globbing. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * The command as a POSIX shell would take it back: each argument as it is when it needs no
 * quoting (so an ordinary command reads as typed), else in single quotes, a quote inside written
 * `'\''`. Arguments joined with spaces could not be told apart (`my dump` one argument or two),
 * and pasting them ran whatever `$(…)` a dump's or key file's name held (red team 28, H-08).
 */
export function shellCommandLine(argv: readonly string[]): string {
  return argv.map((arg) => (PLAIN_WORD.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}
