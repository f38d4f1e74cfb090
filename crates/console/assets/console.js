// paycore console: one page, hash routes, every action through the /v1 API with the signed-in
// key. The key lives in sessionStorage (gone when the browser session ends). What a role may
// not do is not offered; the server refuses it anyway.
"use strict";

// ---- labels (English, 中文) ------------------------------------------------------------------

const LABELS = {
  en: {
    overview: "Overview", accounts: "Accounts", transfers: "Transfers", trades: "Trades",
    channels: "Channels", notifications: "Notifications", recon: "Reconciliation",
    adjustments: "Adjustments", accounting: "Accounting", signin: "Sign in", signout: "Sign out",
    api_key: "API key", search: "Search", account_no: "Account number or prefix",
    balance: "Balance", frozen: "Frozen", available: "Available", pending_credit: "Pending credit",
    statement: "Statement", from: "From", to: "To", next_page: "Next page", first_page: "First page",
    download_csv: "Download CSV", daily_balances: "Daily balances", holds: "Holds", hot: "Hot / split",
    status: "Status", health: "Health", engine: "Engine", store_lag: "Query store lag",
    accounting_lag: "Accounting lag", notify_lag: "Notifications pending", accounting_date: "Accounting date",
    last_day_end: "Last day-end", rate_chart: "Transfers/s (blue) and payments/s (green), last minutes",
    reference: "Reference", trade_id: "Trade id", channel_order_no: "Channel order no", merchant: "Merchant", merchant_order_no: "Merchant order no",
    payments: "Payments", refund: "Refund", resend: "Resend", reroute: "Reroute", amount: "Amount",
    reason: "Reason", weight: "Weight", enabled: "Enabled", save: "Save", retry: "Retry",
    pending: "Pending", dead: "Dead", delivered: "Delivered", runs: "Runs", exceptions: "Exceptions",
    resolve: "Resolve", action: "Action", create: "Create", approve: "Approve", reject: "Reject",
    comment: "Comment", debit_account: "Debit account", credit_account: "Credit account",
    currency: "Currency", evidence: "Evidence", id: "Id", queue: "Approval queue",
    own_adjustment: "your own adjustment: another person approves it", trial_balance: "Trial balance",
    gl_check: "GL vs sub-ledger", reserve_report: "Reserve fund", day_end_report: "Day-end report",
    date: "Date", show: "Show", nothing: "Nothing here.", saved: "Done.", role_cannot: "your role may not do this",
    routing: "Routing decision", attempts: "Attempts", refunds: "Refunds", detail: "Detail",
    not_refundable: "refund is offered for succeeded payments only",
    not_reroutable: "reroute only after a definitive failure", words: "In capital numerals",
    active_holds: "Active holds", remaining: "Remaining", captured: "Captured", expires_at: "Expires",
    created_at: "Placed", hot_off: "Posts every credit at once (not hot).",
    hot_buffered: "Hot, buffered: credits are accepted at once and posted as one entry every {interval} ms or {entries} credits; debits may use {line} of pending credit.",
    split_into: "Split over {n} sub-accounts: {subs}. Credits are spread over them; the statement is theirs.",
    route_weighted: "Weighted split among {key}: chose {chosen}.", route_explicit: "The payment named its channel: {chosen}.",
    route_none: "No channel was left.", route_kept: "{channel} (weight {weight}): passed every filter.",
    route_dropped: "{channel} (weight {weight}): dropped, {why}.",
    why_disabled: "the channel is disabled", why_method_not_supported: "it does not offer this method",
    why_currency_not_supported: "it does not take this currency", why_below_min_amount: "the amount is below its minimum",
    why_above_max_amount: "the amount is above its maximum", why_rate_limited: "its rate limit was used up",
    why_resting: "it is resting after consecutive failures or timeouts", why_already_tried: "this payment already tried it",
    why_not_requested: "another channel was requested", why_zero_weight: "its weight is 0",
  },
  zh: {
    overview: "概览", accounts: "账户", transfers: "转账", trades: "交易", channels: "渠道",
    notifications: "通知", recon: "对账", adjustments: "调账", accounting: "会计", signin: "登录",
    signout: "退出", api_key: "API 密钥", search: "查询", account_no: "账号或前缀", balance: "余额",
    frozen: "冻结", available: "可用", pending_credit: "待入账", statement: "账户流水", from: "起",
    to: "止", next_page: "下一页", first_page: "第一页", download_csv: "下载 CSV",
    daily_balances: "日终余额", holds: "冻结单", hot: "热点/拆分", status: "状态", health: "健康",
    engine: "引擎", store_lag: "查询库延迟", accounting_lag: "会计延迟", notify_lag: "待发通知",
    accounting_date: "会计日", last_day_end: "上次日终", rate_chart: "每秒转账（蓝）与支付（绿）",
    reference: "参考号", trade_id: "交易号", channel_order_no: "渠道订单号", merchant: "商户", merchant_order_no: "商户订单号",
    payments: "支付", refund: "退款", resend: "重发", reroute: "改道", amount: "金额", reason: "原因",
    weight: "权重", enabled: "启用", save: "保存", retry: "重试", pending: "待发", dead: "失败",
    delivered: "已送达", runs: "对账批次", exceptions: "差错", resolve: "处理", action: "动作",
    create: "新建", approve: "复核通过", reject: "驳回", comment: "备注", debit_account: "借方账户",
    credit_account: "贷方账户", currency: "币种", evidence: "凭据", id: "编号", queue: "待复核",
    own_adjustment: "本人发起的调账须由他人复核", trial_balance: "试算平衡表", gl_check: "总分核对",
    reserve_report: "备付金报表", day_end_report: "日终报告", date: "日期", show: "显示",
    nothing: "无记录。", saved: "已完成。", role_cannot: "当前角色无此权限", routing: "路由决策",
    attempts: "渠道订单", refunds: "退款", detail: "详情", not_refundable: "仅成功的支付可退款",
    not_reroutable: "仅在明确失败后可改道", words: "大写",
    active_holds: "生效中的冻结", remaining: "剩余", captured: "已扣", expires_at: "到期", created_at: "冻结时间",
    hot_off: "每笔入账即时记账（非热点账户）。",
    hot_buffered: "热点账户，缓冲记账：入账即时受理，每 {interval} 毫秒或满 {entries} 笔汇总记一笔；出账可使用待入账中的 {line}。",
    split_into: "拆分为 {n} 个子账户：{subs}。入账分散到子账户，流水即子账户的流水。",
    route_weighted: "在 {key} 中按权重分配：选中 {chosen}。", route_explicit: "支付指定了渠道：{chosen}。",
    route_none: "没有可用渠道。", route_kept: "{channel}（权重 {weight}）：通过所有过滤。",
    route_dropped: "{channel}（权重 {weight}）：被排除，{why}。",
    why_disabled: "渠道已停用", why_method_not_supported: "不支持该支付方式", why_currency_not_supported: "不支持该币种",
    why_below_min_amount: "金额低于下限", why_above_max_amount: "金额高于上限", why_rate_limited: "已达限流",
    why_resting: "连续失败或超时，暂停使用中", why_already_tried: "本支付已尝试过", why_not_requested: "指定了其他渠道",
    why_zero_weight: "权重为 0",
  },
};

let lang = localStorage.getItem("paycore.lang") === "zh" ? "zh" : "en";
const t = (key) => LABELS[lang][key] || LABELS.en[key] || key;
// A label with `{name}` places filled from `vars`.
const tf = (key, vars) => t(key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));

// ---- money ----------------------------------------------------------------------------------

// Minor-unit exponents; amounts stay integers until formatted as text.
const EXPONENTS = { JPY: 0, KRW: 0, BHD: 3, KWD: 3 };
const exponent = (currency) => (currency in EXPONENTS ? EXPONENTS[currency] : 2);

function formatMoney(minor, currency) {
  if (minor === null || minor === undefined) return "";
  const e = exponent(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(e + 1, "0");
  const whole = digits.slice(0, digits.length - e).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const text = e ? `${whole}.${digits.slice(digits.length - e)}` : whole;
  return `${negative ? "-" : ""}${text} ${currency || ""}`.trim();
}

// Text typed as yuan ("1234.5") to minor units, exactly (no floats); null when malformed.
function parseMinor(text, currency) {
  const e = exponent(currency);
  const match = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(text || "");
  if (!match || (match[2] || "").length > e) return null;
  const minor = Number(match[1] + (match[2] || "").padEnd(e, "0"));
  return Number.isSafeInteger(minor) ? minor : null;
}

// 大写金额, by the same rules as paycore_money::words (the server's amount_in_words).
const DIGITS = "零壹贰叁肆伍陆柒捌玖";
function capitalSection(n) {
  const units = ["仟", "佰", "拾", ""];
  const digits = [Math.floor(n / 1000), Math.floor(n / 100) % 10, Math.floor(n / 10) % 10, n % 10];
  let out = "", started = false, zero = false;
  digits.forEach((d, i) => {
    if (d === 0) { zero = started; return; }
    if (zero) { out += "零"; zero = false; }
    out += DIGITS[d] + units[i];
    started = true;
  });
  return out;
}
function capitalInteger(n) {
  const YI = 100000000, WAN = 10000;
  const lower = (rest, lead) => (rest === 0 ? "" : (rest < lead ? "零" : "") + capitalInteger(rest));
  if (n >= YI) return capitalInteger(Math.floor(n / YI)) + "亿" + lower(n % YI, YI / 10);
  if (n >= WAN) return capitalSection(Math.floor(n / WAN)) + "万" + lower(n % WAN, WAN / 10);
  return capitalSection(n);
}
function cnyCapital(fen) {
  if (fen === 0) return "零元整";
  const yuan = Math.floor(fen / 100), jiao = Math.floor(fen / 10) % 10, f = fen % 10;
  let out = yuan > 0 ? capitalInteger(yuan) + "元" : "";
  if (jiao === 0 && f === 0) return out + "整";
  if (jiao > 0) out += DIGITS[jiao] + "角";
  else if (yuan > 0) out += "零";
  if (f > 0) out += DIGITS[f] + "分";
  return out;
}

// Times as the server sends them (UTC, RFC 3339) shown in the accounting day's offset
// (`utc_offset` of /healthz, e.g. +08:00), so a time and its accounting date agree.
function formatTime(iso) {
  const at = Date.parse(iso || "");
  if (Number.isNaN(at)) return iso || "";
  const match = /^([+-])(\d\d):(\d\d)$/.exec(session.offset || "+00:00") || ["", "+", "00", "00"];
  const minutes = (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  const local = new Date(at + minutes * 60000).toISOString().replace("T", " ").slice(0, 19);
  return `${local}${session.offset || "Z"}`;
}

// ---- the API --------------------------------------------------------------------------------

const session = {
  get key() { return sessionStorage.getItem("paycore.key"); },
  set key(value) { value ? sessionStorage.setItem("paycore.key", value) : sessionStorage.removeItem("paycore.key"); },
  me: null,
  offset: null,
};

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${session.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = { message: text }; }
  if (response.status === 401 && path !== "/v1/whoami") { signOut(); }
  return { status: response.status, ok: response.ok, body: json };
}

// Shows the server's refusal (its stable code and message), or a success note.
function report(reply) {
  const banner = document.getElementById("banner");
  if (reply.ok) {
    banner.hidden = false; banner.className = "ok"; banner.textContent = t("saved");
  } else {
    banner.hidden = false; banner.className = "";
    const b = reply.body || {};
    banner.textContent = `${reply.status} ${b.code || ""}: ${b.message || ""}`;
  }
  return reply;
}
function clearBanner() { const b = document.getElementById("banner"); b.hidden = true; b.textContent = ""; }

const can = {
  read: () => !!session.me,
  post: () => session.me && (session.me.role === "operator" || session.me.role === "admin"),
  admin: () => session.me && session.me.role === "admin",
};

// ---- building pages -------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function field(name, label, attrs) {
  return h("label", {}, label, h("input", Object.assign({ name, id: `f-${name}` }, attrs || {})));
}

function values(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// A table of rows; `columns` are [label, row => cell, className?].
function table(rows, columns, attrs) {
  if (!rows || rows.length === 0) return h("p", { class: "why" }, t("nothing"));
  return h("table", attrs || {},
    h("thead", {}, h("tr", {}, columns.map(([label, , cls]) => h("th", { class: cls || "" }, label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls || "" }, cell(row)))))));
}

// Columns of the reports that hold an amount in minor units (the rest are counts and ids).
const MONEY_COLUMN = /^(opening|closing|debit|credit|inflow|outflow|amount|difference|balance)$|_(balance|debit|credit)$/;

// Any list of flat objects (the accounting reports), every key a column; amounts formatted
// with the row's currency, or the report's.
function genericTable(rows, currency) {
  if (!Array.isArray(rows) || rows.length === 0) return h("p", { class: "why" }, t("nothing"));
  const keys = Object.keys(rows[0]);
  const cell = (k) => (r) => {
    const v = r[k];
    if (typeof v === "object" && v !== null) return JSON.stringify(v);
    const money = typeof v === "number" && MONEY_COLUMN.test(k) && (r.currency || currency);
    return money ? formatMoney(v, r.currency || currency) : v;
  };
  return table(rows, keys.map((k) => [k, cell(k), typeof rows[0][k] === "number" ? "num" : ""]));
}

function card(label, value, id) {
  return h("div", { class: "card", id: id || null }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

// A line chart of one or two series of numbers.
function chart(series, attrs) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 600 160");
  svg.setAttribute("preserveAspectRatio", "none");
  for (const [k, v] of Object.entries(attrs || {})) svg.setAttribute(k, v);
  const all = series.flat();
  const max = Math.max(1, ...all), min = Math.min(0, ...all);
  series.forEach((points, i) => {
    if (points.length < 2) return;
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    const step = 600 / (points.length - 1);
    line.setAttribute("points", points.map((v, x) => `${x * step},${150 - ((v - min) / (max - min)) * 140}`).join(" "));
    if (i > 0) line.setAttribute("class", "second");
    svg.append(line);
  });
  return svg;
}

function link(text, hash) { return h("a", { href: hash }, text); }
const enc = encodeURIComponent;

// ---- routes ---------------------------------------------------------------------------------

const PAGES = {
  overview: overviewPage, accounts: accountsPage, account: accountPage, transfers: transfersPage,
  trades: tradesPage, trade: tradePage, channels: channelsPage, notifications: notificationsPage,
  recon: reconPage, adjustments: adjustmentsPage, accounting: accountingPage,
};
const NAV = ["overview", "accounts", "transfers", "trades", "channels", "notifications", "recon", "adjustments", "accounting"];
let stopTimers = [];

async function route() {
  stopTimers.forEach((stop) => stop());
  stopTimers = [];
  clearBanner();
  drawHeader();
  const main = document.getElementById("main");
  main.replaceChildren();
  if (!session.key || !session.me) return signInPage(main);
  const [name, ...args] = (location.hash.replace(/^#\/?/, "") || "overview").split("/").map(decodeURIComponent);
  const page = PAGES[name] || overviewPage;
  main.dataset.page = PAGES[name] ? name : "overview";
  await page(main, ...args);
}

function drawHeader() {
  const nav = document.getElementById("nav");
  const current = (location.hash.replace(/^#\/?/, "").split("/")[0]) || "overview";
  nav.replaceChildren(...(session.me ? NAV.map((n) => h("a", { href: `#/${n}`, id: `nav-${n}`,
    class: current === n || (current === "account" && n === "accounts") || (current === "trade" && n === "trades") ? "active" : "" }, t(n))) : []));
  document.getElementById("who").textContent = session.me ? `${session.me.operator} (${session.me.role})` : "";
  const out = document.getElementById("signout");
  out.hidden = !session.me; out.textContent = t("signout");
  document.getElementById("lang").textContent = lang === "en" ? "中文" : "English";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
}

async function signIn(key) {
  session.key = key;
  const reply = await api("GET", "/v1/whoami");
  if (!reply.ok) { session.key = null; session.me = null; return report(reply); }
  session.me = reply.body;
  const health = await api("GET", "/healthz");
  session.offset = (health.body || {}).utc_offset || null;
  return reply;
}

function signOut() { session.key = null; session.me = null; location.hash = "#/overview"; route(); }

function signInPage(main) {
  const form = h("form", { id: "signin", class: "bar", onsubmit: async (e) => {
    e.preventDefault();
    const reply = await signIn(values(e.target).key.trim());
    if (reply.ok) route();
  } }, field("key", t("api_key"), { type: "password", autocomplete: "off", required: true }),
  h("button", { type: "submit", id: "signin-submit" }, t("signin")));
  main.append(h("h1", {}, t("signin")), form);
}

// ---- overview -------------------------------------------------------------------------------

async function overviewPage(main) {
  main.append(h("h1", {}, t("overview")));
  const cards = h("div", { class: "cards" });
  const rates = [[], []];
  const graph = h("div", {});
  main.append(cards, h("h2", {}, t("rate_chart")), graph);
  let last = null;
  const sample = async () => {
    const [health, metrics, channels, pending, dayEnd] = await Promise.all([
      api("GET", "/healthz"), fetch("/metrics").then((r) => r.text()), api("GET", "/v1/channels"),
      api("GET", "/v1/notifications?status=pending&limit=1000"), api("GET", "/v1/reports/day-end"),
    ]);
    const hb = health.body || {};
    const commands = Number((/^paycore_engine_commands_total (\d+)/m.exec(metrics) || [])[1] || 0);
    const paid = ((channels.body || {}).channels || []).reduce((sum, c) => sum + ((c.counters || {}).succeeded || 0), 0);
    const now = Date.now();
    if (last) {
      const seconds = (now - last.at) / 1000;
      rates[0].push(Math.max(0, (commands - last.commands) / seconds));
      rates[1].push(Math.max(0, (paid - last.paid) / seconds));
      if (rates[0].length > 150) { rates[0].shift(); rates[1].shift(); }
    }
    last = { at: now, commands, paid };
    cards.replaceChildren(
      card(t("health"), h("span", { class: hb.status === "ok" ? "status-ok" : "status-bad" }, hb.status || health.status), "card-health"),
      card(t("engine"), `${hb.durable_sequence ?? ""} · ${rates[0].length ? Math.round(rates[0][rates[0].length - 1]) : 0}/s`),
      card(t("store_lag"), `${hb.store_lag_batches ?? ""} · ${(hb.store_lag_seconds ?? 0).toFixed(1)} s`),
      card(t("accounting_lag"), `${hb.accounting_lag_batches ?? ""} · ${(hb.accounting_lag_seconds ?? 0).toFixed(1)} s`),
      card(t("notify_lag"), String(((pending.body || {}).notifications || []).length)),
      card(t("accounting_date"), hb.accounting_date || ""),
      card(t("last_day_end"), dayEnd.ok ? `${dayEnd.body.date}${dayEnd.body.closed ? " ✓" : ""}` : "—"));
    graph.replaceChildren(chart(rates, { id: "rate-chart" }));
  };
  await sample();
  const timer = setInterval(sample, 2000);
  stopTimers.push(() => clearInterval(timer));
}

// ---- accounts -------------------------------------------------------------------------------

async function accountsPage(main, prefix) {
  const form = h("form", { class: "bar", id: "account-search", onsubmit: (e) => {
    e.preventDefault();
    const wanted = values(e.target).prefix.trim();
    location.hash = `#/accounts/${enc(wanted)}`;
  } }, field("prefix", t("account_no"), { value: prefix || "" }), h("button", { type: "submit" }, t("search")));
  main.append(h("h1", {}, t("accounts")), form);
  if (prefix === undefined) return;
  const exact = await api("GET", `/v1/accounts/${enc(prefix)}`);
  if (exact.ok) { location.hash = `#/account/${enc(prefix)}`; return; }
  main.append(table(await accountsWithPrefix(prefix), [
    [t("account_no"), (a) => link(a.account_no, `#/account/${enc(a.account_no)}`)],
    ["type", (a) => a.type], [t("status"), (a) => a.status],
    [t("balance"), (a) => formatMoney(a.balance, a.currency), "num"],
    [t("available"), (a) => formatMoney(a.available, a.currency), "num"],
  ], { id: "account-list" }));
}

// Accounts whose number starts with `prefix`, the first 500.
async function accountsWithPrefix(prefix) {
  const list = await api("GET", `/v1/accounts?prefix=${enc(prefix)}&limit=500`);
  if (!list.ok) { report(list); return []; }
  return list.body.accounts || [];
}

async function accountPage(main, no, fromDate, toDate, fromSeq) {
  const reply = await api("GET", `/v1/accounts/${enc(no)}`);
  if (!reply.ok) { report(reply); return; }
  const a = reply.body;
  main.append(h("h1", {}, `${a.account_no} · ${a.type} · ${a.status}`));
  const words = (minor) => (a.currency === "CNY" ? h("div", { class: "words" }, cnyCapital(Math.abs(minor))) : null);
  main.append(h("div", { class: "cards", id: "account-cards" },
    ...["balance", "frozen", "available", "pending_credit"].map((k) =>
      card(t(k), h("span", {}, formatMoney(a[k], a.currency), words(a[k])), `card-${k}`)),
    card(t("hot"), h("span", { class: "words", id: "hot-words" }, hotWords(a)))));
  await holdsSection(main, a);
  await statementSection(main, a, fromDate || "", toDate || "", Number(fromSeq || 0));
  const daily = await api("GET", `/v1/accounts/${enc(no)}/daily-balances`);
  const days = (daily.body || {}).days || [];
  main.append(h("h2", {}, t("daily_balances")), chart([days.map((d) => d.closing)], { id: "daily-chart" }),
    table(days.slice(-31), [["date", (d) => d.accounting_date], [t("balance"), (d) => formatMoney(d.closing, a.currency), "num"]]));
}

// An account's hot (buffered) or split settings in words.
function hotWords(a) {
  if ((a.sub_accounts || []).length) return tf("split_into", { n: a.sub_accounts.length, subs: a.sub_accounts.join(", ") });
  if (!a.hot || a.hot.mode !== "buffered") return t("hot_off");
  return tf("hot_buffered", { interval: a.hot.flush_interval_ms, entries: a.hot.max_entries,
    line: formatMoney(a.hot.credit_line || 0, a.currency) });
}

// The holds that make up the account's frozen amount.
async function holdsSection(main, a) {
  const reply = await api("GET", `/v1/accounts/${enc(a.account_no)}/holds?status=active&limit=100`);
  if (!reply.ok) { report(reply); return; }
  main.append(h("h2", {}, t("active_holds")), table(reply.body.holds, [
    [t("id"), (x) => x.id], [t("amount"), (x) => formatMoney(x.amount, x.currency), "num"],
    [t("remaining"), (x) => formatMoney(x.remaining, x.currency), "num"],
    [t("captured"), (x) => formatMoney(x.captured, x.currency), "num"],
    [t("created_at"), (x) => formatTime(x.created_at)], [t("expires_at"), (x) => (x.expires_at ? formatTime(x.expires_at) : "—")],
  ], { id: "holds" }));
}

const PAGE_SIZE = 50;

function entriesPath(no, fromDate, toDate, fromSeq, limit) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (fromDate) q.set("from_date", fromDate);
  if (toDate) q.set("to_date", toDate);
  if (fromSeq) q.set("from_seq", String(fromSeq));
  return `/v1/accounts/${enc(no)}/entries?${q}`;
}

async function statementSection(main, a, fromDate, toDate, fromSeq) {
  const go = (f, tt, seq) => { location.hash = `#/account/${enc(a.account_no)}/${enc(f)}/${enc(tt)}/${seq || 0}`; };
  const form = h("form", { class: "bar", id: "statement-filter", onsubmit: (e) => {
    e.preventDefault(); const v = values(e.target); go(v.from_date, v.to_date, 0);
  } }, field("from_date", t("from"), { type: "date", value: fromDate }), field("to_date", t("to"), { type: "date", value: toDate }),
  h("button", { type: "submit" }, t("show")));
  const page = await api("GET", entriesPath(a.account_no, fromDate, toDate, fromSeq, PAGE_SIZE));
  if (!page.ok) { report(page); return; }
  const { entries, next_from_seq: next } = page.body;
  main.append(h("h2", {}, t("statement")), form, table(entries, [
    ["seq", (e) => e.seq, "num"], ["date", (e) => e.accounting_date], ["time", (e) => formatTime(e.timestamp)],
    ["kind", (e) => e.kind], [t("amount"), (e) => formatMoney(e.amount, a.currency), "num"],
    [t("balance"), (e) => formatMoney(e.balance_after, a.currency), "num"],
    ["transfer", (e) => link(e.transfer_id, `#/transfers/${enc(e.transfer_id)}`)],
  ], { id: "statement" }),
  h("div", { class: "bar" },
    fromSeq ? h("button", { class: "secondary", id: "first-page", onclick: () => go(fromDate, toDate, 0) }, t("first_page")) : null,
    next ? h("button", { class: "secondary", id: "next-page", onclick: () => go(fromDate, toDate, next) }, t("next_page")) : null,
    h("button", { class: "secondary", id: "download-csv", onclick: () => downloadStatement(a, fromDate, toDate) }, t("download_csv"))));
}

// Every entry of the filter, page by page, as one CSV file.
async function downloadStatement(a, fromDate, toDate) {
  const lines = ["seq,accounting_date,timestamp,kind,amount,balance_after,currency,transfer_id"];
  let seq = 0;
  for (;;) {
    const page = await api("GET", entriesPath(a.account_no, fromDate, toDate, seq, 1000));
    if (!page.ok) { report(page); return; }
    for (const e of page.body.entries) {
      lines.push([e.seq, e.accounting_date, e.timestamp, e.kind, e.amount, e.balance_after, a.currency, e.transfer_id].join(","));
    }
    seq = page.body.next_from_seq;
    if (!seq) break;
  }
  const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
  const anchor = h("a", { href: URL.createObjectURL(blob), download: `statement-${a.account_no}.csv`, id: "csv-link" });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

// ---- transfers ------------------------------------------------------------------------------

async function transfersPage(main, id) {
  main.append(h("h1", {}, t("transfers")));
  if (id) {
    const one = await api("GET", `/v1/transfers/${enc(id)}`);
    if (!one.ok) { report(one); return; }
    main.append(h("pre", { id: "transfer-detail" }, JSON.stringify(one.body, null, 2)));
    return;
  }
  const results = h("div", {});
  const form = h("form", { class: "bar", onsubmit: async (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(values(e.target)).filter(([, v]) => v));
    q.set("limit", "100");
    const reply = await api("GET", `/v1/transfers?${q}`);
    if (!reply.ok) { report(reply); return; }
    results.replaceChildren(table(reply.body.transfers, [
      ["id", (x) => link(x.id, `#/transfers/${enc(x.id)}`)], ["time", (x) => formatTime(x.timestamp)],
      [t("debit_account"), (x) => x.debit_account], [t("credit_account"), (x) => x.credit_account],
      [t("amount"), (x) => formatMoney(x.amount, x.currency), "num"], ["kind", (x) => x.kind], [t("reference"), (x) => x.reference],
    ]));
  } }, field("account", t("account_no").split(" ")[0]), field("reference", t("reference")),
  field("from", t("from"), { type: "date" }), field("to", t("to"), { type: "date" }), h("button", { type: "submit" }, t("search")));
  main.append(form, results);
}

// ---- trades ---------------------------------------------------------------------------------

async function tradesPage(main) {
  main.append(h("h1", {}, t("trades")));
  const results = h("div", {});
  const form = h("form", { class: "bar", id: "trade-search", onsubmit: async (e) => {
    e.preventDefault();
    const v = values(e.target);
    if (v.trade_id) { location.hash = `#/trade/${enc(v.trade_id.trim())}`; return; }
    const q = new URLSearchParams({ limit: "100" });
    if (v.channel_order_no) q.set("channel_order_no", v.channel_order_no.trim());
    else q.set("merchant", v.merchant);
    if (v.merchant_order_no && !v.channel_order_no) q.set("merchant_order_no", v.merchant_order_no);
    const reply = await api("GET", `/v1/trades?${q}`);
    if (!reply.ok) { report(reply); return; }
    const trades = reply.body.trades || (reply.body.trade_id ? [reply.body] : []);
    results.replaceChildren(table(trades, [
      [t("trade_id"), (x) => link(x.trade_id, `#/trade/${enc(x.trade_id)}`)], [t("merchant_order_no"), (x) => x.merchant_order_no],
      [t("amount"), (x) => formatMoney(x.amount, x.currency), "num"], [t("status"), (x) => x.status],
    ]));
  } }, field("trade_id", t("trade_id")), field("channel_order_no", t("channel_order_no")),
  field("merchant", t("merchant")), field("merchant_order_no", t("merchant_order_no")),
  h("button", { type: "submit" }, t("search")));
  main.append(form, results);
}

async function tradePage(main, id) {
  const reply = await api("GET", `/v1/trades/${enc(id)}`);
  if (!reply.ok) { report(reply); return; }
  const trade = reply.body;
  main.append(h("h1", {}, `${trade.trade_id} · ${formatMoney(trade.amount, trade.currency)} · ${trade.status}`),
    h("p", {}, `${t("merchant")}: ${trade.merchant} · ${t("merchant_order_no")}: ${trade.merchant_order_no}`));
  for (const p of trade.payments || []) main.append(await paymentSection(p));
}

// The routing decision in words: how the channel was chosen and why each other one was not.
function routeWords(route) {
  if (!route) return h("p", { class: "why" }, t("nothing"));
  const summary = !route.chosen ? t("route_none")
    : route.strategy === "explicit" ? tf("route_explicit", route) : tf("route_weighted", { key: route.split_key || "", chosen: route.chosen });
  return h("div", { class: "route" }, h("p", {}, summary), h("ul", {}, (route.candidates || []).map((c) => h("li", {},
    c.eligible ? tf("route_kept", c)
      : tf("route_dropped", { ...c, why: [t(`why_${c.reason}`), c.detail].filter(Boolean).join(": ") })))));
}

async function paymentSection(p) {
  const section = h("section", { class: "payment", id: `payment-${p.id}` },
    h("h2", {}, `${p.id} · ${p.method} · ${p.status} · ${formatMoney(p.amount, p.currency)}`),
    h("h3", {}, t("routing")), routeWords(p.route),
    h("h3", {}, t("attempts")), genericTable((p.attempts || []).map(({ hold, route, ...rest }) => rest)));
  if (p.refund_id) {
    const refund = await api("GET", `/v1/refunds/${enc(p.refund_id)}`);
    if (refund.ok) section.append(h("h3", {}, t("refunds")), genericTable([refund.body]));
  }
  section.append(paymentActions(p));
  return section;
}

function paymentActions(p) {
  if (!can.post()) return h("p", { class: "why" }, t("role_cannot"));
  const bar = h("div", { class: "bar" });
  if (p.status === "succeeded") {
    const form = h("form", { class: "bar", onsubmit: async (e) => {
      e.preventDefault();
      const v = values(e.target);
      const amount = parseMinor(v.amount, p.currency);
      report(await api("POST", `/v1/payments/${enc(p.id)}/refunds`, { id: `console-${Date.now()}`, amount, reason: v.reason }));
    } }, field("amount", t("amount")), field("reason", t("reason")), h("button", { type: "submit" }, t("refund")));
    bar.append(form);
  } else {
    bar.append(h("span", { class: "why" }, t("not_refundable")));
  }
  const open = ["unknown", "processing"].includes(p.status);
  bar.append(h("button", { class: "secondary", disabled: !open, onclick: async () => report(await api("POST", `/v1/payments/${enc(p.id)}/resend`, {})) }, t("resend")));
  const failed = p.status === "failed";
  bar.append(h("button", { class: "secondary", disabled: !failed, onclick: async () => report(await api("POST", `/v1/payments/${enc(p.id)}/reroute`, {})) }, t("reroute")));
  if (!failed) bar.append(h("span", { class: "why" }, t("not_reroutable")));
  return bar;
}

// ---- channels -------------------------------------------------------------------------------

async function channelsPage(main) {
  main.append(h("h1", {}, t("channels")));
  const reply = await api("GET", "/v1/channels");
  if (!reply.ok) { report(reply); return; }
  main.append(table(reply.body.channels, [
    ["id", (c) => c.id], ["protocol", (c) => c.protocol], ["methods", (c) => c.methods.join(", ")],
    [t("weight"), (c) => (can.admin() ? h("input", { type: "number", value: c.weight, id: `weight-${c.id}`, min: 0 }) : c.weight)],
    [t("enabled"), (c) => (can.admin() ? h("input", { type: "checkbox", checked: c.enabled, id: `enabled-${c.id}` }) : String(c.enabled))],
    ["counters", (c) => JSON.stringify(c.counters)], ["health", (c) => JSON.stringify(c.health)],
    ["", (c) => (can.admin() ? h("button", { onclick: async () => {
      const weight = Number(document.getElementById(`weight-${c.id}`).value);
      const enabled = document.getElementById(`enabled-${c.id}`).checked;
      report(await api("PATCH", `/v1/channels/${enc(c.id)}`, { weight, enabled }));
    } }, t("save")) : "")],
  ], { id: "channel-list" }));
}

// ---- notifications --------------------------------------------------------------------------

async function notificationsPage(main, status) {
  status = status || "dead";
  main.append(h("h1", {}, t("notifications")), h("div", { class: "bar" },
    ...["dead", "pending", "delivered"].map((s) => h("a", { href: `#/notifications/${s}`, id: `notifications-${s}` }, t(s)))));
  const reply = await api("GET", `/v1/notifications?status=${enc(status)}&limit=200`);
  if (!reply.ok) { report(reply); return; }
  main.append(table(reply.body.notifications, [
    ["event", (n) => n.event_id], ["type", (n) => n.type], [t("merchant"), (n) => n.merchant], ["order", (n) => n.order],
    [t("status"), (n) => n.status], [t("attempts"), (n) => n.attempt_count, "num"],
    ["last", (n) => { const last = (n.attempts || []).slice(-1)[0]; return last ? `${last.at || ""} ${last.outcome || last.error || ""}` : ""; }],
    ["", (n) => (can.post() && n.status !== "delivered" ? h("button", { class: "retry", "data-event": n.event_id, onclick: async () => {
      report(await api("POST", `/v1/notifications/${enc(n.event_id)}/retry`, {}));
    } }, t("retry")) : "")],
  ], { id: "notification-list" }));
}

// ---- reconciliation -------------------------------------------------------------------------

async function reconPage(main, status) {
  status = status || "open";
  main.append(h("h1", {}, t("recon")));
  const runs = await api("GET", "/v1/recon/runs?limit=50");
  main.append(h("h2", {}, t("runs")), table((runs.body || {}).runs, [
    ["id", (r) => r.id], ["channel", (r) => r.channel], [t("date"), (r) => r.date], ["matched", (r) => r.matched, "num"],
    ["differences", (r) => Object.entries(r.differences || {}).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["fund", (r) => (r.fund ? formatMoney(r.fund.difference, "CNY") : "—"), "num"],
  ], { id: "run-list" }));
  main.append(h("h2", {}, t("exceptions")), h("div", { class: "bar" },
    ...["open", "resolving", "closed"].map((s) => h("a", { href: `#/recon/${s}`, id: `exceptions-${s}` }, s))));
  const list = await api("GET", `/v1/recon/exceptions?status=${enc(status)}&limit=200`);
  main.append(table((list.body || {}).exceptions, [
    ["id", (x) => x.id], ["kind", (x) => x.kind], ["channel", (x) => x.channel], ["order", (x) => x.channel_order_no],
    [t("amount"), (x) => formatMoney(x.amount, x.currency), "num"], [t("status"), (x) => x.status],
    ["history", (x) => (x.history || []).map((e) => `${formatTime(e.at)} ${e.by} ${e.event}: ${e.note}`).join(" · ")],
    ["", (x) => (can.post() && x.status === "open" ? resolveForm(x) : "")],
  ], { id: "exception-list" }));
}

function resolveForm(x) {
  return h("form", { class: "bar resolve", "data-exception": x.id, onsubmit: async (e) => {
    e.preventDefault();
    const v = values(e.target);
    const reply = report(await api("POST", `/v1/recon/exceptions/${enc(x.id)}/resolve`, { action: v.action, reason: v.reason }));
    if (reply.ok) route();
  } }, h("select", { name: "action" }, ...["accept", "supplement", "write_off", "refund"].map((a) => h("option", { value: a }, a))),
  h("input", { name: "reason", placeholder: t("reason"), required: true }), h("button", { type: "submit" }, t("resolve")));
}

// ---- adjustments ----------------------------------------------------------------------------

async function adjustmentsPage(main) {
  main.append(h("h1", {}, t("adjustments")));
  if (can.post()) main.append(adjustmentForm());
  const queue = await api("GET", "/v1/adjustments?limit=200");
  if (!queue.ok) { report(queue); return; }
  const waiting = (queue.body.adjustments || []).filter((a) => ["pending_approval", "partially_approved"].includes(a.status));
  const done = (queue.body.adjustments || []).filter((a) => !waiting.includes(a));
  main.append(h("h2", {}, t("queue")), adjustmentTable(waiting, true), h("h2", {}, t("adjustments")), adjustmentTable(done.slice(-50), false));
}

function adjustmentForm() {
  const words = h("div", { class: "words", id: "amount-words" }, "");
  const form = h("form", { class: "bar", id: "adjustment-form", onsubmit: async (e) => {
    e.preventDefault();
    const v = values(e.target);
    const amount = parseMinor(v.amount, v.currency);
    const body = { id: v.id, debit_account: v.debit_account, credit_account: v.credit_account, amount, currency: v.currency, reason: v.reason };
    if (v.evidence) body.evidence = v.evidence;
    const reply = report(await api("POST", "/v1/adjustments", body));
    if (reply.ok) route();
  } },
  field("id", t("id"), { required: true, value: `adj-${Date.now()}` }), field("debit_account", t("debit_account"), { required: true }),
  field("credit_account", t("credit_account"), { required: true }),
  h("label", {}, t("amount"), h("input", { name: "amount", id: "f-amount", required: true, inputmode: "decimal", oninput: (e) => {
    const currency = document.getElementById("f-currency").value;
    const minor = parseMinor(e.target.value, currency);
    words.textContent = minor === null ? "" : currency === "CNY" ? cnyCapital(minor) : formatMoney(minor, currency);
  } }), words),
  field("currency", t("currency"), { value: "CNY", required: true }), field("reason", t("reason"), { required: true }),
  field("evidence", t("evidence")), h("button", { type: "submit", id: "adjustment-submit" }, t("create")));
  return form;
}

function adjustmentTable(rows, actions) {
  return table(rows, [
    ["id", (a) => a.id], [t("debit_account"), (a) => a.debit_account], [t("credit_account"), (a) => a.credit_account],
    [t("amount"), (a) => h("span", {}, formatMoney(a.amount, a.currency), h("div", { class: "words" }, a.amount_in_words || "")), "num"],
    [t("reason"), (a) => a.reason], ["maker", (a) => a.maker], [t("status"), (a) => a.status],
    ["", (a) => (actions ? adjustmentActions(a) : "")],
  ], { id: actions ? "adjustment-queue" : "adjustment-done" });
}

function adjustmentActions(a) {
  if (!can.post()) return h("span", { class: "why" }, t("role_cannot"));
  if (a.maker === session.me.operator) return h("span", { class: "why own" }, t("own_adjustment"));
  const decide = async (verb, body) => { const reply = report(await api("POST", `/v1/adjustments/${enc(a.id)}/${verb}`, body)); if (reply.ok) route(); };
  return h("div", { class: "bar" },
    h("button", { class: "approve", "data-adjustment": a.id, onclick: () => decide("approve", {}) }, t("approve")),
    h("input", { class: "reject-reason", placeholder: t("reason"), id: `reject-reason-${a.id}` }),
    h("button", { class: "secondary reject", "data-adjustment": a.id, onclick: () => decide("reject", { reason: document.getElementById(`reject-reason-${a.id}`).value }) }, t("reject")));
}

// ---- accounting -----------------------------------------------------------------------------

async function accountingPage(main, report_, date) {
  const kinds = { trial_balance: "/v1/accounting/trial-balance", gl_check: "/v1/accounting/gl-check",
    reserve_report: "/v1/accounting/reserve-report", day_end_report: "/v1/reports/day-end" };
  report_ = report_ in kinds ? report_ : "trial_balance";
  const form = h("form", { class: "bar", id: "accounting-form", onsubmit: (e) => {
    e.preventDefault(); const v = values(e.target); location.hash = `#/accounting/${v.report}/${enc(v.date)}`;
  } }, h("label", {}, "", h("select", { name: "report", id: "f-report" }, ...Object.keys(kinds).map((k) => h("option", { value: k, selected: k === report_ }, t(k))))),
  field("date", t("date"), { type: "date", value: date || "" }), h("button", { type: "submit" }, t("show")));
  main.append(h("h1", {}, t("accounting")), form);
  const reply = await api("GET", kinds[report_] + (date ? `?date=${enc(date)}` : ""));
  if (!reply.ok) { report(reply); return; }
  const out = h("div", { id: "accounting-report" });
  const currency = (reply.body || {}).currency;
  for (const [key, value] of Object.entries(reply.body || {})) {
    if (Array.isArray(value)) out.append(h("h2", {}, key), genericTable(value, currency));
    else if (typeof value === "object" && value !== null) out.append(h("h2", {}, key), genericTable([value], currency));
    else out.append(h("p", {}, `${key}: ${value}`));
  }
  main.append(out);
}

// ---- start ----------------------------------------------------------------------------------

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "en" ? "zh" : "en"; localStorage.setItem("paycore.lang", lang); route();
  });
  document.getElementById("signout").addEventListener("click", signOut);
  if (session.key) await signIn(session.key);
  route();
});

// For tests and the curious: the console's own helpers.
window.paycoreConsole = { formatMoney, parseMinor, cnyCapital };
