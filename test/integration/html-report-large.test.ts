/**
 * A 1,000-cluster fleet, exported for real: the report stays readable (the
 * timeline has 40 rows and one for the rest) and small, for a two-week and a
 * one-year window, and Chromium draws it without an error.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/commands/report.js';
import { SimFleet } from '../../src/simulator/index.js';
import { REPORT_DAYS_MAX, TIMELINE_CLUSTER_ROWS } from '../../src/warehouse/report-data/model.js';
import { readReportData } from '../../src/warehouse/report-data/read-report-data.js';
import { chartMarks, withPage } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, withSimulator } from '../support/exporter.js';

const CLUSTERS = 1000;
const UNTIL = '2025-06-30';
/** "A few MB": what a mail attachment or an Airflow artefact takes without fuss. */
const MAX_BYTES = 3_000_000;

let db: TestDatabase;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-html-report-large-'));
  db = await createTestDatabase();
  const fleet = SimFleet.generate({ seed: 11, projects: 4, clustersPerProject: CLUSTERS / 4, minTasks: 0, maxTasks: 40, startDate: '2024-01-01' });
  await withSimulator({ fleet }, async (simulator) => {
    const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 32 }));
    expect(report.status).toBe('succeeded');
  });
});

afterAll(async () => {
  await db?.drop();
  await rm(workDir, { recursive: true, force: true });
});

describe.each([14, REPORT_DAYS_MAX])('a 1,000-cluster fleet over %i days', (days) => {
  it('gives the busiest clusters a timeline row each and sums the rest into one', async () => {
    const data = await readReportData(db.pool, { days, until: UNTIL, timeZone: 'UTC' });
    expect(data.fleet.clusters).toBe(CLUSTERS);
    expect(data.timeline.activeClusters).toBeGreaterThan(TIMELINE_CLUSTER_ROWS);
    expect(data.timeline.rows).toHaveLength(TIMELINE_CLUSTER_ROWS);
    expect(data.timeline.others.length).toBeGreaterThan(0);
  });

  it(`renders under ${MAX_BYTES / 1e6} MB, and Chromium draws every chart without an error`, async () => {
    const path = await writeHtmlReport(db.pool, join(workDir, `report-${days}.html`), { days, until: UNTIL });
    const { size } = await stat(path);
    expect(size).toBeLessThan(MAX_BYTES);
    await withPage(path, {}, async (page, events) => {
      expect(events).toEqual({ consoleErrors: [], pageErrors: [], otherRequests: [] });
      const marks = await chartMarks(page);
      for (const [id, n] of Object.entries(marks)) expect(n, id).toBeGreaterThan(0);
      expect(Object.keys(marks)).toContain('timeline');
      const rows = await page.locator('svg#timeline text.name').allTextContents();
      expect(rows).toHaveLength(TIMELINE_CLUSTER_ROWS + 1);
      expect(rows.at(-1)).toMatch(/^\d{3} other clusters$/);
      await page.screenshot({ path: join(workDir, `report-${days}.png`), fullPage: true });
    });
  });
});
