// Lighthouse in mobile mode on WagerBabe pages, logged in through the real login page first.
// Usage: CHROME_PATH=/usr/bin/chromium node run.mjs BASE OUTDIR   (bench/lighthouse.py calls it)
// Each page is scored twice from one trace: with Lighthouse's default 4x CPU slowdown (made for a
// fast desktop host, BenchmarkIndex 1000+), and with the slowdown calibrated to this host, so that the
// simulated phone is Chrome DevTools' low-tier one (BenchmarkIndex 264, Moto G Power 2022) and not
// a phone four times slower than an already loaded 2-core machine.
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";
import lighthouse from "lighthouse";

const [base, outDir] = process.argv.slice(2);
const chrome = process.env.CHROME_PATH || "/usr/bin/chromium";
const LOW_TIER_PHONE = 264; // chrome-devtools-frontend CalibrationController.ts `lowScore`
const scores = (lhr) => {
  const c = lhr.categories;
  const a = lhr.audits;
  return { performance: c.performance.score, accessibility: c.accessibility.score,
    best_practices: c["best-practices"].score, seo: c.seo.score,
    fcp_ms: a["first-contentful-paint"].numericValue, lcp_ms: a["largest-contentful-paint"].numericValue,
    tbt_ms: a["total-blocking-time"].numericValue, cls: a["cumulative-layout-shift"].numericValue,
    failed: Object.values(a).filter((x) => x.score !== null && x.score < 0.9 && x.scoreDisplayMode === "binary").map((x) => x.id) };
};
const PLAYER = ["player01", "player-pass-123", "/sports"];
// The event page needs a game that is on the board now: the first of the league's.
const odds = await (await fetch(`${base}/api/v1/betting/odds?league=basketball_nba&limit=1`)).json();
const PAGES = [
  { name: "login", path: "/login", as: null },
  { name: "board", path: "/league/basketball_nba", as: PLAYER },
  { name: "event", path: `/event/${odds.events[0].id}`, as: PLAYER },
  { name: "history", path: "/history", as: PLAYER },
  { name: "agent_dashboard", path: "/agent", as: ["agent1", "agent-pass-123", "/agent"] },
];

fs.mkdirSync(outDir, { recursive: true });
const results = {};
for (const p of PAGES) {
  const browser = await puppeteer.launch({ executablePath: chrome, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"] });
  try {
    const page = await browser.newPage();
    if (p.as) {
      // The access token lives in sessionStorage: log in in this tab, then let Lighthouse keep the storage.
      await page.goto(`${base}/login`, { waitUntil: "networkidle0" });
      await page.type("#login", p.as[0]);
      await page.type("#password", p.as[1]);
      await Promise.all([page.waitForNavigation({ waitUntil: "networkidle0" }), page.click("#login-form button[type=submit]")]);
    }
    const flags = { output: "json", logLevel: "error", formFactor: "mobile", screenEmulation: { mobile: true, width: 412, height: 823, deviceScaleFactor: 1.75, disabled: false },
      throttlingMethod: "simulate", disableStorageReset: true,
      onlyCategories: ["performance", "accessibility", "best-practices", "seo"] };
    const saved = path.join(outDir, "artifacts", p.name);
    const run = await lighthouse(`${base}${p.path}`, { ...flags, gatherMode: saved, auditMode: saved }, undefined, page);
    fs.writeFileSync(path.join(outDir, `${p.name}.json`), run.report);
    // The same trace again with the slowdown calibrated to this host (never below 1x: no speed-up).
    const file = path.join(saved, "artifacts.json");
    const artifacts = JSON.parse(fs.readFileSync(file, "utf8"));
    const bench = artifacts.BenchmarkIndex;
    const multiplier = Math.max(1, Math.round((bench / LOW_TIER_PHONE) * 100) / 100);
    const throttling = { ...artifacts.settings.throttling, cpuSlowdownMultiplier: multiplier };
    artifacts.settings.throttling = throttling;
    fs.writeFileSync(file, JSON.stringify(artifacts));
    const calibrated = await lighthouse(undefined, { ...flags, throttling, auditMode: saved });
    fs.writeFileSync(path.join(outDir, `${p.name}.calibrated.json`), calibrated.report);
    results[p.name] = { ...scores(run.lhr), benchmark_index: bench,
      calibrated: { cpu_slowdown: multiplier, ...scores(calibrated.lhr) } };
  } finally {
    await browser.close();
  }
}
console.log(JSON.stringify(results));
