/** The commented starting config `config init` writes: region, "clusters": "all", credentials from the environment. */
import { CONFIG_SCHEMA_FILE } from './json-schema.js';

export interface TemplateValues {
  readonly region: string;
  /** Null: a placeholder the user must replace (validation names it until then). */
  readonly projectId: string | null;
  /** The schema file's path relative to the config file. */
  readonly schemaPath?: string;
}

export const PROJECT_ID_PLACEHOLDER = 'REPLACE-with-your-32-hex-project-id';

export function configTemplate(values: TemplateValues): string {
  const schema = values.schemaPath ?? `./${CONFIG_SCHEMA_FILE}`;
  return `{
  // dws-task-exporter config. Every key, with its default: docs/configuration.md
  // (or the "$schema" below: editors complete and check this file).
  "$schema": ${JSON.stringify(schema)},

  // The region gives the DWS endpoint (https://dws.<region>.myhuaweicloud.com).
  "region": ${JSON.stringify(values.region)},

  "projects": [
    {
      // Console: My Credentials > API Credentials > Projects (one id per region).
      "projectId": ${JSON.stringify(values.projectId ?? PROJECT_ID_PLACEHOLDER)},
      // "all": every cluster the project lists at each run. Or a list of cluster
      // ids (UUIDs), or {"include": ["sales-*"], "exclude": ["test-*"]} by name.
      "clusters": "all"
    }
  ],

  // The API's times carry no zone; this is the zone they are read in.
  "sourceTimeZone": "UTC"

  // Credentials are not kept here: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK
  // (or their *_FILE variants, or DWS_AUTH_TOKEN) in the environment, or add
  // "auth": {"metadata": {}} on an ECS/CCE node with an agency. See docs/credentials.md.
}
`;
}
