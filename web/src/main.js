// bidopen hall screen: a read-only bidopen.v1 participant for a county hall's big screen.
// It authenticates as a site with the host's link (#site=TOKEN) or as an observer, joins the
// opening named by ?oid=, replays its public history, follows it live, reconnects by itself
// and resumes from its cursor, and says so when what it shows may be out of date.
// docs/hall.md is the user's guide; docs/protocol.md the protocol.
import { encode, decode } from "@msgpack/msgpack";
import { L, confirmLabel, phaseLabel, stateLabel, statusLabel } from "./labels.js";

const params = new URLSearchParams(location.search);
const frag = new URLSearchParams(location.hash.slice(1));
const OID = params.get("oid") || "";
let TOKEN = frag.get("site") || "";
const STALE_MS = 15000; // the server pings every 10 s: 15 s of silence means trouble
const TIME_SYNC_MS = 30000;

const lang = params.get("lang");
if (lang === "zh" || lang === "en") document.documentElement.dataset.lang = lang;
document.addEventListener("keydown", (e) => {
  if (e.key !== "l" && e.key !== "L") return;
  const order = ["", "zh", "en"];
  const cur = document.documentElement.dataset.lang || "";
  document.documentElement.dataset.lang = order[(order.indexOf(cur) + 1) % 3];
});

// ---------- state ----------

const S = {
  tender: null,
  phase: "",
  paused: false,
  failedReason: "",
  checkinAt: 0,
  deadline: 0,
  counts: null, // {registered, signed_in, submitted, ...} when this screen may see them
  revealed: false,
  bidders: new Map(), // uscc -> {uscc, org, signed_in, state, status?, form_error?}
  quorum: null, // the deadline's (bids), from announcing on the valid bids' (§11)
  valid: null, // valid bids, from phase_changed to announcing
  decrypt: null, // {ends_at, bids, decrypted, classified, window_closed}
  announce: null, // snap.announce {announced, total, next?}
  announced: new Map(), // n -> bid_announced body
  draws: new Map(), // id -> draw_result body
  benchmark: null, // benchmark_price body
  confirm: null, // {record_hash, ends_at, window_closed}
  confirmed: new Set(), // uscc
  deemed: new Set(), // uscc, from confirmation_window_closed / opening_closed
  objections: new Map(), // n -> {n, uscc, text, at, answer?:{text, at}}
  message: null,
  closed: null, // {record_hash, confirmed?, deemed?}
  historyGap: false,
  error: "",
  linkRefused: "",
  role: "",
  siteName: "",
};
let cursor = 0; // last pub position processed
let snapPos = 0; // the snapshot's pub position at the last join
let offset = 0; // server clock - local clock (ms)
let rtt = -1;
let lastMsgAt = 0; // local time of the last frame from the server
let lastUpdateServer = 0; // server time of the last frame
let connState = "connecting"; // connecting, live, stale, down
let everJoined = false;

const serverNow = () => Date.now() + offset;

// ---------- the connection ----------

let ws = null;
let reqId = 0;
let pending = new Map();
let backoff = 500;
let retryTimer = 0;
let syncTimer = 0;

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(encode(obj));
}

function request(obj) {
  obj.id = ++reqId;
  send(obj);
  return new Promise((resolve) => pending.set(obj.id, resolve));
}

function connect() {
  clearTimeout(retryTimer);
  setConn(everJoined ? "down" : "connecting");
  const url = (location.protocol === "http:" ? "ws://" : "wss://") + location.host + "/ws";
  const sock = new WebSocket(url, "bidopen.v1");
  sock.binaryType = "arraybuffer";
  ws = sock;
  sock.onmessage = (e) => {
    if (sock !== ws || !(e.data instanceof ArrayBuffer)) return;
    let m;
    try {
      m = decode(new Uint8Array(e.data));
    } catch {
      return;
    }
    lastMsgAt = Date.now();
    lastUpdateServer = serverNow();
    if (connState === "stale") setConn("live");
    onMessage(m);
  };
  sock.onclose = (e) => {
    if (sock !== ws) return;
    ws = null;
    for (const resolve of pending.values()) resolve({ t: "err", code: "E_CANCELED", msg: "connection closed" });
    pending = new Map();
    clearInterval(syncTimer);
    setConn(everJoined ? "down" : "connecting");
    // 4000: fell behind, come back at once; otherwise back off with full jitter (protocol.md §1)
    const delay = e.code === 4000 ? 0 : Math.random() * backoff;
    backoff = Math.min(backoff * 2, 20000);
    retryTimer = setTimeout(connect, delay);
  };
}

function onMessage(m) {
  switch (m.t) {
    case "hello":
      start();
      break;
    case "ok":
    case "err": {
      const resolve = pending.get(m.re);
      if (resolve) {
        pending.delete(m.re);
        resolve(m);
      }
      break;
    }
    case "ev":
      if (m.oid === OID) applyEvent(m);
      break;
    case "ping":
      send({ t: "pong", n: m.n });
      break;
    case "notice":
      break;
    default:
      break;
  }
}

async function syncTime() {
  const t0 = Date.now();
  const r = await request({ t: "time", t0 });
  if (r.t !== "ok" || !r.data) return;
  const t3 = Date.now();
  const { t1, t2 } = r.data;
  offset = Math.round((t1 - t0 + (t2 - t3)) / 2);
  rtt = Math.max(0, t3 - t0 - (t2 - t1));
}

async function start() {
  let r;
  if (TOKEN) {
    r = await request({ t: "auth", role: "site", token: TOKEN });
    if (r.t === "err" && r.code !== "E_CANCELED") {
      // a bad or expired link: say so, and show the opening as the public sees it
      S.linkRefused = `${r.code}: ${r.msg || ""}`;
      TOKEN = "";
    }
  }
  if (!TOKEN) r = await request({ t: "auth", role: "observer" });
  if (r.t !== "ok") return;
  S.role = r.data.role;
  S.siteName = S.role === "site" ? r.data.org : "";
  await syncTime();
  clearInterval(syncTimer);
  syncTimer = setInterval(syncTime, TIME_SYNC_MS);
  if (!OID) {
    const l = await request({ t: "list" });
    if (l.t === "ok") showPicker(l.data.openings || []);
    setConn("live");
    return;
  }
  const j = await request({ t: "join", oid: OID, since: { pub: cursor } });
  if (j.t !== "ok") {
    if (j.code === "E_CANCELED") return;
    S.error = `${j.code}: ${j.msg || ""}`;
    setConn("live");
    render();
    return;
  }
  S.error = "";
  applySnapshot(j.data.snap, j.data.recovered);
  backoff = 500;
  everJoined = true;
  setConn("live");
  render();
}

// ---------- folding what arrives ----------

function applySnapshot(snap, recovered) {
  S.tender = snap.tender || S.tender;
  S.phase = snap.phase;
  S.paused = !!snap.paused;
  S.failedReason = snap.failed_reason || "";
  S.checkinAt = snap.checkin_at;
  S.deadline = snap.deadline;
  if (snap.counts) S.counts = { ...snap.counts };
  if (snap.bidders) {
    S.revealed = true;
    S.bidders = new Map(snap.bidders.map((b) => [b.uscc, { ...b }]));
    // an announced bid carries its number and, when valid, its form (§7 snapshot)
    for (const b of snap.bidders) {
      if (b.n && !S.announced.has(b.n)) {
        S.announced.set(b.n, { n: b.n, uscc: b.uscc, org: b.org, status: b.status, fields: b.fields, form_error: b.form_error });
      }
    }
  }
  if (snap.quorum !== undefined) S.quorum = snap.quorum;
  if (snap.decrypt) S.decrypt = { ...snap.decrypt };
  if (snap.announce) S.announce = { ...snap.announce };
  for (const d of snap.draws || []) S.draws.set(d.id, d);
  if (snap.benchmark) S.benchmark = snap.benchmark;
  if (snap.confirm) {
    const c = snap.confirm;
    S.confirm = { record_hash: c.record_hash, ends_at: c.ends_at, window_closed: !!c.window_closed };
    for (const u of c.confirmed || []) S.confirmed.add(u);
    if (c.final_hash) S.closed = { ...S.closed, record_hash: c.final_hash };
  }
  for (const o of snap.objections || []) S.objections.set(o.n, { ...S.objections.get(o.n), ...o });
  snapPos = (snap.pos && snap.pos.pub) || 0;
  if (!recovered) {
    // too far behind to replay: the snapshot is the state; older lists may be incomplete
    if (cursor > 0 && snapPos > cursor) S.historyGap = true;
    if (cursor === 0 && snapPos > 0) S.historyGap = true;
    cursor = snapPos;
  }
}

function bidder(uscc, org) {
  let b = S.bidders.get(uscc);
  if (!b) {
    b = { uscc, org: org || uscc, signed_in: false, state: "submitted" };
    S.bidders.set(uscc, b);
  }
  if (org) b.org = org;
  return b;
}

function applyEvent(ev) {
  if (ev.st !== "pub" || ev.seq <= cursor) return; // seen already (a resume never repeats)
  cursor = ev.seq;
  const b = ev.body || {};
  // the snapshot already holds the state up to snapPos; events before it fill the lists
  const live = ev.seq > snapPos;
  switch (ev.kind) {
    case "opening_created":
      if (!S.tender) S.tender = b.tender;
      break;
    case "phase_changed":
      if (b.to === "announcing" && b.valid !== undefined) S.valid = b.valid;
      if (live) {
        S.phase = b.to;
        if (b.to === "failed") S.failedReason = b.reason || "";
        if (b.to === "announcing" && b.quorum !== undefined) S.quorum = b.quorum;
      }
      break;
    case "paused":
      if (live) S.paused = true;
      break;
    case "resumed":
      if (live) {
        S.paused = false;
        if (b.ends_at && S.phase === "decrypting" && S.decrypt) S.decrypt.ends_at = b.ends_at;
        if (b.ends_at && S.phase === "confirming" && S.confirm) S.confirm.ends_at = b.ends_at;
      }
      break;
    case "tally":
      if (live) S.counts = { ...b };
      break;
    case "bidders_revealed":
      if (live) {
        S.revealed = true;
        S.bidders = new Map((b.bidders || []).map((x) => [x.uscc, { ...x, state: "submitted" }]));
        S.quorum = b.quorum;
      }
      break;
    case "bidder_signed_in":
      if (live) bidder(b.uscc, b.org).signed_in = true;
      break;
    case "decryption_started":
      if (live) S.decrypt = { ends_at: b.ends_at, bids: b.bids, decrypted: 0, classified: 0, window_closed: false };
      break;
    case "bid_decrypted":
      if (live) {
        const x = bidder(b.uscc, b.org);
        x.state = "decrypted";
        if (x.status === undefined) x.status = b.form_error ? "invalid" : "valid";
        if (b.form_error) x.form_error = b.form_error;
        if (S.decrypt) S.decrypt.decrypted++;
      }
      break;
    case "decryption_extended":
      if (live && S.decrypt) S.decrypt.ends_at = b.ends_at;
      break;
    case "decryption_window_closed":
      if (live && S.decrypt) S.decrypt.window_closed = true;
      break;
    case "bid_classified":
      if (live) {
        const x = bidder(b.uscc);
        x.state = b.outcome;
        x.status = b.outcome;
        if (S.decrypt) S.decrypt.classified++;
      }
      break;
    case "bid_announced":
      S.announced.set(b.n, b);
      if (b.org) bidder(b.uscc, b.org).status = b.status;
      break;
    case "draw_result":
      S.draws.set(b.id, b);
      break;
    case "benchmark_price":
      S.benchmark = b;
      break;
    case "confirmation_opened":
      S.confirm = { record_hash: b.record_hash, ends_at: b.ends_at, window_closed: false };
      break;
    case "bidder_confirmed":
      S.confirmed.add(b.uscc);
      break;
    case "confirmation_window_closed":
      if (S.confirm) S.confirm.window_closed = true;
      for (const u of b.deemed || []) S.deemed.add(u);
      break;
    case "objection":
      S.objections.set(b.n, { ...S.objections.get(b.n), n: b.n, uscc: b.uscc, text: b.text, at: ev.ts });
      break;
    case "objection_answered": {
      const o = S.objections.get(b.n) || { n: b.n };
      o.answer = { text: b.text, at: ev.ts };
      S.objections.set(b.n, o);
      break;
    }
    case "message":
      S.message = { ...b, ts: ev.ts };
      break;
    case "opening_closed":
      S.closed = { ...b };
      for (const u of b.confirmed || []) S.confirmed.add(u);
      for (const u of b.deemed || []) S.deemed.add(u);
      break;
    default:
      break;
  }
  scheduleRender();
}

// ---------- the screen ----------

const $ = (id) => document.getElementById(id);

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

// a label in both languages: <span class=zh>..</span> <span class=en>..</span>
function bi(pair) {
  const f = document.createDocumentFragment();
  f.append(el("span", { class: "zh" }, pair[0]), " ", el("span", { class: "en" }, pair[1]));
  return f;
}

function setBi(node, pair) {
  node.replaceChildren(bi(pair));
}

function tz() {
  return S.tender && typeof S.tender.tz_offset_min === "number" ? S.tender.tz_offset_min : 480;
}

function clock(ms) {
  return new Date(ms + tz() * 60000).toISOString().slice(11, 19);
}

function dateTime(ms) {
  const s = new Date(ms + tz() * 60000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

function hms(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const p = (x) => String(x).padStart(2, "0");
  return `${p(h)}:${p(m)}:${p(s)}`;
}

function orgOf(uscc) {
  const b = S.bidders.get(uscc);
  return b ? b.org : uscc;
}

function setConn(state) {
  connState = state;
  document.body.dataset.conn = state;
  renderConn();
}

function renderConn() {
  const c = $("conn");
  const banner = $("banner");
  if (connState === "live") {
    c.replaceChildren(el("span", { class: "dot" }, "●"), " ", bi(L.live), rtt >= 0 ? ` · ${rtt} ms` : "");
  } else if (connState === "connecting") {
    c.replaceChildren(el("span", { class: "dot" }, "●"), " ", bi(L.connecting));
  } else {
    c.replaceChildren(el("span", { class: "dot" }, "●"), " ", bi(L.lost));
  }
  const stale = connState === "stale" || connState === "down";
  banner.hidden = !stale && !S.linkRefused;
  if (stale) {
    const last = lastUpdateServer ? clock(lastUpdateServer) : "--:--:--";
    banner.replaceChildren(
      bi(L.lostBanner),
      ` · `,
      bi(L.lastUpdate),
      ` ${last} · `,
      connState === "down" ? bi(L.reconnecting) : bi(L.staleBanner),
    );
    banner.className = "lost";
  } else if (S.linkRefused) {
    banner.replaceChildren(bi(L.linkRefused), ` (${S.linkRefused})`);
    banner.className = "warn";
  }
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function showPicker(openings) {
  $("picker").hidden = false;
  for (const id of ["clock", "counts", "bidders-panel"]) $(id).hidden = true;
  const ul = $("openings");
  ul.replaceChildren();
  for (const o of openings) {
    const a = el("a", { href: `?oid=${encodeURIComponent(o.oid)}${location.hash}` }, o.title || o.oid);
    ul.append(el("li", {}, a, " ", el("span", { class: "sub" }, `${o.lot || ""} · `), bi(phaseLabel(o.phase)),
      el("span", { class: "sub" }, ` · ${dateTime(o.deadline)}`)));
  }
  if (!openings.length) ul.append(el("li", {}, bi(L.noOpenings)));
}

function render() {
  document.body.dataset.phase = S.phase || "";
  // from the announcement on, the table and its results take the screen: a smaller clock
  document.body.dataset.stage = S.announced.size || ["announcing", "confirming", "closed"].includes(S.phase) ? "late" : "early";
  const t = S.tender;
  $("title").textContent = t ? t.title : OID ? OID : "bidopen";
  $("subtitle").replaceChildren();
  if (t) {
    const parts = [t.lot, t.code, t.buyer].filter(Boolean).join(" · ");
    $("subtitle").append(parts);
  }
  if (S.error) {
    $("subtitle").replaceChildren(bi(L.joinRefused), ` ${S.error}`);
  }
  const ph = $("phase");
  ph.replaceChildren(bi(phaseLabel(S.phase)));
  if (S.paused) ph.append(" · ", bi(L.paused));
  ph.dataset.phase = S.phase;
  $("site-name").textContent = S.siteName ? `${S.siteName}` : "";
  renderCounts();
  renderBidders();
  renderAnnouncement();
  renderResults();
  renderObjections();
  renderRecord();
  renderFooter();
  renderConn();
  tick();
  fit();
}

// Everything on one screen, read from the back of the room: when the content is taller
// than the screen (many bidders, long objections), scale the whole page down, to 60% at
// most (beyond that the page scrolls).
function fit() {
  const root = document.documentElement;
  let f = 1;
  root.style.setProperty("--fit", "1");
  while (root.scrollHeight > window.innerHeight + 1 && f > 0.6) {
    f = Math.round((f - 0.05) * 100) / 100;
    root.style.setProperty("--fit", String(f));
  }
}
window.addEventListener("resize", fit);

// the valid bids, as announced (or as decrypted, before the announcement)
function validCount() {
  const ann = [...S.announced.values()];
  if (S.confirm || (totalBids() && ann.length === totalBids())) return ann.filter((a) => a.status === "valid").length;
  if (S.valid !== null) return S.valid;
  return ann.filter((a) => a.status === "valid").length;
}

// how many bids are opened (and will be announced)
function totalBids() {
  return (S.announce && S.announce.total) || (S.revealed ? S.bidders.size : 0);
}

function setStat(id, label, value) {
  setBi($(`${id}-label`), label);
  $(`${id}-count`).textContent = value;
}

function renderCounts() {
  const note = $("signin-note");
  note.replaceChildren();
  let signedIn;
  if (S.revealed) {
    const n = [...S.bidders.values()].filter((b) => b.signed_in).length;
    signedIn = `${n} / ${S.bidders.size}`;
  } else if (S.counts && typeof S.counts.signed_in === "number") {
    signedIn = String(S.counts.signed_in);
    note.append(bi(L.namesAfter));
  } else {
    signedIn = "—";
    note.append(bi(L.secret));
  }
  setStat("signin", L.signedIn, signedIn);
  const bids = S.revealed ? S.bidders.size : S.counts && typeof S.counts.submitted === "number" ? S.counts.submitted : null;
  setStat("bid", L.bids, bids === null ? "—" : String(bids));
  // the third figure follows the opening: decryption, then the announcement, then confirmation
  const d = S.decrypt;
  if (S.confirm || S.closed) {
    setStat("progress", L.confirmedCount, `${S.confirmed.size} / ${validCount()}`);
  } else if (S.announced.size || S.phase === "announcing") {
    setStat("progress", L.announced, `${S.announced.size} / ${totalBids()}`);
  } else {
    setStat("progress", L.decrypted, d ? `${d.decrypted} / ${d.bids}` : "—");
  }
}

function renderBidders() {
  const panel = $("bidders-panel");
  // once the announcement has begun, its table is the list of bidders
  panel.hidden = !OID || S.announced.size > 0;
  if (panel.hidden) return;
  const body = $("bidders").tBodies[0];
  body.replaceChildren();
  const note = $("bidders-note");
  note.replaceChildren();
  if (!S.revealed) {
    note.append(bi(L.notDisclosed));
    return;
  }
  if (S.quorum === false) note.append(el("div", { class: "alert" }, bi(S.phase === "announcing" ? L.noValidQuorum : L.noQuorum)));
  const list = [...S.bidders.values()].sort((a, b) => (a.uscc < b.uscc ? -1 : 1));
  body.classList.toggle("dense", list.length > 8);
  for (const b of list) {
    let st = stateLabel(b.state);
    let cls = `st-${b.state || ""}`;
    if (b.status === "invalid") [st, cls] = [statusLabel("invalid"), "st-invalid"];
    const dec = S.decrypt ? el("td", { class: cls }, bi(st)) : el("td", { class: "no" }, "—");
    if (b.status === "invalid" && b.form_error) dec.append(el("div", { class: "why" }, b.form_error));
    body.append(
      el("tr", { "data-uscc": b.uscc, "data-state": b.state || "", "data-signed": b.signed_in ? "1" : "0" },
        el("td", {}, el("div", { class: "org" }, b.org), el("div", { class: "uscc" }, b.uscc)),
        el("td", { class: b.signed_in ? "yes" : "no" }, b.signed_in ? bi(L.signedIn) : bi(L.notSignedIn)),
        dec),
    );
  }
  if (!list.length) note.append(el("div", {}, bi(L.noBids)));
}

function fieldsOf() {
  return (S.tender && S.tender.fields) || [];
}

// 1234567.5 -> 1,234,567.5 (the text as the bidder wrote it, grouped for reading)
function grouped(v) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(v);
  if (!m || (m[2].length > 1 && m[2][0] === "0")) return v;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
}

function confirmState(a) {
  if (a.status !== "valid") return "";
  if (S.confirmed.has(a.uscc)) return "confirmed";
  if ([...S.objections.values()].some((o) => o.uscc === a.uscc)) return "objected";
  // neither confirmed nor objected once the window closed or at the close: 视为认可 (§11)
  if (S.deemed.has(a.uscc) || (S.confirm && S.confirm.window_closed) || S.closed) return "deemed";
  return "pending";
}

function renderAnnouncement() {
  const panel = $("announce-panel");
  panel.hidden = S.announced.size === 0;
  if (panel.hidden) return;
  const total = totalBids();
  const progress = $("announce-progress");
  progress.replaceChildren(bi(L.announced), ` ${S.announced.size} / ${total}`);
  const head = $("announce").tHead.rows[0];
  head.replaceChildren(el("th", {}, bi(L.no)), el("th", {}, bi(L.bidder)));
  for (const f of fieldsOf()) head.append(el("th", { class: f.type === "text" ? "" : "num" }, f.label));
  head.append(el("th", {}, bi(L.status)));
  if (S.confirm) head.append(el("th", {}, bi(L.confirmation)));
  const body = $("announce").tBodies[0];
  body.replaceChildren();
  body.classList.toggle("dense", S.announced.size > 8);
  for (const a of [...S.announced.values()].sort((x, y) => x.n - y.n)) {
    const tr = el("tr", { "data-n": String(a.n), "data-uscc": a.uscc, "data-status": a.status || "" },
      el("td", { class: "n" }, String(a.n)),
      el("td", {}, el("div", { class: "org" }, a.org || orgOf(a.uscc)), el("div", { class: "uscc" }, a.uscc)));
    for (const f of fieldsOf()) {
      const v = a.fields && a.fields[f.key] !== undefined ? String(a.fields[f.key]) : "—";
      tr.append(el("td", { class: f.type === "text" ? "" : "num price" }, f.type === "decimal" || f.type === "int" ? grouped(v) : v));
    }
    const st = el("td", { class: `st-${a.status}` }, bi(statusLabel(a.status)));
    if (a.form_error) st.append(el("div", { class: "why" }, a.form_error));
    tr.append(st);
    if (S.confirm) {
      const c = confirmState(a);
      tr.append(el("td", { class: `cf-${c}`, "data-confirm": c }, c ? bi(confirmLabel(c)) : "—"));
    }
    body.append(tr);
  }
}

function renderResults() {
  const panel = $("results-panel");
  panel.hidden = S.draws.size === 0 && !S.benchmark;
  const draws = $("draws");
  draws.replaceChildren();
  const defs = (S.tender && S.tender.draws) || [];
  // in the tender's order
  const made = [...S.draws.values()].sort((x, y) => defs.findIndex((d) => d.id === x.id) - defs.findIndex((d) => d.id === y.id));
  for (const d of made) {
    const def = defs.find((x) => x.id === d.id);
    const label = def ? def.label : d.id;
    const value = d.value !== undefined ? String(d.value) : (d.order || []).map(orgOf).join(" → ");
    draws.append(el("div", { class: "result", "data-draw": d.id },
      el("span", { class: "label" }, bi(L.draw), el("span", { class: "what" }, ` ${label}`)),
      el("span", { class: d.value !== undefined ? "value" : "value order" }, value)));
  }
  const bm = $("benchmark");
  bm.replaceChildren();
  if (S.benchmark) {
    const b = S.benchmark;
    const cur = S.tender && S.tender.currency === "CNY" ? "元" : (S.tender && S.tender.currency) || "";
    bm.append(el("div", { class: "result", id: "benchmark-value", "data-value": String(b.value) },
      el("span", { class: "label" }, bi(L.benchmark)),
      el("span", { class: "value big" }, grouped(String(b.value)), el("span", { class: "unit" }, ` ${cur}`))));
    const detail = el("div", { class: "sub" }, bi(L.validBids), ` ${b.count} · `, bi(L.mean), ` ${grouped(String(b.mean))} × `,
      bi(L.coefficient), ` ${b.coefficient}`);
    if (b.dropped && b.dropped.length) detail.append(" · ", bi(L.dropped), ` ${b.dropped.map(orgOf).join("、")}`);
    bm.append(detail);
  }
}

function renderObjections() {
  const panel = $("objections-panel");
  panel.hidden = S.objections.size === 0;
  const ol = $("objections");
  ol.replaceChildren();
  for (const o of [...S.objections.values()].sort((a, b) => a.n - b.n)) {
    const li = el("li", { "data-n": String(o.n), "data-answered": o.answer ? "1" : "0" },
      el("div", { class: "q" }, el("b", {}, orgOf(o.uscc || "")), o.at ? el("span", { class: "when" }, ` ${clock(o.at).slice(0, 5)}`) : "",
        el("div", { class: "text" }, o.text || "")));
    li.append(o.answer
      ? el("div", { class: "a" }, el("b", {}, bi(L.answer)), o.answer.at ? el("span", { class: "when" }, ` ${clock(o.answer.at).slice(0, 5)}`) : "",
        el("div", { class: "text" }, o.answer.text))
      : el("div", { class: "a pending" }, bi(L.awaitingAnswer)));
    ol.append(li);
  }
  // side by side with the draws when both are shown
  const both = !panel.hidden && !$("results-panel").hidden;
  panel.classList.toggle("wide", !both);
  $("results-panel").classList.toggle("wide", !both);
}

function hex(v) {
  if (v instanceof Uint8Array) return [...v].map((x) => x.toString(16).padStart(2, "0")).join("");
  return typeof v === "string" ? v : "";
}

// 64 hex digits in groups of 8, to read out and compare
function hashNode(id, h) {
  return el("div", { class: "hash", id, "data-hash": h }, h.match(/.{1,8}/g).join(" "));
}

function renderRecord() {
  const panel = $("record-panel");
  const to = S.confirm ? hex(S.confirm.record_hash) : "";
  const fin = S.closed ? hex(S.closed.record_hash) : "";
  panel.hidden = !to && !fin;
  panel.replaceChildren();
  panel.classList.toggle("closed", !!fin);
  if (fin) {
    panel.append(el("div", { class: "label" }, bi(L.finalRecord), " SHA-256"), hashNode("final-hash", fin));
  } else if (to) {
    panel.append(el("div", { class: "label" }, bi(L.recordToConfirm), " SHA-256"), hashNode("confirm-hash", to));
  }
}

function renderFooter() {
  const m = $("message");
  m.replaceChildren();
  if (S.phase === "failed" && S.failedReason) m.append(bi(L.failedReason), `：${S.failedReason}`);
  else if (S.message) m.append(el("b", {}, `${S.message.from || S.message.from_role}：`), S.message.text);
  else if (S.closed) m.append(bi(L.closed));
  else if (S.historyGap) m.append(bi(L.historyGap));
}

// the countdown, once a second in server time
function tick() {
  const now = serverNow();
  let target = 0;
  let label = L.serverTime;
  if (S.phase === "scheduled") [target, label] = [S.checkinAt, L.untilCheckin];
  else if (S.phase === "checkin") [target, label] = [S.deadline, L.untilDeadline];
  else if (S.phase === "decrypting" && S.decrypt) [target, label] = [S.decrypt.ends_at, L.decryptLeft];
  else if (S.phase === "confirming" && S.confirm && !S.confirm.window_closed) [target, label] = [S.confirm.ends_at, L.confirmLeft];
  else if (S.phase === "confirming") label = L.confirmOver;
  else if (S.phase === "awaiting_open") label = L.deadlinePassed;
  setBi($("clock-label"), S.paused ? L.paused : label);
  $("countdown").textContent = target ? hms(target - now) : clock(now);
  $("countdown").dataset.target = target ? String(target) : "";
  document.body.dataset.countdown = target ? "on" : "off";
  const at = $("clock-at");
  at.replaceChildren();
  if (target) at.append(bi(L.at), ` ${dateTime(target)}`);
  else if (S.deadline) at.append(bi(L.deadline), ` ${dateTime(S.deadline)}`);
  $("server-time").textContent = `${clock(now)} (UTC${tz() >= 0 ? "+" : "−"}${Math.abs(tz() / 60)})`;
  if (connState === "live" && lastMsgAt && Date.now() - lastMsgAt > STALE_MS) setConn("stale");
}

setInterval(tick, 1000);
render();
connect();
