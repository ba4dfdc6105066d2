import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CompromisedListError } from '../keys/compromised.ts';
import { KeyImportError } from '../keys/import/parse-key-file.ts';
import { KeysFileChangedError } from '../keys/keys-file-index.ts';
import { KeysFileError } from '../keys/keys-file.ts';
import { accessTimesKept } from '../discover/open-evidence.ts';
import { maxThreadCount } from '../pipeline/analysis-threads.ts';
import { defaultThreadBudget, describeThreadBudget } from '../pipeline/thread-budget.ts';
import { wholeNumberFrom } from './arguments.ts';
import { addKeyCommands } from './key-commands.ts';
import { EXIT, STOP_SIGNALS } from './exit-codes.ts';
import { DEFAULT_DB, OutputError, readingInto, write } from './output.ts';
import { UsageError } from '../pipeline/usage-error.ts';
import type { DocumentStatus } from '../store/documents-pass.ts';
import { openStore, StoreError, type Db } from '../store/open-store.ts';
import { RunLockedError } from '../store/run-lock.ts';
import { lastRunState } from '../store/run-state.ts';
import { unreadCount } from '../report/read-notes.ts';
import { linksNotRead } from '../store/links-out.ts';
import { runStateNote, warnOfRunState } from '../report/run-state-note.ts';
import { attachmentsOf, fileChangesOf, findMessages, iterateFileChanges, iterateMessageListings, iterateMessages, listRuns, summarize } from '../store/queries.ts';
import { jsonText } from '../report/json-text.ts';
import { terminalSafe, terminalSafeMessage } from '../report/terminal-safe.ts';
import type { Verdict } from '../verdict/reasons.ts';
import { TOOL_VERSION } from '../version.ts';
import { trustedSealerList } from '../verify/arc-sealers.ts';

/** Exit codes, documented in README.md: scripts and CI jobs depend on them. */
export { EXIT } from './exit-codes.ts';

const VERDICTS: Verdict[] = ['verified', 'unverifiable', 'suspicious'];

const collect = (value: string, previous: string[]): string[] => [...previous, value];
/**
 * What `verify --fail-on` can fail a CI job on: a verdict, evidence that changed or went since the
 * last run, or that could not be read again to confirm it (changed: a custody check that could
 * not check has not passed), or files that joined the dump after a walk of it completed (added:
 * kept apart, for a dump that grows by design, such as a leak published in instalments), or
 * files and archive entries that may hold email and were not read (unread: read-notes.ts).
 */
const FAIL_ON = ['suspicious', 'unverifiable', 'changed', 'added', 'unread'] as const;
type FailOn = (typeof FAIL_ON)[number];
const failOnList = (value: string, previous: FailOn[] = []): FailOn[] => {
  if (!(FAIL_ON as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${FAIL_ON.join(', ')}.`);
  return [...previous, value as FailOn];
};

const sealerList = (value: string, previous: string[] = []): string[] => {
  try {
    return [...previous, ...trustedSealerList([value])];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^--trust-arc-sealer: /, ''));
  }
};

const wholeNumber = wholeNumberFrom(0);

const threadCount = (value: string): number => {
  const n = wholeNumber(value);
  const most = maxThreadCount();
  if (n > most) throw new InvalidArgumentError(`expected at most ${most} threads (about 40 MB each)`);
  return n;
};

/** A size in bytes: a whole number, or one with K, M, G or T (powers of 1024: "8G", "500M", "1.5T"). */
const byteSize = (value: string): number => {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt])?i?b?$/i.exec(value.trim());
  const bytes = match ? Math.floor(Number(match[1]) * 1024 ** ' kmgt'.indexOf((match[2] ?? ' ').toLowerCase())) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError('expected a size in bytes, such as 8G, 500M or 1048576');
  return bytes;
};

/** The text summary. Each command loads the report code it uses when it runs: `verify` starts sooner. */
async function textSummary(summary: ReturnType<typeof summarize>, stream: NodeJS.WriteStream): Promise<string> {
  const { makeChalk, renderTextSummary } = await import('../report/text.ts');
  return renderTextSummary(summary, makeChalk(stream));
}

/** The Markdown summary, with the documents' counts and the first of those with a red flag. */
async function markdownReport(db: Db, summary: Parameters<typeof import('../report/markdown.ts').renderMarkdownSummary>[0]): Promise<string> {
  const [{ MARKDOWN_CONFLICTS, renderMarkdownSummary }, { documentCounts, iterateDocuments }] = await Promise.all([import('../report/markdown.ts'), import('../store/documents-pass.ts')]);
  const conflicted = [];
  for (const d of iterateDocuments(db, { withRedFlags: true })) if (conflicted.push(d) === MARKDOWN_CONFLICTS) break;
  return renderMarkdownSummary(summary, { counts: documentCounts(db), conflicted });
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('leakcheck')
    .description('Forensic verification of leaked email dumps: DKIM, ARC and header consistency, message by message.')
    .version(TOOL_VERSION)
    .exitOverride()
    .showHelpAfterError();

  program
    .command('verify')
    .description('walk a dump, check every message, store the verdicts in SQLite')
    .argument('<dump>', 'directory holding the dump (never written to)')
    .option('--db <file>', 'SQLite database to write (never inside the dump)', DEFAULT_DB)
    .option('--keys <file>', 'JSON key file {"sel._domainkey.dom": ["v=DKIM1; p=..."]} (repeatable)', collect, [])
    .option('--offline', 'no network at all: keys come only from --keys files and the key store', false)
    .option('--compromised <file>', 'fingerprints (sha256 or md5 of the DER public key) of keys whose private half is public')
    .option(
      '--trust-arc-sealer <domain>',
      'an ARC sealer you vouch for (e.g. the list server the mailbox was subscribed through): its record that a signature passed on arrival explains a later failure, as a well-known sealer\'s does; repeatable',
      sealerList,
    )
    .option('--jobs <n>', 'worker threads analysing messages, at most; each starts when the dump has work enough for it (default: one per core, within the CPU and memory limits of a container; 0: the main thread only; at most 256, or one per core if more)', threadCount)
    .option(
      '--fail-on <what>',
      `exit with code 1 if any message has this verdict (suspicious, unverifiable), if this run found files changed or removed since the last, or could not read again files read before (changed), or files added to the dump after a walk of it completed (added), or files and archive entries that may hold email and could not be read (unread); repeatable`,
      failOnList,
    )
    .option('--json', 'print the machine-readable summary on stdout', false)
    .option('--quiet', 'no progress output', false)
    .option('--rehash', 'read every file again and compare its sha256 with the record, even if its size and mtime match (a custody check)', false)
    .option(
      '--zip-max-bytes <size>',
      "bytes inflated from one zip archive before it is given up, the guard against zip bombs (default: 20 times the archive's size, at least 1G); for an archive of mail that compresses more, e.g. 8G",
      byteSize,
    )
    .action(async (dump: string, opts: { db: string; keys: string[]; offline: boolean; compromised?: string; trustArcSealer?: string[]; jobs?: number; failOn?: FailOn[]; json: boolean; quiet: boolean; rehash: boolean; zipMaxBytes?: number }) => {
      // Loaded here: the other commands never need the pipeline (the zip reader, the progress
      // bar, the workers' plumbing), and each of their runs paid for loading it.
      const [{ runVerify }, { createProgress }, { countEntries }] = await Promise.all([
        import('../pipeline/run-verify.ts'),
        import('../report/progress.ts'),
        import('../discover/count-files.ts'),
      ]);
      let totalFiles: number | null = null;
      if (!opts.quiet) void countEntries(dump).then((n) => (totalFiles = n));
      const progress = createProgress({ quiet: opts.quiet, totalFiles: () => totalFiles });
      // Ctrl-C finishes the files in progress, keeps everything done, and says how to resume; so
      // does SIGTERM, what `timeout`, systemd, `docker stop` and a cancelled CI job send, and
      // SIGHUP: a run they stopped was left "running", with no word (red team V, V-02).
      const controller = new AbortController();
      const onInterrupt = (signal: NodeJS.Signals): void => {
        const by = signal === 'SIGINT' ? '' : ` (${signal})`;
        // stopped first: a terminal that hung up (SIGHUP) may refuse the line
        controller.abort();
        try {
          process.stderr.write(`\nleakcheck: stopping after the files in progress${by} (Ctrl-C again to quit at once)…\n`);
        } catch {
          // nobody is there to read it
        }
        for (const s of STOP_SIGNALS) {
          process.removeListener(s, onInterrupt);
          process.once(s, () => process.exit(EXIT.interrupted));
        }
      };
      // (in place of bin/leakcheck.js's, which would exit at once: a run stops after its files in progress)
      for (const s of STOP_SIGNALS) process.removeAllListeners(s);
      for (const s of STOP_SIGNALS) process.once(s, onInterrupt);
      // (red team 28, G-07: said before the run, not found after it)
      if (!accessTimesKept(dump)) {
        process.stderr.write(
          'leakcheck: note: this user does not own the dump, so the system updates the access time of each file read (O_NOATIME is for the owner); ' +
            'mount the dump read-only with noatime to keep them. Contents, modes and modification times are not touched.\n',
        );
      }
      if (opts.jobs === undefined && !opts.quiet) {
        const fewer = describeThreadBudget(defaultThreadBudget());
        if (fewer) process.stderr.write(`leakcheck: note: ${fewer}\n`);
      }
      let result;
      try {
        result = await runVerify({
          dumpRoot: dump,
          dbPath: opts.db,
          keyFiles: opts.keys,
          offline: opts.offline,
          compromisedFile: opts.compromised ?? null,
          trustedArcSealers: opts.trustArcSealer ?? [],
          ...(opts.jobs !== undefined ? { concurrency: opts.jobs } : {}),
          argv: ['leakcheck', ...argv.slice(2)],
          onProgress: (p) => progress.update(p),
          signal: controller.signal,
          rehash: opts.rehash,
          ...(opts.zipMaxBytes !== undefined ? { zipMaxBytes: opts.zipMaxBytes } : {}),
        });
      } finally {
        // (the run is over: a signal now stops the summary, exit 130, as before the run)
        for (const s of STOP_SIGNALS) {
          process.removeListener(s, onInterrupt);
          if (process.listenerCount(s) === 0) process.once(s, () => process.exit(EXIT.interrupted));
        }
        progress.stop();
      }
      if (result.otherRoot) {
        process.stderr.write(
          `leakcheck: warning: ${opts.db} last completed a walk of another folder, ${terminalSafe(result.otherRoot, 500)}. ` +
            'Files are matched to their records by their path inside the dump, so the chain of custody compares the files here with the ones there: ' +
            'right for the same dump moved or renamed; for another dump, or a part of this one, use another --db.\n',
        );
      }
      if (result.interrupted) {
        process.stderr.write(
          `leakcheck: interrupted after ${result.counts.files} files. Everything finished is saved in ${opts.db}; ` +
            'run the same command again to resume.\n',
        );
        exitCode = EXIT.interrupted;
        return;
      }
      const db = openStore(opts.db, { readonly: true });
      try {
        const summary = summarize(db);
        if (opts.json) process.stdout.write(`${jsonText(summary, 2)}\n`);
        else process.stdout.write(await textSummary(summary, process.stdout));
        // (over the walk this run finished: a change an interrupted run found is not found again by its resumption)
        const walk = summary.custody.lastRun?.walk;
        const found = (what: FailOn): boolean =>
          what === 'changed'
            ? (walk?.changed ?? 0) + (walk?.removed ?? 0) + (walk?.unconfirmed ?? 0) > 0
            : what === 'added'
              ? (walk?.added ?? 0) > 0
              : what === 'unread'
                ? unreadCount(summary.files, linksNotRead(db, resolve(dump))) > 0
                : summary.verdicts[what] > 0;
        if (opts.failOn?.some(found)) exitCode = EXIT.failOn;
      } finally {
        db.close();
      }
    });

  program
    .command('export')
    .description('write one row per message, as JSON Lines or CSV')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).makeOptionMandatory())
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .option('--out <file>', 'write to this file instead of stdout')
    .addOption(new Option('--verdict <verdict>', 'only messages with this verdict').choices(VERDICTS))
    .option('--bom', 'CSV only: begin with a UTF-8 byte-order mark, for Excel opened by double-click')
    .action(async (opts: { format: 'jsonl' | 'csv'; db: string; out?: string; verdict?: Verdict; bom?: boolean }, command: Command) => {
      if (opts.bom && opts.format !== 'csv') command.error('error: --bom applies to --format csv only');
      const { exportText } = await import('../report/export-text.ts');
      await readingInto(opts.db, opts.out, async (db, out) => {
        for (const piece of exportText(db, opts.format, { verdict: opts.verdict }, { bom: opts.bom === true })) await write(out, piece);
      });
    });

  program
    .command('report')
    .description('summarise the verdicts stored in the database')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'md', 'json', 'html']).default('text'))
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .option('--out <file>', 'write to this file instead of stdout')
    .addOption(new Option('--verdict <verdict>', 'only messages with this verdict').choices(VERDICTS))
    .action(async (opts: { format: 'text' | 'md' | 'json' | 'html'; db: string; out?: string; verdict?: Verdict }) => {
      await readingInto(opts.db, opts.out, async (db, out, runState) => {
        if (opts.format === 'html') {
          // written as it is made: the table of a large dump is tens of megabytes
          const { htmlReportPieces } = await import('../report/html/render-html.ts');
          for (const piece of htmlReportPieces(db, { verdict: opts.verdict, runState })) await write(out, piece);
          return;
        }
        const summary = { ...summarize(db, { verdict: opts.verdict }), runState };
        const text =
          opts.format === 'json'
            ? `${jsonText(summary, 2)}\n`
            : opts.format === 'md'
              ? await markdownReport(db, summary)
              : await textSummary(summary, out === process.stdout ? process.stdout : (out as unknown as NodeJS.WriteStream));
        await write(out, text);
      });
    });

  program
    .command('show')
    .description('the full evidence for one message')
    .argument('<message>', 'a Message-ID, a path relative to the dump root (path#index inside an mbox), or the sha256 of the message')
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .option('--json', 'the stored record as JSON', false)
    .action(async (argument: string, opts: { db: string; json: boolean }) => {
      const [{ candidatesJson, renderCandidates, renderShow }, { makeChalk }] = await Promise.all([import('../report/show.ts'), import('../report/text.ts')]);
      const db = openStore(opts.db, { readonly: true });
      try {
        const runState = lastRunState(db, opts.db);
        warnOfRunState(runState);
        // (a message is shown with its verdict: one without, of a run still writing, is none to show)
        const matches = findMessages(db, argument);
        const listed = new Map([...iterateMessageListings(db, { ids: matches.map((m) => m.id) })].map((m) => [m.id, m]));
        const candidates = matches.flatMap((m) => (listed.has(m.id) ? [{ message: listed.get(m.id)!, readings: m.readings }] : []));
        if (!candidates.length) {
          process.stderr.write(`leakcheck: no message matches ${terminalSafeMessage(JSON.stringify(argument))}\n`);
          exitCode = EXIT.usage;
          return;
        }
        if (candidates.length > 1) {
          process.stdout.write(opts.json ? candidatesJson(candidates) : renderCandidates(candidates));
          exitCode = EXIT.usage;
          return;
        }
        const message = [...iterateMessages(db, { ids: [candidates[0]!.message.id] })][0]!;
        const fileChanges = fileChangesOf(db, message.id);
        const attachments = attachmentsOf(db, message.id);
        process.stdout.write(opts.json ? `${jsonText({ ...message, fileChanges, attachments }, 2)}\n` : renderShow(message, makeChalk(process.stdout), fileChanges, attachments, runStateNote(runState)));
      } finally {
        db.close();
      }
    });

  program
    .command('documents')
    .description('loose documents of the dump, matched to the attachments of its emails')
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .addOption(new Option('--status <status>', 'only documents with this status').choices(['verified-by-email', 'seen-in-unverified-email', 'no-email-match']))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'csv', 'jsonl']).default('text'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { db: string; status?: DocumentStatus; format: 'text' | 'csv' | 'jsonl'; out?: string }) => {
      const [{ documentCsvHeader, documentCsvLine, documentJsonl, documentsTextHead, documentText }, { documentCounts, iterateDocuments }] = await Promise.all([
        import('../report/documents.ts'),
        import('../store/documents-pass.ts'),
      ]);
      await readingInto(opts.db, opts.out, async (db, out) => {
        if (opts.format === 'text') {
          const counts = documentCounts(db);
          const listed = opts.status
            ? { total: counts[opts.status], 'verified-by-email': 0, 'seen-in-unverified-email': 0, 'no-email-match': 0, [opts.status]: counts[opts.status] }
            : counts;
          await write(out, documentsTextHead(listed));
        } else if (opts.format === 'csv') await write(out, documentCsvHeader());
        // (one document at a time: D copies of a document carried by M emails are D × M matches)
        for (const d of iterateDocuments(db, { status: opts.status })) {
          await write(out, opts.format === 'text' ? documentText(d) : opts.format === 'csv' ? documentCsvLine(d) : documentJsonl(d));
        }
      });
    });

  program
    .command('custody')
    .description('the chain of custody: every run on the database, and every file of the dump the runs found changed, removed or added, or could not read again')
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .addOption(new Option('--format <format>', 'output format (csv and jsonl: one row per change)').choices(['text', 'csv', 'jsonl']).default('text'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { db: string; format: 'text' | 'csv' | 'jsonl'; out?: string }) => {
      const { custodyCsvHeader, custodyCsvLine, custodyJsonl, renderCustodyText } = await import('../report/custody.ts');
      await readingInto(opts.db, opts.out, async (db, out) => {
        if (opts.format === 'text') await write(out, renderCustodyText(listRuns(db), iterateFileChanges(db)));
        else {
          if (opts.format === 'csv') await write(out, custodyCsvHeader());
          for (const change of iterateFileChanges(db)) await write(out, opts.format === 'csv' ? custodyCsvLine(change) : custodyJsonl(change));
        }
      });
    });

  program
    .command('manifest')
    .description('every file and message with its sha256, verdict and reasons, and what produced them: for a third party to re-run and compare')
    .option('--db <file>', 'database to read', DEFAULT_DB)
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { db: string; out?: string }) => {
      // A manifest is the record a third party compares theirs with: one made while a verify
      // writes would record a state no run ended in, and that nobody can make again.
      await readingInto(
        opts.db,
        opts.out,
        async (db, out, runState) => {
          const { manifestText } = await import('../report/manifest.ts');
          for (const piece of manifestText(db, { runState })) await write(out, piece);
        },
        { refuseWhileVerifying: 'a manifest' },
      );
    });

  addKeyCommands(program);

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // the messages quote key files, lists and paths: hostile text
    if (err instanceof UsageError || err instanceof KeysFileError || err instanceof KeyImportError || err instanceof CompromisedListError) {
      process.stderr.write(`leakcheck: ${terminalSafeMessage(err.message)}\n`);
      return EXIT.usage;
    }
    if (err instanceof StoreError || err instanceof RunLockedError || err instanceof OutputError || err instanceof KeysFileChangedError) {
      process.stderr.write(`leakcheck: ${terminalSafeMessage(err.message)}\n`);
      return EXIT.runtime;
    }
    process.stderr.write(`leakcheck: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.runtime;
  }
}

