/**
 * The demo's fleet (src/commands/demo.ts: 3 projects x 12 clusters, seed 42,
 * up to 400 tasks each, configured by id) exported the way the demo does it,
 * its report drawn by Chromium. The picture in the docs comes from here:
 * UPDATE_DOCS_SCREENSHOT=1 npx vitest run test/integration/html-report-demo.test.ts
 * writes docs/images/report.png (every chart, down to the timeline).
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/commands/report.js';
import { SimFleet } from '../../src/simulator/index.js';
import { chartMarks, withPage } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, withSimulator } from '../support/exporter.js';

const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/images/report.png', import.meta.url));
/** The demo fleet's history runs from 2024-01 to about 2025-12: two weeks in its busy part. */
const UNTIL = '2025-11-30';

let db: TestDatabase;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-html-report-demo-'));
  db = await createTestDatabase();
  const fleet = SimFleet.generate({ seed: 42, projects: 3, clustersPerProject: 12, minTasks: 0, maxTasks: 400 });
  await withSimulator({ fleet, offsetMode: 'rows', pageSizeCap: 50 }, async (simulator) => {
    const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { pageSize: 100 }));
    expect(report.status).toBe('succeeded');
  });
});

afterAll(async () => {
  await db?.drop();
  await rm(workDir, { recursive: true, force: true });
});

it("draws the demo fleet's report, every chart with marks, and takes its picture", async () => {
  const path = await writeHtmlReport(db.pool, join(workDir, 'report.html'), { until: UNTIL });
  await withPage(path, { width: 1000 }, async (page, events) => {
    expect(events).toEqual({ consoleErrors: [], pageErrors: [], otherRequests: [] });
    const marks = await chartMarks(page);
    expect(Object.keys(marks)).toHaveLength(7);
    for (const [id, n] of Object.entries(marks)) expect(n, id).toBeGreaterThan(0);
    const end = await page.locator('#s-timeline').boundingBox();
    const shot = join(workDir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true, clip: { x: 0, y: 0, width: 1000, height: Math.ceil((end?.y ?? 0) + (end?.height ?? 0)) } });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile(shot, DOCS_SCREENSHOT);
  });
});
