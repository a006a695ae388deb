/** `config schema` prints the config file's JSON Schema; `config init` writes a commented starting config next to it. */
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { configTemplate, PROJECT_ID_PLACEHOLDER } from '../config/config-template.js';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../config/json-schema.js';
import { parseConfigText } from '../config/load-config.js';
import { PROJECT_ID } from '../config/project-schema.js';
import { isRegionId } from '../config/regions.js';
import { UsageError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';

export function configSchemaCommand(out: (line: string) => void): Promise<number> {
  out(JSON.stringify(configJsonSchema(), null, 2));
  return Promise.resolve(ExitCode.OK);
}

export interface ConfigInitOptions {
  readonly file: string;
  readonly region: string;
  readonly projectId: string | undefined;
  readonly force: boolean;
}

async function writeNew(path: string, text: string, force: boolean): Promise<void> {
  try {
    await writeFile(path, text, { flag: force ? 'w' : 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${path} exists already: choose another --file, or pass --force to overwrite it`);
    }
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

export async function configInitCommand(options: ConfigInitOptions, out: (line: string) => void): Promise<number> {
  if (!isRegionId(options.region)) {
    throw new UsageError(`--region must be a Huawei Cloud region id such as "cn-north-4", not ${JSON.stringify(options.region)}`);
  }
  if (options.projectId !== undefined && !PROJECT_ID.test(options.projectId)) {
    throw new UsageError(`--project-id must be 32 hexadecimal characters (a Huawei Cloud project id), not ${JSON.stringify(options.projectId)}`);
  }
  const schemaPath = join(dirname(options.file), CONFIG_SCHEMA_FILE);
  const text = configTemplate({
    region: options.region,
    projectId: options.projectId ?? null,
    schemaPath: `./${relative(dirname(options.file), schemaPath)}`,
  });
  // The template must be a config a run accepts (once the placeholder is filled in).
  parseConfigText(options.projectId === undefined ? text.replace(PROJECT_ID_PLACEHOLDER, '0'.repeat(32)) : text, 'config init');
  await writeNew(options.file, text, options.force);
  // Rewritten every time: it must describe this exporter's version.
  await writeNew(schemaPath, `${JSON.stringify(configJsonSchema(), null, 2)}\n`, true);
  const steps = [
    ...(options.projectId === undefined ? [`put your project id in ${options.file} ("projectId")`] : []),
    'export HUAWEICLOUD_SDK_AK=… HUAWEICLOUD_SDK_SK=…  (other sources: docs/credentials.md)',
    `dws-task-exporter discover --config ${options.file}  (what a run would export; no database)`,
    `dws-task-exporter run --config ${options.file}  (the export: DATABASE_URL, else an embedded PostgreSQL)`,
  ];
  out(`Wrote ${options.file} and ${schemaPath} (for editors). Next:`);
  steps.forEach((step, i) => out(`  ${i + 1}. ${step}`));
  return ExitCode.OK;
}
