import { jsonText } from '../../report/json-text.ts';
import { describeJsonType, isPlainObject, KeyCollector, notDkimKeyReason, splitKeyName } from './common.ts';
import { KeyImportError, type ParsedKeyFile } from './types.ts';

/**
 * The corpus keyring: `{"_about": "...", "keys": {"<name>": {"txt": [...], "provenance": [...]}}}`.
 * Told from our plain map by its "keys" object, beside which only "_"-prefixed notes may stand.
 */
function isKeyring(data: Record<string, unknown>): data is { keys: Record<string, unknown> } {
  return isPlainObject(data['keys']) && Object.keys(data).every((k) => k === 'keys' || k.startsWith('_'));
}

/**
 * Our JSON map `{"<selector>._domainkey.<domain>": ["v=DKIM1; k=rsa; p=...", ...]}` (a value may
 * be one string), or the corpus keyring shape. Every key has provenance 'file' and the file's
 * path as origin. A name that is not a key name, or a value of the wrong type, refuses the file;
 * a TXT record that is not a DKIM key (no p= tag) is listed as ignored.
 */
export function parseJsonMap(data: Record<string, unknown>, path: string): ParsedKeyFile {
  const keyring = isKeyring(data);
  const entries = Object.entries(keyring ? data.keys : data);
  const out = new KeyCollector();
  entries.forEach(([rawName, value], index) => {
    const where = `entry ${index + 1} (${jsonText(rawName)})`;
    const parts = splitKeyName(rawName);
    if (typeof parts === 'string') throw new KeyImportError(path, where, parts);
    let records: unknown = value;
    let field = 'the value';
    if (keyring && isPlainObject(value)) {
      if (!('txt' in value)) throw new KeyImportError(path, where, '"txt" is missing (the list of TXT records)');
      records = value['txt'];
      field = '"txt"';
    }
    const list = typeof records === 'string' ? [records] : records;
    if (!Array.isArray(list)) {
      throw new KeyImportError(path, where, `${field} must be a TXT record string or a list of them, not ${describeJsonType(records)}`);
    }
    list.forEach((txt: unknown, i) => {
      if (typeof txt !== 'string') {
        throw new KeyImportError(path, where, `${field}: item ${i + 1} must be a TXT record string, not ${describeJsonType(txt)}`);
      }
    });
    if (list.length === 0) out.ignore(where, 'no TXT record listed');
    for (const txt of list as string[]) {
      const why = notDkimKeyReason(txt);
      if (why !== null) {
        out.ignore(where, why);
        continue;
      }
      out.add({ ...parts, txt, provenance: 'file', origin: path, firstSeen: null, lastSeen: null, where });
    }
  });
  return { format: 'json-map', keys: out.keys, ignored: out.ignored };
}
