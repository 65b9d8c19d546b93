// The browser half of tests/browser: Debian's chromium, driven by playwright-core, never a
// downloaded browser. Reads one JSON command per line on stdin, answers one JSON line each
// on stdout ({ok:true,...} or {ok:false, why}):
//   {cmd:"open", url}                          load the hall screen
//   {cmd:"reload"}                             load it again (a fresh join)
//   {cmd:"check", name, until:{...}, shot}      wait (at most 30 s) until the page shows what
//                                               `until` says, then write a screenshot
//   {cmd:"quit"}
// `until` keys: conn ("live"|"down"|"stale"), phase, paused (bool), signin (text of the
// sign-in count), rows (bidder rows), arows (announcement rows), ns (the announcement's
// numbers in the order shown, "1,2,3"), banner (bool), target (the countdown's end, server
// ms), texts ([strings the page must show]), absent ([strings it must not show]),
// sel ([[css selector, text its element must show]]), attrs ([[selector, attribute, value]]).
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const profile = mkdtempSync(join(tmpdir(), "bo-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.BO_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true, // the test PKI's TLS certificate
  viewport: { width: 1920, height: 1080 },
  locale: "zh-CN",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = ctx.pages()[0] || (await ctx.newPage());
const logs = [];
page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

// What the page shows now, as the checks need it.
async function state() {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    return {
      conn: document.body.dataset.conn,
      phase: document.body.dataset.phase,
      phaseText: q("#phase").innerText,
      signin: q("#signin-count").innerText.trim(),
      rows: q("#bidders-panel").hidden ? 0 : document.querySelectorAll("#bidders tbody tr").length,
      arows: q("#announce-panel").hidden ? 0 : document.querySelectorAll("#announce tbody tr").length,
      ns: [...document.querySelectorAll("#announce tbody tr")].map((r) => r.dataset.n).join(","),
      target: q("#countdown").dataset.target || "",
      banner: !q("#banner").hidden,
      bannerText: q("#banner").innerText,
      text: document.body.innerText,
      countdown: q("#countdown").innerText,
    };
  });
}

// what `sel` and `attrs` name, read from the page
async function probe(u) {
  return page.evaluate((u) => {
    const sel = (u.sel || []).map(([s]) => {
      const e = document.querySelector(s);
      return e && e.offsetParent !== null ? e.innerText : null; // shown, not just present
    });
    const attrs = (u.attrs || []).map(([s, a]) => {
      const e = document.querySelector(s);
      return e ? e.getAttribute(a) : null;
    });
    return { sel, attrs };
  }, u);
}

function satisfied(s, p, u) {
  if (u.conn && s.conn !== u.conn) return `conn ${s.conn}`;
  if (u.phase && s.phase !== u.phase) return `phase ${s.phase}`;
  if (u.paused !== undefined && s.phaseText.includes("已暂停") !== u.paused) return `paused? ${s.phaseText}`;
  if (u.signin !== undefined && s.signin !== u.signin) return `signin ${s.signin}`;
  if (u.rows !== undefined && s.rows !== u.rows) return `rows ${s.rows}`;
  if (u.banner !== undefined && s.banner !== u.banner) return `banner ${s.banner}`;
  if (u.arows !== undefined && s.arows !== u.arows) return `announcement rows ${s.arows}`;
  if (u.ns !== undefined && s.ns !== u.ns) return `announcement numbers "${s.ns}"`;
  if (u.target !== undefined && s.target !== String(u.target)) return `countdown to ${s.target}, not ${u.target}`;
  for (const t of u.texts || []) if (!s.text.includes(t)) return `missing text "${t}"`;
  for (const t of u.absent || []) if (s.text.includes(t)) return `shows "${t}"`;
  for (const [i, [sel, t]] of (u.sel || []).entries()) {
    if (p.sel[i] === null) return `${sel} not shown`;
    if (!p.sel[i].includes(t)) return `${sel} shows "${p.sel[i]}", not "${t}"`;
  }
  for (const [i, [sel, a, v]] of (u.attrs || []).entries())
    if (p.attrs[i] !== v) return `${sel} ${a}="${p.attrs[i]}", not "${v}"`;
  return "";
}

async function check(c) {
  const until = c.until || {};
  const end = Date.now() + (c.timeout_ms || 30000);
  let s, why;
  for (;;) {
    s = await state();
    why = satisfied(s, await probe(until), until);
    if (!why || Date.now() > end) break;
    await page.waitForTimeout(200);
  }
  if (c.shot) await page.screenshot({ path: c.shot });
  if (why) return { ok: false, why: `${c.name}: ${why}`, state: { ...s, text: s.text.slice(0, 1500) }, logs };
  return { ok: true, name: c.name, shot: c.shot, countdown: s.countdown, banner: s.bannerText };
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let c;
  try {
    c = JSON.parse(line);
  } catch {
    out({ ok: false, why: "bad command" });
    continue;
  }
  try {
    if (c.cmd === "open") {
      await page.goto(c.url, { waitUntil: "load" });
      out({ ok: true });
    } else if (c.cmd === "reload") {
      await page.reload({ waitUntil: "load" });
      out({ ok: true });
    } else if (c.cmd === "check") {
      out(await check(c));
    } else if (c.cmd === "quit") {
      break;
    } else {
      out({ ok: false, why: `unknown command ${c.cmd}` });
    }
  } catch (e) {
    out({ ok: false, why: String(e), logs });
  }
}
await ctx.close();
rmSync(profile, { recursive: true, force: true });
out({ ok: true, bye: true });
