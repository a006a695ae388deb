/** Types for replay-build.mjs (imported by test/integration tests). */
export interface DockerInstruction {
  readonly op: string;
  readonly args: string;
  /** Preceded by a "# replay: skip" comment. */
  readonly skip: boolean;
}

export interface ReplayResult {
  readonly stages: readonly { readonly name: string; readonly image: string }[];
  readonly runs: readonly { readonly stage: string; readonly command: string; readonly replayed: boolean }[];
  readonly final: {
    readonly name: string;
    readonly root: string;
    readonly workdir: string;
    /** root + workdir: the application directory. */
    readonly app: string;
    readonly user: string | null;
    readonly entrypoint: readonly string[] | null;
    readonly cmd: readonly string[] | null;
    readonly env: Readonly<Record<string, string>>;
    readonly labels: Readonly<Record<string, string>>;
  };
}

export function parseDockerfile(text: string): DockerInstruction[];
/** A predicate: is this context-relative path excluded by .dockerignore? */
export function dockerignore(context: string): (path: string) => boolean;
export function replay(options: { readonly out: string; readonly context: string; readonly dockerfile: string }): ReplayResult;
