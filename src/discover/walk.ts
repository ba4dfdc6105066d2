import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import { describeError } from './describe-error.ts';
import { nameToString, pathToText } from './fs-path.ts';
import { AnchorCache, withShortPath, withShortPathAsync } from './long-path.ts';
import { closeEvidenceSync, openEvidenceSync, readHeadSync, statEvidenceSync } from './open-evidence.ts';
import { SNIFF_HEAD_BYTES, sniffContainer } from './sniff.ts';
import { ReusableBuffer } from '../read/reusable-buffer.ts';
import type { DiscoveredFile, DiscoveryEntry, SkipReason } from './types.ts';

/** Where an entry is: raw bytes for fs calls, strings for the report. */
interface Location {
  fsPath: Buffer;
  absPath: string;
  relPath: string;
}

interface Child {
  name: Buffer;
  /** the name as path text (fs-path.ts): one text per name, so no two children share one */
  display: string;
}

/**
 * A directory being walked. Only the deepest frame holds its Location: each one is as long as the
 * path, so a frame per level holding its own made memory grow with the square of the depth
 * (3.3 GB for 10,000 one-letter levels, red team G-11). A frame below holds the location of
 * each frame above as a prefix, which `lengths` takes back when the frame below is done.
 */
interface DirFrame {
  location: Location | null;
  lengths: { fsPath: number; absPath: number; relPath: number };
  children: Child[];
  next: number;
}

const SEP_BYTES = Buffer.from(sep);

type SkippedEntry = Extract<DiscoveryEntry, { type: 'skipped' }>;

function skipped(location: Location, stats: Stats | null, reason: SkipReason, detail: string): SkippedEntry {
  return {
    type: 'skipped',
    relPath: location.relPath === '' ? '.' : location.relPath,
    absPath: location.absPath,
    size: stats?.size ?? null,
    mtimeMs: stats?.mtimeMs ?? null,
    reason,
    detail,
  };
}

function childLocation(parent: Location, child: Child): Location {
  const atRoot = parent.fsPath.at(-1) === SEP_BYTES[0];
  return {
    fsPath: Buffer.concat(atRoot ? [parent.fsPath, child.name] : [parent.fsPath, SEP_BYTES, child.name]),
    // a name holds no separator and is never `.` or `..`: path.join's normalising, which built
    // each path a segment at a time, has nothing to do
    absPath: atRoot ? parent.absPath + child.display : parent.absPath + sep + child.display,
    relPath: parent.relPath === '' ? child.display : `${parent.relPath}/${child.display}`,
  };
}

/** The location of a directory above `below`: its prefix, of the lengths the directory's frame noted. */
function prefixLocation(below: Location, lengths: DirFrame['lengths']): Location {
  return {
    fsPath: below.fsPath.subarray(0, lengths.fsPath),
    absPath: below.absPath.slice(0, lengths.absPath),
    relPath: below.relPath.slice(0, lengths.relPath),
  };
}

/*
 * Listing, lstat and the sniff of a file's head are synchronous: each is one quick system call,
 * and the promise-based versions cost a thread-pool round trip apiece, which on a dump of many
 * small files was most of the main thread's time. Workers analyse meanwhile.
 */

/** Children sorted byte-wise by name, so every run walks the same order whatever the locale. */
function listChildren(fsPath: Buffer, anchors: AnchorCache): Child[] {
  const names = withShortPath(fsPath, (path) => readdirSync(path, { encoding: 'buffer' }), anchors);
  names.sort(Buffer.compare);
  return names.map((name) => ({ name, display: nameToString(name) }));
}

function enterDirectory(location: Location, stats: Stats, anchors: AnchorCache): DirFrame | DiscoveryEntry {
  try {
    const lengths = { fsPath: location.fsPath.length, absPath: location.absPath.length, relPath: location.relPath.length };
    return { location, lengths, children: listChildren(location.fsPath, anchors), next: 0 };
  } catch (error) {
    // A directory's size says nothing about what it holds; its mtime is still worth reporting.
    const entry = skipped(location, stats, 'unreadable', `directory cannot be listed (${describeError(error)})`);
    return { ...entry, size: null, directory: true };
  }
}

function specialFileDetail(stats: Stats): string {
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file of unknown type';
}

async function describeSymlink(location: Location, anchors: AnchorCache): Promise<DiscoveryEntry> {
  // Never followed: the target may lie outside the dump, or loop back into it.
  try {
    const target = await withShortPathAsync(location.fsPath, (path) => readlink(path, { encoding: 'buffer' }), anchors);
    return skipped(location, null, 'symlink', `symlink to ${nameToString(target)}`);
  } catch (error) {
    return skipped(location, null, 'symlink', `symlink (target unreadable: ${describeError(error)})`);
  }
}

/** The first bytes of each file are read into the same memory: the sniffer keeps nothing of them. */
const sniffBuffer = new ReusableBuffer(SNIFF_HEAD_BYTES);

/** How the walk treats the files it finds. */
export interface WalkOptions {
  /**
   * Asked about each regular file, from its lstat, before the file is opened: a reason
   * leaves it unopened and unsniffed (an `unopened` entry that carries the reason), null opens
   * it. A re-run uses it for the files whose size and mtime match their record: those are not
   * read again, not even their first bytes (on a 70,000-file dump, opening and sniffing them
   * was a third of a re-run's time with the page cache warm, and more than half with it cold).
   */
  leaveUnopened?: (file: DiscoveredFile) => string | null;
}

function describeRegularFile(location: Location, lstats: Stats, options: WalkOptions): DiscoveryEntry {
  const seen: DiscoveredFile = { relPath: location.relPath, absPath: location.absPath, size: lstats.size, mtimeMs: lstats.mtimeMs };
  const because = options.leaveUnopened?.(seen) ?? null;
  if (because !== null) return { type: 'unopened', file: seen, because };
  if (lstats.size === 0) return skipped(location, lstats, 'empty', 'empty file');
  let fd: number;
  try {
    fd = openEvidenceSync(location.fsPath);
  } catch (error) {
    return skipped(location, lstats, 'unreadable', describeError(error));
  }
  try {
    const stats = statEvidenceSync(fd);
    if (!stats.isFile()) {
      return skipped(location, stats, 'special-file', `${specialFileDetail(stats)} (was a regular file moments before)`);
    }
    const sniffed = sniffContainer(readHeadSync(fd, SNIFF_HEAD_BYTES, 0, sniffBuffer), location.relPath);
    if (sniffed.kind === 'skip') return skipped(location, stats, sniffed.reason, sniffed.detail);
    return {
      type: 'container',
      file: { relPath: location.relPath, absPath: location.absPath, size: stats.size, mtimeMs: stats.mtimeMs },
      kind: sniffed.kind,
    };
  } catch (error) {
    return skipped(location, lstats, 'unreadable', describeError(error));
  } finally {
    closeEvidenceSync(fd);
  }
}

/** Any entry but a directory: the stats are from lstat, so symlinks are seen as such. */
function describeEntry(location: Location, stats: Stats, options: WalkOptions, anchors: AnchorCache): Promise<DiscoveryEntry> | DiscoveryEntry {
  if (stats.isSymbolicLink()) return describeSymlink(location, anchors);
  if (stats.isFile()) return describeRegularFile(location, stats, options);
  // Never opened: opening a FIFO blocks, reading a device may never end.
  return skipped(location, stats, 'special-file', specialFileDetail(stats));
}

/**
 * Every entry under `root`, depth first, siblings in byte order of their names. Directories
 * themselves yield nothing unless they cannot be listed; every other entry yields exactly one
 * DiscoveryEntry. `root` itself is followed if it is a symlink (the user named it; paths then
 * start from its target), and may be a single file. A missing root throws: that is a usage error, not a property of the evidence.
 */
export async function* walkDump(root: string, options: WalkOptions = {}): AsyncGenerator<DiscoveryEntry> {
  // A symlinked root is replaced by its target: readers open with O_NOFOLLOW.
  const given = resolve(root);
  const absRoot = (await lstat(given)).isSymbolicLink() ? await realpath(given) : given;
  // absPath is path text all along (readers decode it with toFsPath), the root's part included.
  const rootLocation: Location = { fsPath: Buffer.from(absRoot), absPath: pathToText(absRoot), relPath: '' };
  const rootStats = await stat(absRoot);
  const anchors = new AnchorCache();
  try {
    if (!rootStats.isDirectory()) {
      yield await describeEntry({ ...rootLocation, relPath: basename(rootLocation.absPath) }, rootStats, options, anchors);
      return;
    }
    yield* walkTree(rootLocation, rootStats, options, anchors);
  } finally {
    anchors.close();
  }
}

async function* walkTree(rootLocation: Location, rootStats: Stats, options: WalkOptions, anchors: AnchorCache): AsyncGenerator<DiscoveryEntry> {
  const first = enterDirectory(rootLocation, rootStats, anchors);
  if (!('children' in first)) {
    yield first;
    return;
  }
  // An explicit stack rather than recursive generators: deep trees cost no yield* chain.
  const stack: DirFrame[] = [first];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as DirFrame;
    const here = frame.location as Location;
    const child = frame.children[frame.next];
    frame.next += 1;
    if (child === undefined) {
      stack.pop();
      const above = stack[stack.length - 1];
      if (above !== undefined) above.location = prefixLocation(here, above.lengths);
      continue;
    }
    const location = childLocation(here, child);
    let stats: Stats;
    try {
      stats = withShortPath(location.fsPath, (path) => lstatSync(path), anchors);
    } catch (error) {
      // Gone between the listing and now: the same word the readers use for it.
      const gone = (error as NodeJS.ErrnoException).code === 'ENOENT';
      yield gone ? skipped(location, null, 'vanished', describeError(error)) : { ...skipped(location, null, 'unreadable', describeError(error)), unexamined: true };
      continue;
    }
    if (stats.isDirectory()) {
      const entered = enterDirectory(location, stats, anchors);
      if ('children' in entered) {
        frame.location = null;
        stack.push(entered);
      } else yield entered;
      continue;
    }
    yield await describeEntry(location, stats, options, anchors);
  }
}
