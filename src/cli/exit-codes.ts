/**
 * The exit statuses README.md's "Exit codes" documents: scripts and CI jobs branch on them.
 * `stdoutClosed`: the reader of stdout went away before the output was complete (`leakcheck
 * export … | head`): 141, what a shell reports for cat, grep or git ended by SIGPIPE (128 + 13).
 * Node ignores SIGPIPE, so a write fails with EPIPE instead. Not 0: the command did not finish,
 * and 0 would turn a `verify --fail-on` failure into a success whenever the summary found no reader.
 */
export const EXIT = { ok: 0, failOn: 1, usage: 2, runtime: 3, interrupted: 130, stdoutClosed: 141 } as const;

/**
 * The signals that stop a command as Ctrl-C does (exit 130): SIGTERM is what `timeout`, systemd,
 * `docker stop` and a cancelled CI job send, SIGHUP a terminal that went away.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
