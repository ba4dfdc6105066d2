import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { pathToText, toFsPathSync } from '../discover/fs-path.ts';
import { shortPath } from '../discover/long-path.ts';

/** A path given to a row that stands for no file of the dump, and why it is not the one asked for. */
export interface DerivedPath {
  path: string;
  /** set when the path asked for was taken: by a file of the dump, or by another such row */
  note: string | null;
}

/**
 * The paths of the rows that stand for no file of the dump: a forwarded message
 * (`a.eml#attachment-1`), an entry of an archive (`b.zip!inner.eml`). `#` and `!` are legal in
 * file names, so a dump can hold a file whose name is such a path, by accident or to hide a
 * message: the two rows would share one path and the later would overwrite the earlier. A path
 * a file of the dump has, or that was given out already in this run, is not given again: the
 * row gets `#derived-N` after it, and a note saying why. Whether a file has the path is asked of
 * the file system, not of the walk, so the answer does not depend on the order of either.
 */
export class DerivedPaths {
  readonly #root: string;
  readonly #given = new Set<string>();

  constructor(root: string) {
    // as the walk writes it: the root's own name may hold text that reads as an escape
    this.#root = pathToText(root);
  }

  claim(wanted: string): DerivedPath {
    let path = wanted;
    let note: string | null = null;
    for (let n = 2; this.#given.has(path) || this.#isFileOfDump(path); n++) {
      note ??= this.#given.has(path) ? `another row already has the path ${wanted}` : `a file of the dump is named ${wanted}`;
      path = `${wanted}#derived-${n}`;
    }
    this.#given.add(path);
    return { path, note };
  }

  #isFileOfDump(relPath: string): boolean {
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
