import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { pathToText, toFsPathSync } from '../discover/fs-path.ts';
import { shortPath } from '../discover/long-path.ts';
import { StringTable } from '../read/string-table.ts';

/** A path given to a row that stands for no file of the dump, and why it is not the one asked for. */
export interface DerivedPath {
  path: string;
  /** set when the path asked for was taken: by a file of the dump, or by another such row */
  note: string | null;
}

/** Paths given out for the rows found inside one file of the dump. */
export interface PathClaims {
  claim(wanted: string): DerivedPath;
}

/**
 * The paths of the rows that stand for no file of the dump: a forwarded message
 * (`a.eml#attachment-1`), an entry of an archive (`b.zip!inner.eml`). `#` and `!` are legal in
 * file names, so a dump can hold a file whose name is such a path, by accident or to hide a
 * message: the two rows would share one path and the later would overwrite the earlier. A path
 * a file of the dump has, or that was given out already in this run, is not given again: the
 * row gets `#derived-N` after it, and a note saying why. Whether a file has the path is asked of
 * the file system, not of the walk, so the answer does not depend on the order of either.
 *
 * On a re-run, the rows found in a file that is not read again stay, with the paths given to them
 * then: a path such a row has counts as given (`fileHoldingRow`: the file of the dump whose row it
 * is, through the rows between), unless that file is the one being read again, whose rows it
 * replaces, or is gone, and its rows with it.
 */
export class DerivedPaths {
  readonly #root: string;
  /** every path given out this run: one per entry of every archive, so kept compactly */
  readonly #given = new StringTable();
  readonly #fileHoldingRow: (path: string) => string | null;

  constructor(root: string, fileHoldingRow: (path: string) => string | null = () => null) {
    // as the walk writes it: the root's own name may hold text that reads as an escape
    this.#root = pathToText(root);
    this.#fileHoldingRow = fileHoldingRow;
  }

  /** The claims of the file of the dump at `file`: a row it held before does not stand in their way. */
  forFile(file: string): PathClaims {
    return { claim: (wanted) => this.claim(wanted, file) };
  }

  claim(wanted: string, forFile: string | null = null): DerivedPath {
    let path = wanted;
    let note: string | null = null;
    for (let n = 2; ; n++) {
      const byRow = this.#given.idOf(path) !== -1 || this.#keptRowOfAnotherFile(path, forFile);
      if (!byRow && !this.isFileOfDump(path)) break;
      note ??= byRow ? `another row already has the path ${wanted}` : `a file of the dump is named ${wanted}`;
      path = `${wanted}#derived-${n}`;
    }
    this.#given.add(path);
    return { path, note };
  }

  /** Whether a row kept from a file of the dump (one still there, not `except`) has the path. */
  #keptRowOfAnotherFile(path: string, except: string | null): boolean {
    const holder = this.#fileHoldingRow(path);
    return holder !== null && holder !== except && this.isFileOfDump(holder);
  }

  /**
   * Whether `claim`, asked now, would give a row recorded at `path` another path. A re-run keeps
   * the rows of a file it does not read again, so the files that appeared or went since are asked
   * about here: a file of the dump now at the row's path takes it, and a row that had stepped aside
   * (`…#derived-N`) goes back to the first path before it that neither a file of the dump nor a
   * row kept from one has.
   */
  wouldMove(path: string): boolean {
    if (this.isFileOfDump(path)) return true;
    const stepped = /^(.*)#derived-(\d+)$/s.exec(path);
    if (!stepped) return false;
    const wanted = stepped[1]!;
    for (let n = 1; n < Number(stepped[2]); n++) {
      const before = n === 1 ? wanted : `${wanted}#derived-${n}`;
      if (!this.#keptRowOfAnotherFile(before, null) && !this.isFileOfDump(before)) return true;
    }
    return false;
  }

  /** Whether the dump holds a directory entry at this path, whatever the walk has reached. */
  isFileOfDump(relPath: string): boolean {
    // (through shortPath: a file deep in the dump may lie past PATH_MAX)
    const { path, release } = shortPath(toFsPathSync(join(this.#root, relPath)));
    try {
      lstatSync(path);
      return true;
    } catch {
      return false;
    } finally {
      release();
    }
  }
}
