"""Helpers of the browser tests: axe-core from npm, CSP-violation capture, layout checks at a width."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

from tests.conftest import TIMEOUT_FACTOR

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 360, 375, 390, 412, 430, 768, 1366)
# Records every Content-Security-Policy violation of the page (a test asserts there is none).
CSP_SCRIPT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
SERIOUS = ("serious", "critical")
AXE_RUN = """async (serious) => {
  const r = await axe.run(document, { resultTypes: ["violations"] });
  return r.violations.filter((v) => serious.includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""
# Where the tap lands: the trigger's own centre must hit the trigger (not a bar or toast above it).
TAP_TARGET = """(sel) => {
  const el = document.querySelector(sel);
  if (!el) return "missing";
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) {
    return `outside the viewport: ${JSON.stringify(r)} in ${innerWidth}x${innerHeight}`;
  }
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit && (hit === el || el.contains(hit)) ? "ok" : `covered by ${hit ? hit.outerHTML.slice(0, 80) : "nothing"}`;
}"""


def ensure_axe() -> Path:
    """axe-core from npm (``npm ci`` in tests/restapi/web/axe when it is not installed yet)."""
    if not AXE_JS.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True, timeout=300 * TIMEOUT_FACTOR)
    return AXE_JS


async def watch(ctx: BrowserContext, axe: bool = True) -> None:
    """Record CSP violations, and load axe-core into every page (an init script: no CSP exception needed)."""
    await ctx.add_init_script(CSP_SCRIPT)
    if axe:
        await ctx.add_init_script(path=str(ensure_axe()))


async def axe_serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    result: list[str] = await page.evaluate(AXE_RUN, list(SERIOUS))
    return result


async def csp_violations(page: Page) -> list[str]:
    got: list[str] = await page.evaluate("window.__csp || []")
    return got


async def layout_at(page: Page, width: int, height: int, slip: bool) -> dict[str, Any]:
    """Resize to ``width`` x ``height``; the page's scroll width and, on player pages, where a tap on the slip lands."""
    await page.set_viewport_size({"width": width, "height": height})
    await page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    metrics: dict[str, Any] = await page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: innerWidth})")
    metrics["slip"] = await page.evaluate(TAP_TARGET, "#slip-open") if slip else "ok"
    return metrics


CONTRAST = """(sel) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const el = document.querySelector(sel);
  let bg = null;
  for (let n = el; n && !bg; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length < 4 || c[3] > 0) bg = c;
  }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg || [0, 0, 0]);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


async def contrast(page: Page, selector: str) -> float:
    """The WCAG contrast ratio of the element's text against the first opaque background behind it."""
    ratio: float = await page.evaluate(CONTRAST, selector)
    return ratio
