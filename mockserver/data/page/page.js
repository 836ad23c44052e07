// The mock server's page: polls the admin API and renders the store, rate limits and journal.
// Every value from the server is put in the page as text (textContent, text nodes, setAttribute on fixed
// attribute names); nothing is ever parsed as HTML, since journal entries carry client-supplied strings.
"use strict";

(() => {
  const ADMIN = "/__mock";
  const POLL_MS = 1000;
  const TOKEN_KEY = "mockserver.adminToken";
  const JOURNAL_LIMIT = 50;
  // Uploaded files are served by this mock at /files/{sha256}; only those are shown as images, from this
  // origin, so the page never loads anything from elsewhere.
  const FILE_PATH = /^\/files\/[0-9A-Za-z_-]+$/;

  const $ = (id) => document.getElementById(id);
  const last = { state: null, limits: null, journal: null };
  // What the page shows of each API (GET /__mock/apis), read once the admin API first answers.
  let views = null;
  let paused = false;
  let timer = null;
  let inFlight = false;

  // DOM building, text only

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function none() {
    return el("span", { className: "muted" }, "—");
  }

  function text(value) {
    if (value === null || value === undefined || value === "") return none();
    if (typeof value === "object") return el("code", {}, JSON.stringify(value));
    return String(value);
  }

  function short(value, head = 6, tail = 4) {
    if (value === null || value === undefined) return none();
    const full = String(value);
    const shown = full.length > head + tail + 1 ? `${full.slice(0, head)}…${full.slice(-tail)}` : full;
    return el("code", { title: full }, shown);
  }

  function table(caption, headers, rows, empty) {
    if (rows.length === 0) return el("p", { className: "empty" }, empty);
    return el("table", {},
      el("caption", { className: "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, headers.map((h) => (Array.isArray(h)
        ? el("th", { scope: "col", className: h[1] }, h[0]) : el("th", { scope: "col" }, h))))),
      el("tbody", {}, rows));
  }

  function row(attrs, cells) {
    return el("tr", attrs, cells.map((cell) => (cell instanceof Node && cell.tagName === "TD" ? cell : el("td", {}, cell))));
  }

  function filePath(value) {
    if (typeof value !== "string" || value === "") return null;
    try {
      const url = new URL(value, window.location.href);
      if ((url.protocol === "http:" || url.protocol === "https:") && FILE_PATH.test(url.pathname)) return url.pathname;
    } catch (_) {
      // not a URL: shown as text
    }
    return null;
  }

  function image(value, label) {
    const path = filePath(value);
    if (path === null) return value ? el("code", { className: "image-ref", title: String(value) }, String(value)) : none();
    return el("a", { href: path, className: "thumb", title: label },
      el("img", { src: path, alt: label, width: 48, height: 48, decoding: "async" }));
  }

  function attributes(list) {
    if (!Array.isArray(list) || list.length === 0) return none();
    return el("ul", { className: "chips" }, list.map((a) => {
      if (a === null || typeof a !== "object") return el("li", {}, text(a));
      return el("li", {}, el("span", { className: "chip-key" }, String(a.trait_type ?? "?")), " ", text(a.value));
    }));
  }

  function time(iso) {
    if (!iso) return none();
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return text(iso);
    return el("time", { datetime: iso, title: iso }, date.toLocaleString());
  }

  function bytes(size) {
    if (typeof size !== "number") return "";
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
    return `${(size / 1024 / 1024).toFixed(1)} MiB`;
  }

  // A long path as text with line-break opportunities after each "/", so it wraps between segments.
  function breakable(path) {
    return String(path).split(/(?<=\/)/).flatMap((part) => [part, el("wbr", {})]);
  }

  function replace(id, node) {
    $(id).replaceChildren(node);
  }

  // Store

  // Each API's records table, as the admin API describes it (GET /__mock/apis: `page.table`).

  function pick(record, path) {
    return path.split(".").reduce((value, key) => (value === null || value === undefined ? undefined : value[key]), record);
  }

  function cell(record, column) {
    const value = pick(record, column.field);
    let content;
    switch (column.kind) {
      case "short": content = short(value); break;
      case "image": content = image(value, `Image of ${pick(record, column.other) ?? column.noun}`); break;
      case "attributes": content = attributes(value); break;
      case "time": content = time(value); break;
      case "yes-no": content = value ? "yes" : "no"; break;
      case "percent": content = value === null || value === undefined ? none() : `${value} %`; break;
      case "images": content = attachments(value, true); break;
      case "files": content = attachments(value, false); break;
      case "each": content = `${amount(value)} (${amount(pick(record, column.other))} each)`; break;
      default: content = text(value);
    }
    return column.css ? el("td", { className: column.css }, content) : content;
  }

  // One table of an API's records into the element `place` (the main table's is the API's name).
  function renderRecords(place, records, view) {
    $(`${place}-count`).textContent = `(${records.length})`;
    replace(place, table(view.title, view.columns.map((c) => c.title),
      records.map((r) => row({ [`data-${view.row_attribute}`]: pick(r, view.row_id) }, view.columns.map((c) => cell(r, c)))),
      view.empty));
  }

  function renderState(state) {
    const summary = [`${state.files ?? 0} stored file(s)`];
    for (const api of views) {
      const view = api.page;
      if (!view || !$(api.name)) continue;
      const section = state[api.name] || {};
      renderRecords(api.name, section[view.table.records] || [], view.table);
      for (const more of view.more_tables) {
        const place = `${api.name}-${more.records}`;
        if ($(place)) renderRecords(place, section[more.records] || [], more);
      }
      for (const count of view.counts) summary.push(`${section[count.field] ?? 0} ${count.label}`);
    }
    $("store-summary").textContent = summary.join(" · ");
  }

  // A number, or an amount object {amount, symbol, ...} shown as "12000 USDT" (without a symbol, the number alone).
  function amount(money) {
    if (money === null || money === undefined) return "—";
    if (typeof money !== "object") return String(money);
    if (money.amount === null || money.amount === undefined) return "—";
    return money.symbol ? `${money.amount} ${money.symbol}` : String(money.amount);
  }

  function attachments(list, images) {
    if (!Array.isArray(list) || list.length === 0) return none();
    return el("ul", { className: images ? "files images" : "files" }, list.map((file) => {
      const path = filePath(file.url);
      const label = `${file.name ?? file.id} ${bytes(file.size)}`.trim();
      if (path !== null && images) {
        return el("li", {}, el("a", { href: path, className: "thumb", title: label },
          el("img", { src: path, alt: String(file.name ?? "image"), width: 48, height: 48, decoding: "async" })));
      }
      const name = path !== null ? el("a", { href: path }, String(file.name ?? file.id)) : String(file.name ?? file.id);
      return el("li", { title: file.content_type ? String(file.content_type) : null }, name, " ",
        el("span", { className: "muted" }, bytes(file.size)));
    }));
  }

  // Rate limits

  function quotaTable(view, quota) {
    const spentBy = view.spent_by;
    return table(view.title,
      [view.row_title, ...(spentBy ? ["Spent by"] : []), ["Remaining", "num"], ["Limit", "num"], "Used", "Window resets"],
      (quota[view.rows] || []).map((p) => row({ [`data-${view.row_key}`]: p[view.row_key] }, [
        el("td", { className: view.row_key }, text(p[view.row_key])),
        ...(spentBy ? [el("td", { className: spentBy }, text((p[spentBy] || []).join(", ")))] : []),
        el("td", { className: "remaining num" }, text(p.remaining)),
        el("td", { className: "num" }, text(p.limit)),
        el("td", { className: "used" }, el("meter", {
          min: 0, max: p.limit, value: p.limit - p.remaining, low: p.limit * 0.5, high: p.limit * 0.9, optimum: 0,
          "aria-label": `${p[view.row_key]}: ${p.limit - p.remaining} of ${p.limit} used`,
        }), " ", el("span", { className: "muted" }, `${p.limit - p.remaining} used`)),
        time(p.reset),
      ])), view.empty);
  }

  function renderLimits(limits) {
    const quotas = views.filter((api) => api.page && api.page.quota && limits[api.name]);
    $("limits-summary").textContent = quotas.map((api) => {
      const q = limits[api.name];
      const view = api.page.quota;
      const switched = view.switch ? `, ${q[view.switch.field] === false ? view.switch.off : view.switch.on}` : "";
      return `${view.summary}: ${q.limit} per ${q.window} s per ${view.row_key}, ${q.strategy}, counted per ${q.cost}` +
        switched;
    }).join(" · ");
    $("rate-limits").replaceChildren(...(quotas.length === 0 ? [el("p", { className: "empty" }, "No API has a quota.")]
      : quotas.map((api) => quotaTable(api.page.quota, limits[api.name]))));
    const operations = Object.entries(limits.operations || {});
    $("operation-limits").replaceChildren(operations.length === 0 ? "" : el("div", {},
      el("h3", {}, "Operation limits"),
      table("Operation limits", ["Operation", "Limit", "Window", "Key", "Strategy"],
        operations.map(([name, o]) => row({}, [el("code", {}, name), text(o.limit), `${o.window} s`, text(o.key),
          text(o.strategy)])), "")));
  }

  // Journal

  function clock(seconds) {
    const date = new Date(seconds * 1000);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  function statusClass(status) {
    if (status >= 500) return "status-5xx";
    if (status >= 400) return "status-4xx";
    if (status >= 300) return "status-3xx";
    return "status-2xx";
  }

  // Behind `mockserver proxy` each entry says what the upstream's exchange broke; the mock's own entries do not.
  function violations(list) {
    if (list.length === 0) return el("span", { className: "muted" }, "none");
    return el("ul", { className: "violations" }, list.map((v) => el("li", { title: `${v.source}: ${v.cite}` },
      el("strong", {}, v.rule), ": ", v.message)));
  }

  function renderJournal(journal) {
    const entries = (journal.entries || []).slice().reverse();
    const checked = entries.some((e) => Array.isArray(e.violations));
    replace("journal-entries", table("Journal, newest first",
      ["Time", "API", "Operation", "Method", "Path", ["Status", "num"], ["Duration", "num"],
        ...(checked ? ["Violations"] : [])],
      entries.map((e) => row({ "data-id": e.id, className: (e.violations || []).length ? "violated" : null }, [
        el("time", { datetime: new Date(e.time * 1000).toISOString() }, clock(e.time)),
        e.api ? el("span", { className: `api-tag api-tag-${e.api}` }, e.api) : none(),
        e.operation ? el("code", {}, e.operation) : none(),
        el("span", { className: "method" }, e.method),
        el("td", { className: "path" }, el("code", {}, breakable(e.query ? `${e.path}?${e.query}` : e.path))),
        el("td", { className: "num" }, el("span", { className: `badge ${statusClass(e.status)}` }, e.status)),
        el("td", { className: "num" }, `${Number(e.duration_ms).toFixed(1)} ms`),
        ...(checked ? [violations(e.violations || [])] : []),
      ])), "No requests yet: call one of the APIs and it shows here."));
  }

  // Polling

  function token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch (_) {
      return null;
    }
  }

  async function get(path) {
    const headers = { Accept: "application/json" };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const response = await fetch(ADMIN + path, { headers, cache: "no-store", credentials: "same-origin" });
    return { status: response.status, body: await response.text() };
  }

  function setText(id, value) {
    if ($(id).textContent !== value) $(id).textContent = value; // an unchanged alert is not announced again
  }

  function notice(title, message) {
    setText("notice-title", title);
    setText("notice-text", message);
    $("notice").hidden = false;
    // Sections never filled say why; ones already shown keep their last data.
    const records = [...document.querySelectorAll(".api-records")].map((node) => node.id);
    const sections = { state: records, limits: ["rate-limits"], journal: ["journal-entries"] };
    for (const [key, ids] of Object.entries(sections)) {
      if (last[key] !== null) continue;
      for (const id of ids) replace(id, el("p", { className: "empty" }, "Not available: see the message above."));
    }
  }

  function status(message, kind) {
    setText("status-text", message);
    $("status").dataset.kind = kind;
  }

  async function poll() {
    if (inFlight) return;
    inFlight = true;
    try {
      const [state, limits, journal, apis] = await Promise.all(
        ["/state", "/rate-limits", `/journal?limit=${JOURNAL_LIMIT}`, ...(views === null ? ["/apis"] : [])].map(get));
      const answers = apis ? [state, limits, journal, apis] : [state, limits, journal];
      $("token-form").hidden = token() === null && !answers.some((a) => a.status === 401);
      if (answers.some((a) => a.status === 404)) {
        notice("The admin API is off",
          "This server does not serve /__mock/ (it is bound beyond loopback without admin.token, or admin.enabled " +
          "is false), so this page cannot show the store, rate limits or journal. The APIs above still work. " +
          "Restart it on 127.0.0.1, or with --set admin.token=SECRET and enter that token here.");
        status("Admin API off", "error");
        return;
      }
      if (answers.some((a) => a.status === 401)) {
        notice("The admin API needs a token", token() === null
          ? "This server has admin.token set: enter it below to see the store, rate limits and journal."
          : "The token you entered was refused: enter the server's admin.token.");
        status("Token needed", "error");
        return;
      }
      const failed = answers.find((a) => a.status !== 200);
      if (failed) {
        notice("The admin API answered with an error", `HTTP ${failed.status}: ${failed.body.slice(0, 300)}`);
        status(`Error ${failed.status}`, "error");
        return;
      }
      $("notice").hidden = true;
      if (apis) views = JSON.parse(apis.body).apis;
      if (state.body !== last.state) renderState(JSON.parse(state.body));
      if (limits.body !== last.limits) renderLimits(JSON.parse(limits.body));
      if (journal.body !== last.journal) renderJournal(JSON.parse(journal.body));
      Object.assign(last, { state: state.body, limits: limits.body, journal: journal.body });
      status(paused ? "Paused" : "Live", paused ? "paused" : "live");
      $("updated").textContent = `· updated ${clock(Date.now() / 1000).slice(0, 8)}`;
    } catch (error) {
      notice("Cannot reach the mock server", `Retrying every second. (${error && error.message ? error.message : error})`);
      status("Disconnected", "error");
    } finally {
      inFlight = false;
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    if (paused || document.hidden) return;
    timer = window.setTimeout(async () => {
      await poll();
      schedule();
    }, POLL_MS);
  }

  function refreshNow() {
    poll().then(schedule);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("refresh").addEventListener("click", refreshNow);
    $("pause").addEventListener("click", () => {
      paused = !paused;
      $("pause").setAttribute("aria-pressed", String(paused));
      $("pause").textContent = paused ? "Resume" : "Pause";
      status(paused ? "Paused" : "Live", paused ? "paused" : "live");
      if (!paused) refreshNow();
      else window.clearTimeout(timer);
    });
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      try {
        if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      } catch (_) {
        // storage refused (private mode): the token cannot be kept
      }
      $("token").value = "";
      Object.assign(last, { state: null, limits: null, journal: null });
      refreshNow();
    });
    $("forget-token").addEventListener("click", () => {
      try {
        window.sessionStorage.removeItem(TOKEN_KEY);
      } catch (_) {
        // nothing kept
      }
      refreshNow();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refreshNow();
    });
    refreshNow();
  });
})();
