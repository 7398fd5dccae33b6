// aiops on-call console: live list over server-sent events, keyboard navigation, ages, incident and pipeline
// reloads.
// SPDX-License-Identifier: Apache-2.0 (part of aiops; plain JavaScript, no library, no build step).
"use strict";
(function () {
  const body = document.body;
  const kind = body.dataset.page;

  function age(iso) {
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 90) return Math.round(seconds) + "s";
    if (seconds < 5400) return Math.round(seconds / 60) + "m";
    if (seconds < 129600) return Math.round(seconds / 3600) + "h";
    return Math.round(seconds / 86400) + "d";
  }
  function showAges() {
    document.querySelectorAll("td.age time").forEach(function (t) {
      t.textContent = age(t.getAttribute("datetime"));
      t.title = t.getAttribute("datetime");
    });
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
  function badge(text, cls) {
    const span = document.createElement("span"); span.className = cls; span.textContent = text; return span;
  }
  function rowOf(s) {
    const tr = document.createElement("tr");
    tr.tabIndex = -1;
    tr.dataset.id = s.id; tr.dataset.version = String(s.version); tr.dataset.priority = s.priority;
    tr.dataset.status = s.status; tr.dataset.team = s.team || ""; tr.dataset.services = s.services.join("|");
    const p = document.createElement("td"); p.appendChild(badge(s.priority, "prio " + s.priority)); tr.appendChild(p);
    const title = document.createElement("td");
    const a = document.createElement("a"); a.href = "/incidents/" + encodeURIComponent(s.id); a.className = "open";
    a.textContent = s.title; title.appendChild(a);
    const small = document.createElement("small"); small.textContent = " " + s.id; title.appendChild(small);
    tr.appendChild(title);
    tr.appendChild(cell(s.services.join(", ")));
    tr.appendChild(cell(s.root_cause || "-"));
    const ageCell = document.createElement("td"); ageCell.className = "age";
    const time = document.createElement("time"); time.setAttribute("datetime", s.first_seen); ageCell.appendChild(time);
    tr.appendChild(ageCell);
    const st = document.createElement("td"); st.appendChild(badge(s.status, "status " + s.status)); tr.appendChild(st);
    tr.appendChild(cell(s.acknowledged_by || "-"));
    return tr;
  }
  function matches(s, f) {  // the filters the summary decides exactly; the search is the server's (below)
    if (f.status && f.status.split(",").indexOf(s.status) < 0) return false;
    if (f.priority && f.priority.split(",").indexOf(s.priority) < 0) return false;
    if (f.service && s.services.indexOf(f.service) < 0) return false;
    if (f.team && s.team !== f.team) return false;
    return true;
  }
  // The search matches title, services, hosts, owner, member names and fingerprints, some of which the
  // event does not carry: the service answers for that version by the store's own rule, once it is stored.
  function searched(s, q, answer, tries) {
    fetch("/console/match/" + encodeURIComponent(s.id) + "?version=" + s.version + "&q=" + encodeURIComponent(q),
          {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (found) {
        if (!found.stored && tries < 5) {
          setTimeout(function () { searched(s, q, answer, tries + 1); }, 400);
        } else {
          answer(found.matches);
        }
      })
      .catch(function () { answer(false); });
  }
  function recount() {
    const counts = {};
    document.querySelectorAll("#rows tr").forEach(function (tr) {
      counts[tr.dataset.priority] = (counts[tr.dataset.priority] || 0) + 1;
    });
    document.querySelectorAll("[data-count]").forEach(function (b) { b.textContent = String(counts[b.dataset.count] || 0); });
  }

  function follow(onIncident, onOpen) {
    const live = document.getElementById("live");
    let updates = 0;
    const source = new EventSource("/console/stream");
    source.onopen = function () {
      if (live) live.textContent = "Live: following changes.";
      if (onOpen) onOpen();
    };
    source.addEventListener("incident", function (event) {
      updates += 1;
      onIncident(JSON.parse(event.data));
      if (live) live.textContent = "Live: " + updates + " update" + (updates === 1 ? "" : "s") + " received.";
    });
    function restart() { source.close(); setTimeout(function () { location.reload(); }, 3000); }
    source.addEventListener("dropped", restart);
    source.addEventListener("end", function () { source.close(); if (live) live.textContent = "The service stopped."; });
    source.onerror = function () { if (live) live.textContent = "Stream interrupted; reconnecting…"; };
  }

  function listPage() {
    const filters = JSON.parse(body.dataset.filters || "{}");
    const rows = document.getElementById("rows");
    function place(row, old) {  // where the store's order and the page's sort put a new or changed row
      if (old && (filters.older || filters.sort === "age")) { old.replaceWith(row); return; }
      if (old) old.remove();
      if (filters.sort === "age") { rows.appendChild(row); return; }
      const before = filters.sort === "priority" ? Array.prototype.find.call(rows.children, function (r) {
        return r.dataset.priority >= row.dataset.priority;
      }) : rows.firstChild;
      rows.insertBefore(row, before || null);
    }
    function apply(s, keep) {
      const old = rows.querySelector('tr[data-id="' + CSS.escape(s.id) + '"]');
      if (old && Number(old.dataset.version) >= s.version) return;
      if (!keep) { if (old) { old.remove(); recount(); } return; }
      if (!old && filters.older) return;  // a new incident belongs on the newest page
      const row = rowOf(s);
      row.classList.add(old ? "changed" : "new");
      place(row, old);
      const empty = document.getElementById("empty"); if (empty) empty.remove();
      recount(); showAges();
    }
    follow(function (s) {
      if (!matches(s, filters)) { apply(s, false); return; }
      if (!filters.q) { apply(s, true); return; }
      searched(s, filters.q, function (keep) { apply(s, keep); }, 0);
    });
    document.addEventListener("keydown", function (event) {
      const target = event.target;
      if (target.closest && target.closest("input, select, textarea")) return;
      const all = Array.prototype.slice.call(rows.querySelectorAll("tr"));
      const at = all.indexOf(document.activeElement);
      if (event.key === "j" || event.key === "k") {
        const next = all[Math.min(all.length - 1, Math.max(0, at + (event.key === "j" ? 1 : -1)))];
        if (next) { next.focus(); event.preventDefault(); }
      } else if (event.key === "Enter" && at >= 0) {
        all[at].querySelector("a.open").click();
      } else if (event.key === "/") {
        document.getElementById("search").focus(); event.preventDefault();
      }
    });
  }

  function incidentPage() {
    const id = body.dataset.incident;
    const version = Number(body.dataset.version);
    const page = "/incidents/" + encodeURIComponent(id);
    follow(function (s) {
      if (s.id === id && s.version > version) location.replace(page);
    }, function () {  // a version stored before the stream connected
      fetch(page + "/version", {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (v) { if (v.version > version) location.replace(page); })
        .catch(function () { return null; });
    });
  }

  showAges();
  setInterval(showAges, 15000);
  if (kind === "list") listPage();
  if (kind === "incident") incidentPage();
  if (kind === "pipeline") setTimeout(function () { location.reload(); }, 1000 * Number(body.dataset.refresh || 10));
})();
