import { Option, type Command } from 'commander';
import { wholeNumberFrom } from './arguments.ts';
import { keyStoreFile } from '../keys/import/key-store-file.ts';
import { fetchMissingKeys, readKeyFiles, storeKeyFiles } from '../pipeline/key-commands.ts';
import { jsonText } from '../report/json-text.ts';
import { terminalSafe, terminalSafeMessage } from '../report/terminal-safe.ts';
import { KeyStore } from '../store/key-store.ts';
import { openStore, type Db } from '../store/open-store.ts';
import { acquireRunLock, type LockCommand } from '../store/run-lock.ts';
import { DEFAULT_DB, refuseOutputsThatCannotBeWritten, refuseWritingIntoDumps, refuseWritingOverDatabase, writeWhole } from './output.ts';

/**
 * Runs a command that writes the key store under the run lock, taken before the database is
 * opened as `verify` takes it: while a verify runs, a key added to the store would be recorded as
 * seen by files analysed without it (red team Z, Z-02), so the command is refused, exit 3.
 */
async function writingKeyStore(dbPath: string, command: LockCommand, use: (db: Db) => void | Promise<void>): Promise<void> {
  const release = acquireRunLock(dbPath, command);
  try {
    const db = openStore(dbPath);
    try {
      await use(db);
    } finally {
      db.close();
    }
  } finally {
    release();
  }
}

export function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description('the key store: import, list, fetch and export DKIM keys with their provenance');

  keys
    .command('import')
    .description('import keys: our JSON map, a DKIM key-archive JSON list, zone-file / dig TXT lines, or a key-store file from keys export')
    .argument('<files...>', 'key files (format detected from content)')
    .option('--db <file>', 'database holding the key store', DEFAULT_DB)
    .action((files: string[], opts: { db: string }) => {
      const read = readKeyFiles(files);
      return writingKeyStore(opts.db, 'keys import', (db) => {
        for (const r of storeKeyFiles(db, read)) {
          process.stdout.write(`${terminalSafe(r.path)}: ${r.format}, ${r.added} key record(s) added, ${r.alreadyKnown} already known` +
            `${r.format === 'key-store' ? `, ${r.compromised} compromised key fingerprint(s) added` : ''}` +
            `${r.ignored.length ? `, ${r.ignored.length} line(s) ignored` : ''} (sha256 ${r.sha256})\n`);
          // (where quotes the file's own text: an entry's name)
          for (const i of r.ignored.slice(0, 20)) process.stdout.write(`  ignored ${terminalSafeMessage(i.where)}: ${terminalSafe(i.why)}\n`);
        }
      });
    });

  keys
    .command('list')
    .description('list the keys in the store, with provenance and fingerprints')
    .option('--db <file>', 'database holding the key store', DEFAULT_DB)
    .option('--domain <domain>', 'only keys of this signing domain')
    .option('--json', 'one JSON object per key', false)
    .action((opts: { db: string; domain?: string; json: boolean }) => {
      const db = openStore(opts.db, { readonly: true });
      try {
        for (const k of new KeyStore(db).list(opts.domain)) {
          if (opts.json) {
            process.stdout.write(`${jsonText(k)}\n`);
            continue;
          }
          const what = k.provenance === 'absent' ? 'no record' : k.provenance === 'revoked' ? 'revoked (p= empty)'
            : k.keyType ? `${k.keyType} ${k.bits ?? '?'}-bit sha256:${k.fingerprint?.slice(0, 16)}…` : `unreadable: ${k.parseError ?? '?'}`;
          const seen = k.firstSeen || k.lastSeen ? ` seen ${k.firstSeen?.slice(0, 10) ?? '?'}..${k.lastSeen?.slice(0, 10) ?? '?'}` : '';
          const when = k.fetchedAt ? ` checked ${k.fetchedAt}` : '';
          process.stdout.write(`${terminalSafe(k.name)}  ${k.provenance}  ${what}  from ${terminalSafe(k.origin)}${seen}${when}\n`);
        }
      } finally {
        db.close();
      }
    });

  keys
    .command('fetch')
    .description('look up in live DNS every key a signature asked for that the store lacks (reveals the selectors to DNS operators: see docs/keys.md)')
    .option('--db <file>', 'database holding the key store', DEFAULT_DB)
    .option('--concurrency <n>', 'parallel DNS queries (1 to 1000)', wholeNumberFrom(1, 1000), 8)
    .option('--timeout <ms>', 'timeout per query in milliseconds (at least 1)', wholeNumberFrom(1, 2 ** 31 - 1), 5000)
    .action((opts: { db: string; concurrency: number; timeout: number }) =>
      writingKeyStore(opts.db, 'keys fetch', async (db) => {
        const r = await fetchMissingKeys(db, { concurrency: opts.concurrency, timeoutMs: opts.timeout });
        process.stdout.write(`asked ${r.asked}: ${r.found} found, ${r.absent} absent, ${r.errors.length} failed\n`);
        for (const e of r.errors) process.stdout.write(`  ${terminalSafe(e.name)}: ${e.code} ${terminalSafe(e.detail)}\n`);
      }),
    );

  keys
    .command('export')
    .description(
      'write the key store as our JSON map, so that a colleague can re-run offline (--format key-store: every record with its provenance, origin and dates, ' +
        'and the fingerprints known as compromised, which keys import reads back whole, and verify --keys for the key names the dump asks for)',
    )
    .option('--db <file>', 'database holding the key store', DEFAULT_DB)
    .addOption(new Option('--format <format>', 'map: our JSON map {"<selector>._domainkey.<domain>": [TXT, ...]}; key-store: the whole store').choices(['map', 'key-store']).default('map'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--compromised-out <file>', 'also write the compromised key fingerprints, for verify --compromised')
    .option('--archive-out <file>', 'also write the archive records as a key-archive list with their first/last-seen dates, for keys import')
    .action(async (opts: { db: string; format: 'key-store' | 'map'; out?: string; compromisedOut?: string; archiveOut?: string }) => {
      const db = openStore(opts.db, { readonly: true });
      try {
        const outputs = [opts.out, opts.compromisedOut, opts.archiveOut].filter((path) => path !== undefined);
        refuseWritingIntoDumps(db, outputs);
        refuseWritingOverDatabase(opts.db, outputs);
        refuseOutputsThatCannotBeWritten(outputs);
        const bundle = new KeyStore(db).exportBundle({ archiveApart: opts.format === 'map' && opts.archiveOut !== undefined });
        const asMap = opts.format === 'map';
        // Key names come from the dump's signatures (d=, s=): escaped like every other JSON output.
        await writeWhole(opts.out, `${jsonText(asMap ? bundle.map : keyStoreFile(bundle.records, bundle.compromised), 2)}\n`);
        if (opts.compromisedOut) {
          const header = '# key fingerprints (sha256 or md5 of the DER public key) listed as compromised, exported by leakcheck keys export\n';
          await writeWhole(opts.compromisedOut, header + bundle.compromised.map((c) => `${c.fingerprint}\n`).join(''));
        }
        if (opts.archiveOut) await writeWhole(opts.archiveOut, `${jsonText(bundle.archive, 2)}\n`);
        // The map stays the default (scripts read it), so what it cannot carry is said, never
        // dropped in silence: handed over alone, it makes signatures by a compromised key proof
        // again (red team 10, finding 06), and archive keys come back as plain file keys.
        if (asMap && bundle.compromised.length && !opts.compromisedOut) {
          process.stderr.write(
            `leakcheck: WARNING: this database knows ${bundle.compromised.length} compromised key fingerprint(s), which the map cannot mark: a re-run with the map alone ` +
              'takes signatures made with those keys for proof. Export with --format key-store, or write them with --compromised-out FILE and pass them to verify --compromised FILE.\n',
          );
        }
        if (asMap && bundle.archive.length && !opts.archiveOut) {
          process.stderr.write(
            `leakcheck: the map gives every key the provenance "file": the first/last-seen dates and archive names of ${bundle.archive.length} archive record(s) ` +
              'are not in it; export with --format key-store, or write them with --archive-out FILE, for keys import FILE\n',
          );
        }
      } finally {
        db.close();
      }
    });
}
