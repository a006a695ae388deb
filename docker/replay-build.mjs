#!/usr/bin/env node
/**
 * Replays docker/Dockerfile without a Docker engine: every stage becomes a
 * directory under OUT/<stage>/, with the container's absolute paths inside it
 * (WORKDIR /app -> OUT/<stage>/app). COPY honours .dockerignore and
 * --from=<stage>; RUN runs with /bin/sh in the stage's WORKDIR, except a RUN
 * preceded by a "# replay: skip" comment (operating-system packages, links
 * into /usr/local/bin). ARG defaults and ENV are applied.
 *
 *   node docker/replay-build.mjs OUT [--context DIR] [--dockerfile FILE]
 *
 * Prints a JSON description of the image on stdout: stages, the final
 * stage's directory and WORKDIR, USER, ENTRYPOINT, CMD, LABELs and the RUN
 * steps replayed or skipped. Used by test/integration/container-build.test.ts;
 * plain JavaScript so it needs nothing but Node.js.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const options = { out: undefined, context: resolve(here, '..'), dockerfile: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--context') options.context = resolve(argv[++i]);
    else if (arg === '--dockerfile') options.dockerfile = resolve(argv[++i]);
    else if (!options.out) options.out = resolve(arg);
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!options.out) throw new Error('usage: node docker/replay-build.mjs OUT [--context DIR] [--dockerfile FILE]');
  options.dockerfile ??= join(options.context, 'docker', 'Dockerfile');
  return options;
}

/** Logical instructions: continuation lines joined, comments dropped except "# replay: skip". */
export function parseDockerfile(text) {
  const instructions = [];
  let pending = '';
  let skipNext = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '') {
      if (line === '') continue;
      if (line.startsWith('#')) {
        if (/^#\s*replay:\s*skip\b/.test(line)) skipNext = true;
        continue;
      }
    } else if (line.startsWith('#')) {
      continue;
    }
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    instructions.push({ op: match[1].toUpperCase(), args: match[2], skip: skipNext });
    skipNext = false;
  }
  return instructions;
}

/** .dockerignore: the last matching pattern decides; "!" re-includes. */
export function dockerignore(context) {
  const file = join(context, '.dockerignore');
  const rules = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((pattern) => {
          const negate = pattern.startsWith('!');
          const body = (negate ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, '');
          const regex = body
            .split('**')
            .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
            .join('.*');
          return { negate, regex: new RegExp(`^${regex}(/.*)?$`) };
        })
    : [];
  return (path) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(path)) ignored = !rule.negate;
    return ignored;
  };
}

function substitute(text, vars) {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => vars[a ?? b] ?? whole);
}

function splitWords(args) {
  if (args.startsWith('[')) return JSON.parse(args);
  return args.split(/\s+/).filter(Boolean);
}

function parseKeyValues(args) {
  const pairs = {};
  const re = /(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S+)/g;
  let m;
  while ((m = re.exec(args))) pairs[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
  return pairs;
}

function copyInto(source, destination, ignored, contextRoot) {
  const stat = lstatSync(source);
  if (stat.isDirectory()) {
    for (const name of readdirSync(source)) copyInto(join(source, name), join(destination, name), ignored, contextRoot);
    return;
  }
  if (ignored && ignored(relative(contextRoot, source).split('\\').join('/'))) return;
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(source, destination, { verbatimSymlinks: true, preserveTimestamps: true });
}

export function replay({ out, context, dockerfile }) {
  const instructions = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const ignored = dockerignore(context);
  const globalArgs = {};
  const stages = new Map();
  let stage = null;
  const report = { stages: [], runs: [] };
  const inStage = (path) => join(stage.root, path.startsWith('/') ? path : join(stage.workdir, path));

  for (const { op, args, skip } of instructions) {
    if (op === 'ARG') {
      const [name, value] = args.split('=');
      const scope = stage ? stage.vars : globalArgs;
      if (value !== undefined) scope[name] = value;
      else if (stage && globalArgs[name] !== undefined) scope[name] = globalArgs[name];
      continue;
    }
    if (op === 'FROM') {
      const [image, as, name] = splitWords(substitute(args, globalArgs));
      const stageName = as?.toUpperCase() === 'AS' ? name : `stage${stages.size}`;
      stage = { name: stageName, image, root: join(out, stageName), workdir: '/', vars: {}, env: {}, labels: {}, user: null, entrypoint: null, cmd: null };
      mkdirSync(stage.root, { recursive: true });
      stages.set(stageName, stage);
      report.stages.push({ name: stageName, image });
      continue;
    }
    if (!stage) throw new Error(`${op} before FROM`);
    const vars = { ...globalArgs, ...stage.vars, ...stage.env };
    const text = substitute(args, vars);
    switch (op) {
      case 'WORKDIR':
        stage.workdir = text.startsWith('/') ? text : join(stage.workdir, text);
        mkdirSync(join(stage.root, stage.workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(stage.env, parseKeyValues(text));
        break;
      case 'LABEL':
        Object.assign(stage.labels, parseKeyValues(text));
        break;
      case 'USER':
        stage.user = text;
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = splitWords(text);
        break;
      case 'CMD':
        stage.cmd = splitWords(text);
        break;
      case 'COPY': {
        const words = splitWords(text);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const destination = paths.pop();
        for (const source of paths) {
          const origin = from ? join(stages.get(from).root, source) : join(context, source);
          if (!existsSync(origin)) throw new Error(`COPY ${source}: not found (${origin})`);
          // A directory's contents go into the destination; a file goes to it, or into it if it ends with "/".
          const intoDirectory = statSync(origin).isDirectory() || destination.endsWith('/') || paths.length > 1;
          const target = statSync(origin).isDirectory() || !intoDirectory
            ? inStage(destination)
            : join(inStage(destination), source.split('/').pop());
          copyInto(origin, target, from ? null : ignored, from ? stages.get(from).root : context);
        }
        break;
      }
      case 'RUN':
        report.runs.push({ stage: stage.name, command: text, replayed: !skip });
        if (skip) break;
        execFileSync('/bin/sh', ['-ec', text], {
          cwd: join(stage.root, stage.workdir),
          stdio: ['ignore', 2, 2],
          env: { ...process.env, ...stage.env, HOME: process.env.HOME ?? '/tmp', npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
        });
        break;
      default:
        break; // EXPOSE, HEALTHCHECK, ...: nothing to replay
    }
  }
  const last = stage;
  return {
    ...report,
    final: {
      name: last.name,
      root: last.root,
      workdir: last.workdir,
      app: join(last.root, last.workdir),
      user: last.user,
      entrypoint: last.entrypoint,
      cmd: last.cmd,
      env: last.env,
      labels: last.labels,
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = replay(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
