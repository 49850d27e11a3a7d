/** One Dockerfile instruction: `COPY --from=build /app/dist ./dist` → {cmd: 'COPY', flags: {from: 'build'}, args: [...]}. */
export interface Instruction {
  cmd: string;
  flags: Record<string, string>;
  /** Shell form: the command text in `args[0]` (with `shell: true`); exec form: the JSON array. */
  args: string[];
  shell: boolean;
}

/** One `FROM ... [AS name]` stage and what follows it. */
export interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

/** A parsed Dockerfile: global ARG defaults and the stages in order. */
export interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Split `--a=b --c=d rest` into flags and the rest. */
function takeFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text.trimStart();
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(rest); m; m = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    flags[m[1] ?? ''] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Exec form (`["a", "b"]`) or shell form. */
function argsOf(rest: string): { args: string[]; shell: boolean } {
  if (rest.startsWith('[')) return { args: JSON.parse(rest) as string[], shell: false };
  return { args: [rest], shell: true };
}

/** Parse the subset of Dockerfile syntax this repository uses (comments, `\` continuations, flags, exec and shell forms). */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current && line.trimStart().startsWith('#')) continue; // comments inside a continuation
    if (line.endsWith('\\')) current += `${line.slice(0, -1)} `;
    else {
      logical.push((current + line).trim());
      current = '';
    }
  }
  const file: Dockerfile = { args: {}, stages: [] };
  for (const line of logical) {
    const space = line.search(/\s/);
    const cmd = line.slice(0, space).toUpperCase();
    const { flags, rest } = takeFlags(line.slice(space + 1));
    const stage = file.stages.at(-1);
    if (cmd === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.trim());
      const from = (m?.[1] ?? '').replace(/\$\{(\w+)\}/g, (_all, name: string) => file.args[name] ?? '');
      file.stages.push({ from, instructions: [], ...(m?.[2] ? { name: m[2] } : {}) });
    } else if (cmd === 'ARG' && !stage) {
      const [name = '', value = ''] = rest.split('=', 2);
      file.args[name] = value;
    } else if (cmd === 'HEALTHCHECK') {
      const m = /^CMD\s+(.*)$/s.exec(rest);
      stage?.instructions.push({ cmd, flags, ...(m ? argsOf(m[1] ?? '') : { args: [rest], shell: true }) });
    } else {
      stage?.instructions.push({ cmd, flags, ...argsOf(rest) });
    }
  }
  return file;
}

/** The instructions of a stage named `cmd`. */
export function all(stage: Stage, cmd: string): Instruction[] {
  return stage.instructions.filter((i) => i.cmd === cmd);
}

/** The last instruction of a stage named `cmd` (Docker keeps the last CMD, ENTRYPOINT, USER, ...). */
export function last(stage: Stage, cmd: string): Instruction | undefined {
  return all(stage, cmd).at(-1);
}

/** `COPY a b dest` in shell form → sources and destination. */
export function copyPaths(i: Instruction): { sources: string[]; dest: string } {
  const parts = i.shell ? (i.args[0] ?? '').split(/\s+/).filter(Boolean) : i.args;
  return { sources: parts.slice(0, -1), dest: parts.at(-1) ?? '' };
}

/**
 * Whether a path of the build context is excluded by .dockerignore patterns
 * (Go filepath.Match globs, `!` re-includes, the last matching line wins; a
 * pattern matching a directory matches everything under it).
 */
export function ignored(patterns: string[], path: string): boolean {
  let excluded = false;
  for (const raw of patterns) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split('/')
      .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/');
    if (new RegExp(`^${source}(/.*)?$`).test(path)) excluded = !negate;
  }
  return excluded;
}
