import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.ts';

/**
 * The README's Usage block is where users and CI authors learn the commands and flags, which are
 * contracts: every command the CLI has, every option it takes and every value an option accepts
 * must be written there. (The block once lacked `--fail-on added`, and `--db` for five commands.)
 */

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const usageBlock = /## Usage\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

/** Each `leakcheck …` line of the block, with its continuation lines, keyed by its command words. */
function usageLines(): Map<string, string> {
  const lines = new Map<string, string>();
  let current: string | null = null;
  for (const line of usageBlock.split('\n')) {
    const m = /^leakcheck ((?:keys )?[a-z]+)/.exec(line);
    if (m) {
      current = m[1]!;
      lines.set(current, line);
    } else if (current && /^\s+\S/.test(line)) {
      lines.set(current, `${lines.get(current)!} ${line.trim()}`);
    }
  }
  return lines;
}

/** The command names a help text lists under "Commands:" (`help` aside). */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

interface OptionHelp {
  flag: string;
  choices: string[];
}

/** Every long option of a command's help, with the values commander lists as its choices. */
function optionsIn(help: string): OptionHelp[] {
  const section = (help.split(/^Options:$/m)[1] ?? '').replace(/\n\s+(?=[^\s-])/g, ' ');
  return section
    .split('\n')
    .map((line) => /^\s+(?:-\w, )?(--[a-z-]+)(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[1] !== '--help')
    .map((m) => ({ flag: m[1]!, choices: [...(/\(choices: ([^)]*?)(?:, default:[^)]*)?\)/.exec(m[2]!)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((c) => c[1]!) }));
}

describe('README usage', () => {
  const lines = usageLines();
  const topHelp = runCli(['--help']).stdout;
  const commands = commandsIn(topHelp).flatMap((name) => (name === 'keys' ? commandsIn(runCli(['keys', '--help']).stdout).map((sub) => `keys ${sub}`) : [name]));

  it('finds the commands in the help and the Usage block in the README', () => {
    expect(commands).toEqual(expect.arrayContaining(['verify', 'report', 'export', 'show', 'keys import', 'keys export']));
    expect(lines.size).toBeGreaterThanOrEqual(10);
  });

  it('lists every command of the CLI, and no command it lacks', () => {
    expect([...lines.keys()].sort()).toEqual([...commands].sort());
  });

  it('writes every option of every command, with every value it accepts', () => {
    const missing: string[] = [];
    for (const command of commands) {
      const line = lines.get(command) ?? '';
      const help = runCli([...command.split(' '), '--help']).stdout;
      const options = optionsIn(help);
      expect(options.length, command).toBeGreaterThan(0);
      for (const { flag, choices } of options) {
        const written = new RegExp(`${flag}(?![a-z-])(?: ([^\\]\\s]+))?`).exec(line);
        if (!written) {
          missing.push(`${command}: ${flag}`);
          continue;
        }
        const values = written[1]?.split('|') ?? [];
        for (const choice of choices) if (!values.includes(choice)) missing.push(`${command}: ${flag} ${choice}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('writes every value verify --fail-on accepts', () => {
    // not a commander choice list: --fail-on is repeatable, and its values are checked by leakcheck
    const refused = runCli(['verify', '--fail-on', 'no-such-thing', '/nonexistent']);
    expect(refused.status).toBe(2);
    const accepted = /Allowed choices are ([^.]+)\./.exec(refused.stderr)?.[1]?.split(', ') ?? [];
    expect(accepted).toContain('added');
    const written = /--fail-on ([a-z|]+)/.exec(lines.get('verify') ?? '')?.[1]?.split('|') ?? [];
    expect(written.sort()).toEqual([...accepted].sort());
  });
});
