// The mock console: everything goes through the control API (/__mock/*) and its SSE stream.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const MAX_ROWS = 200;

  async function api(method, path, body) {
    const init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
    if (!response.ok) { throw new Error(response.status + " " + (data && data.error ? data.error : text)); }
    return data;
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function fill(tbody, rows, render) {
    tbody.replaceChildren();
    rows.slice(0, MAX_ROWS).forEach((item) => {
      const tr = document.createElement("tr");
      render(tr, item);
      tbody.appendChild(tr);
    });
  }

  function copy(text, b) {
    const done = () => { b.textContent = "copied"; setTimeout(() => { b.textContent = "copy"; }, 1200); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the key is still visible to copy by hand */ }
    area.remove();
    done();
  }

  // ------------------------------------------------------------------------------------------- keys
  async function loadKeys() {
    const keys = await api("GET", "/__mock/keys");
    $("scenario-name").textContent = "scenario " + keys.scenario;
    fill($("accounts"), keys.accounts, (tr, a) => {
      cell(tr, a.name); cell(tr, a.type); cell(tr, a.level);
      cell(tr, a.key, "key");
      const td = cell(tr, "");
      const b = button("copy", () => copy(a.key, b));
      td.appendChild(b);
    });
    fill($("users"), keys.users, (tr, u) => {
      cell(tr, u.email); cell(tr, u.name);
      cell(tr, "").appendChild(button("open session", async () => {
        try {
          const s = await api("POST", "/__mock/session", { email: u.email });
          $("session-out").textContent = "Session for " + u.email + " (cookie set in this browser):\n" + s.cookie;
        } catch (e) { $("session-out").textContent = String(e); }
      }));
    });
  }

  // ------------------------------------------------------------------------------------------ state
  let stateTimer = null;
  function refreshStateSoon() {
    if (stateTimer) { return; }
    stateTimer = setTimeout(() => { stateTimer = null; loadState(); }, 150);
  }

  const newestFirst = (rows) => rows.slice().sort((a, b) => String(b.createdAt || "").localeCompare(String(a.createdAt || "")));

  async function loadState() {
    const state = await api("GET", "/__mock/state");
    const tasks = state.tasks || [], workers = state.workers || [], workspaces = state.workspaces || [];
    $("counts").textContent = workspaces.length + " workspaces, " + tasks.length + " tasks, " + workers.length + " workers";
    fill($("workspaces"), workspaces, (tr, w) => { cell(tr, w.name); cell(tr, w.repo || ""); cell(tr, w.id, "key"); });
    fill($("tasks"), newestFirst(tasks), (tr, t) => {
      tr.dataset.id = t.id;
      cell(tr, t.title); cell(tr, t.status); cell(tr, t.claimedBy || ""); cell(tr, t.id, "key");
    });
    fill($("workers"), newestFirst(workers), (tr, w) => {
      tr.dataset.id = w.id;
      cell(tr, w.name); cell(tr, w.status); cell(tr, w.taskId); cell(tr, w.id, "key");
    });
  }

  // ------------------------------------------------------------------------------------------ clock
  async function loadClock(clock) {
    const c = clock || await api("GET", "/__mock/clock");
    $("clock-now").textContent = c.now;
    $("clock-offset").textContent = c.offsetSeconds;
    if (c.swept) { $("clock-swept").textContent = "swept: " + JSON.stringify(c.swept); }
  }

  $("clock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await loadClock(await api("POST", "/__mock/clock", { advanceSeconds: Number($("clock-seconds").value) }));
      refreshStateSoon();
    } catch (e) { $("clock-swept").textContent = String(e); }
  });

  // --------------------------------------------------------------------------------- reset, scenario
  $("reset-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await api("POST", "/__mock/reset", { scenario: $("scenario").value });
    await Promise.all([loadKeys(), loadState(), loadClock()]);
  });

  // ----------------------------------------------------------------------------------------- faults
  let faultRules = [];
  async function loadFaults(rules) {
    faultRules = rules || (await api("GET", "/__mock/faults")).rules;
    const list = $("faults");
    list.replaceChildren();
    faultRules.forEach((rule, i) => {
      const li = document.createElement("li");
      li.textContent = (rule.method || "*") + " " + rule.path + " → " + (rule.status || "") +
        " rate " + (rule.errorRate === undefined ? "-" : rule.errorRate) + (rule.delayMs ? " +" + rule.delayMs + " ms " : " ");
      li.appendChild(button("remove", async () => {
        const rest = faultRules.filter((_, j) => j !== i);
        loadFaults((await api("PUT", "/__mock/faults", { rules: rest })).rules);
      }));
      list.appendChild(li);
    });
  }

  $("fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const rule = { method: $("fault-method").value, path: $("fault-path").value,
                   status: Number($("fault-status").value), errorRate: Number($("fault-rate").value) };
    const delay = Number($("fault-delay").value);
    if (delay > 0) { rule.delayMs = delay; }
    try {
      loadFaults((await api("PUT", "/__mock/faults", { rules: faultRules.concat([rule]) })).rules);
    } catch (e) { alert(String(e)); }
  });

  // --------------------------------------------------------------------------------------- requests
  let requests = [];
  function renderRequests() {
    const needle = $("request-filter").value.trim().toLowerCase();
    const hide = $("hide-control").checked;
    const shown = requests.filter((r) => {
      if (hide && (r.path.startsWith("/__mock") || r.path.startsWith("/docs"))) { return false; }
      const text = [r.method, r.path, r.status, r.operationId || ""].join(" ").toLowerCase();
      return !needle || text.includes(needle);
    });
    fill($("requests"), shown, (tr, r) => {
      cell(tr, r.timestamp.slice(11, 23)); cell(tr, r.method); cell(tr, r.path + (r.query ? "?" + r.query : ""));
      cell(tr, r.status, "status-" + String(r.status)[0]); cell(tr, r.durationMs); cell(tr, r.operationId || "");
      tr.addEventListener("click", () => { $("request-detail").textContent = JSON.stringify(r, null, 2); });
    });
  }

  async function loadRequests() {
    try {
      requests = (await api("GET", "/__mock/requests?limit=200")).requests.slice().reverse();
      renderRequests();
    } catch (e) { /* the next poll tries again */ }
  }
  $("request-filter").addEventListener("input", renderRequests);
  $("hide-control").addEventListener("change", renderRequests);

  // ----------------------------------------------------------------------------------------- events
  function showEvent(message) {
    let event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    const li = document.createElement("li");
    li.textContent = event.timestamp + "  " + event.event + "  " + event.channel + "  " + JSON.stringify(event.data).slice(0, 300);
    const list = $("events");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ROWS) { list.removeChild(list.lastChild); }
    refreshStateSoon();
  }

  function connect() {
    const stream = new EventSource("/__mock/events/stream");
    const names = JSON.parse(document.body.dataset.events || "[]");
    names.forEach((name) => stream.addEventListener(name, showEvent));
    stream.onmessage = showEvent;  // an event the page did not know by name
    stream.onopen = () => { $("stream-status").textContent = "live"; };
    stream.onerror = () => { $("stream-status").textContent = "reconnecting…"; };
  }

  loadKeys().catch((e) => { $("session-out").textContent = String(e); });
  loadState().catch(() => {});
  loadClock().catch(() => {});
  loadFaults().catch(() => {});
  loadRequests();
  setInterval(loadRequests, 1500);
  setInterval(() => loadClock().catch(() => {}), 5000);
  connect();
})();
