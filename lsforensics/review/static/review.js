// The lsf review page. Every piece of case text (quotes, transcript, chat, page text, notes) is
// untrusted: it reaches the DOM only through textContent / text nodes, never innerHTML, and no
// link or URL is ever built from it. Media URLs point at /file/ + a path the server allowlists.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const KEYS = { c: "confirmed", r: "rejected", u: "unsure" };
  const LABEL = {
    confirmed: "确认 confirmed", rejected: "驳回 rejected", unsure: "不确定 unsure",
    changed: "发现已变更 finding changed", unreviewed: "未复核 not reviewed",
  };
  let data = null;
  let shown = [];   // ids after the filters
  let current = -1; // index into shown
  let clipFor = null;

  function el(tag, cls, ...kids) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  function fileUrl(rel) {
    return "/file/" + rel.split("/").map(encodeURIComponent).join("/");
  }
  function tc(t) {
    if (typeof t !== "number" || !isFinite(t)) return "—";
    // the same HH:MM:SS.mmm as lsforensics.findings.timecode
    const all = Math.round(t * 1000), ms = Math.abs(all), h = Math.floor(ms / 3600000);
    const m = Math.floor(ms % 3600000 / 60000), s = Math.floor(ms % 60000 / 1000), r = ms % 1000;
    const p = (x, n) => String(x).padStart(n, "0");
    return `${all < 0 ? "-" : ""}${p(h, 2)}:${p(m, 2)}:${p(s, 2)}.${p(r, 3)}`;
  }
  function say(text) { $("#msg").textContent = text || ""; }

  async function api(path, body) {
    const opt = body === undefined ? { credentials: "same-origin" } : {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const r = await fetch(path, opt);
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(j.error || `${r.status} ${r.statusText}`);
    return j;
  }

  function byId(id) { return data.index[id]; }
  function statusOf(id) { return data.status[id] || { status: "unreviewed" }; }

  function badge(status) { return el("span", `badge st-${status}`, LABEL[status] || status); }

  function progress() {
    const c = data.counts;
    $("#progress").textContent =
      `已复核 ${data.reviewed} / ${data.total} reviewed · 确认 confirmed ${c.confirmed} · 驳回 rejected ${c.rejected}` +
      ` · 不确定 unsure ${c.unsure}` + (c.changed ? ` · 已变更 changed ${c.changed}` : "");
  }

  function listItem(f) {
    const st = statusOf(f.id).status;
    const it = el("div", `item ${f.severity}`,
      el("div", null, el("b", null, `#${f.n}`), " ", el("span", "tc", f.timecode), " ",
        el("span", `badge sev-${f.severity}`, f.severity), badge(st)),
      el("div", null, f.kind_label[0], " ", el("span", "muted", f.kind_label[1])),
      el("div", "q", f.quote || f.matched || f.term || f.explanation || ""));
    it.dataset.id = f.id;
    it.id = "item-" + f.id;
    it.tabIndex = -1;
    it.addEventListener("click", () => select(shown.indexOf(f.id)));
    return it;
  }

  function applyFilters(keepId) {
    const k = $("#f-kind").value, s = $("#f-sev").value, st = $("#f-status").value;
    shown = data.findings.filter((f) => (!k || f.kind === k) && (!s || f.severity === s) &&
      (!st || statusOf(f.id).status === st)).map((f) => f.id);
    const list = $("#list");
    const frag = document.createDocumentFragment();
    for (const id of shown) frag.append(listItem(byId(id)));
    list.replaceChildren(frag);
    const at = keepId ? shown.indexOf(keepId) : -1;
    select(at >= 0 ? at : (shown.length ? 0 : -1));
  }

  function quote(f) {
    const q = f.quote || "";
    if (!q) return null;
    const box = el("div", "quote", "“");
    const m = f.matched;
    const at = m ? q.indexOf(m) : -1;
    if (at >= 0) box.append(q.slice(0, at), el("mark", null, m), q.slice(at + m.length));
    else box.append(q);
    box.append("”");
    return box;
  }

  function frame(f) {
    if (!f.image) return null;
    const wrap = el("div", "frame");
    const img = el("img");
    img.alt = `${f.id} frame`;
    img.src = fileUrl(f.image);
    wrap.append(img);
    if (f.bbox) {
      img.addEventListener("load", () => {
        const [x, y, w, h] = f.bbox, W = img.naturalWidth, H = img.naturalHeight;
        if (!W || !H) return;
        const b = el("div", "box");
        b.style.left = `${100 * x / W}%`; b.style.top = `${100 * y / H}%`;
        b.style.width = `${100 * w / W}%`; b.style.height = `${100 * h / H}%`;
        wrap.append(b);
      });
    }
    return wrap;
  }

  function media(f) {
    const col = el("div", "media");
    if (f.clip) {
      const v = el("video");
      v.controls = true;
      v.preload = "metadata";
      v.src = fileUrl(f.clip.file);
      v.id = "clip";
      const at = el("div", "tc", "");
      const origin = f.clip.clip_start - f.clip.first_video_pts;
      // Before the first video frame (audio may start a few ms earlier) the clip shows its start.
      const show = () => { at.textContent = `原视频时间 original time ${tc(Math.max(f.clip.clip_start, origin + v.currentTime))}`; };
      v.addEventListener("timeupdate", show);
      v.addEventListener("loadedmetadata", show);
      v.addEventListener("error", () => {
        at.textContent = "此浏览器无法播放该片段，请用 VLC 打开 / this browser cannot play the clip: open it in VLC: " +
          f.clip.file;
      });
      clipFor = { video: v, start: (f.start ?? f.clip.clip_start) - origin };
      const play = el("button", null, "▶ 从发现处播放 play from the finding (p)");
      play.type = "button";
      play.id = "play-finding";
      play.addEventListener("click", playFromFinding);
      col.append(v, at, play,
        el("div", "muted", `片段 clip ${f.clip.file} (原样拷贝 stream copy, 自 from ${f.clip.timecode}) sha256 `,
          el("span", "tc", (f.clip.sha256 || "").slice(0, 16) + "…")));
    } else {
      clipFor = null;
      col.append(el("div", "muted", data.no_clips || "此发现没有时间，无片段 / no time, so no clip"));
    }
    const fr = frame(f);
    if (fr) col.append(fr, el("div", "muted", f.image, f.bbox ? " · 红框 red box" : ""));
    if (f.crops.length) {
      const c = el("div", "crops");
      for (const p of f.crops) { const i = el("img"); i.alt = "crop"; i.src = fileUrl(p); c.append(i); }
      col.append(c);
    }
    return col;
  }

  function playFromFinding() {
    if (!clipFor) return;
    const v = clipFor.video;
    v.currentTime = Math.max(0, clipFor.start);
    v.play().catch((e) => say(`播放失败 playback failed: ${e.message}`));
  }

  function facts(f) {
    const dl = el("dl");
    const row = (k, v) => { if (v !== null && v !== undefined && v !== "") dl.append(el("dt", null, k), el("dd", null, v)); };
    if (f.term) row("词条 term", f.term + (f.matched && f.matched !== f.term ? ` (识别为 found as “${f.matched}”)` : ""));
    row("品牌 brand", f.brand);
    row("规则 rule", el("code", null, f.rule));
    row("法律依据 legal basis", f.legal_basis || "规则中未记录 / not recorded in the rules");
    row("匹配方式 matched by", `${f.match}: ${f.match_label[0]} / ${f.match_label[1]}`);
    row("置信度 confidence", f.confidence);
    row("来源 source", `${f.source_label[0]} / ${f.source_label[1]}`);
    row("说明 explanation", f.explanation);
    for (const [k, v] of Object.entries(f.extra || {})) row(k, typeof v === "string" ? v : JSON.stringify(v));
    if (f.evidence.length) row("证据文件 evidence", f.evidence.join(", "));
    return dl;
  }

  function context(f, box) {
    api(`/api/context/${encodeURIComponent(f.id)}`).then((ctx) => {
      if (byId(shown[current]) !== f) return;
      box.replaceChildren();
      const part = (title, rows, fmt) => {
        if (!rows.length) return;
        const d = el("div", "ctx");
        for (const r of rows) { const line = fmt(r); if (r.hit) line.className = "hit"; d.append(line); }
        box.append(el("h3", null, title), d);
      };
      part("转写（自动） transcript (automatic), ±12 s", ctx.transcript,
        (s) => el("div", null, el("span", "tc", s.timecode), " ", s.text));
      part("弹幕/评论 chat, ±15 s", ctx.chat, (m) => el("div", null, el("span", "tc", m.timecode), " ", el("b", null, m.user), ": ", m.text));
      part("画面文字 on-screen text (OCR)", ctx.screen, (o) => el("div", null, el("span", "tc", o.timecode), " ", o.text));
      if (!box.childNodes.length) box.append(el("p", "muted", "附近没有转写或弹幕 / no transcript or chat nearby"));
    }).catch((e) => say(e.message));
  }

  function decisionBox(f) {
    const st = statusOf(f.id);
    const box = el("div", "decide");
    const head = el("div", null, "当前状态 status: ", badge(st.status));
    if (st.decision) {
      head.append(" ", el("span", "muted", `${st.decision} · ${st.reviewer} · ${st.time}` + (st.decisions > 1 ? ` · ${st.decisions} 次 decisions` : "")));
      if (st.note) head.append(el("div", null, "备注 note: ", el("span", "note-text", st.note)));
    }
    if (st.status === "changed") {
      head.append(el("div", null, el("b", null, "此发现在复核后已变更，请重新复核。 The finding changed after it was reviewed: review it again.")));
    }
    const note = el("textarea");
    note.id = "note";
    note.placeholder = "备注（可选） note (optional): 为什么 why";
    note.value = st.note || "";
    const btn = (d, key) => {
      const b = el("button", null, `${LABEL[d]} (${key})`);
      b.type = "button";
      b.id = `do-${d}`;
      b.addEventListener("click", () => decide(d));
      return b;
    };
    box.append(head, el("div", null, btn("confirmed", "c"), btn("rejected", "r"), btn("unsure", "u")), note);
    return box;
  }

  function select(i) {
    const prev = document.querySelector(".item.current");
    if (prev) prev.classList.remove("current");
    current = i;
    const d = $("#detail");
    if (i < 0 || i >= shown.length) {
      d.replaceChildren(el("p", "muted", "没有符合筛选条件的发现 / no finding matches the filters"));
      clipFor = null;
      return;
    }
    const f = byId(shown[i]);
    const item = document.getElementById("item-" + f.id);
    if (item) { item.classList.add("current"); item.scrollIntoView({ block: "nearest" }); }
    const ctx = el("div", "context", el("p", "muted", "载入上下文… / loading context…"));
    d.replaceChildren(
      el("h2", null, `#${f.n} `, el("span", "tc", f.id), " · ", f.kind_label[0], " ", el("span", "muted", f.kind_label[1]),
        el("span", `badge sev-${f.severity}`, `${f.severity_label[0]} ${f.severity}`)),
      el("div", "tc", `${f.timecode}` + (f.end !== null && f.end !== f.start ? ` – ${f.timecode_end}` : "")),
      quote(f), decisionBox(f),
      el("div", "cols", media(f), el("div", null, facts(f), ctx)));
    d.scrollTop = 0;
    context(f, ctx);
  }

  async function decide(decision) {
    if (current < 0) return;
    const id = shown[current];
    const note = ($("#note") || {}).value || "";
    try {
      const r = await api("/api/decision", { id, decision, note });
      data.status[id] = r.status;
      data.counts = r.counts;
      data.reviewed = r.reviewed;
      say("");
      progress();
      const old = document.getElementById("item-" + id);
      if (old) old.replaceWith(listItem(byId(id)));
      select(Math.min(current + 1, shown.length - 1));
    } catch (e) {
      say(`未保存 not saved: ${e.message}`);
    }
  }

  function onKey(ev) {
    const t = ev.target;
    const typing = t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT");
    if (typing) { if (ev.key === "Escape") t.blur(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); select(Math.min(current + 1, shown.length - 1)); }
    else if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); select(Math.max(current - 1, 0)); }
    else if (KEYS[ev.key]) { ev.preventDefault(); decide(KEYS[ev.key]); }
    else if (ev.key === "n") { ev.preventDefault(); const n = $("#note"); if (n) n.focus(); }
    else if (ev.key === "p") { ev.preventDefault(); playFromFinding(); }
    else if (ev.key === " " && clipFor) { ev.preventDefault(); const v = clipFor.video; if (v.paused) v.play(); else v.pause(); }
  }

  async function finish() {
    try {
      await api("/api/finish", {});
      document.body.replaceChildren(el("main", null, el("section", null,
        el("h1", null, "复核已结束 / Review finished"),
        el("p", null, `已复核 ${data.reviewed} / ${data.total} reviewed. 决定已写入 review.jsonl，并记录在 custody.jsonl。` +
          " Decisions are in review.jsonl and the session is recorded in custody.jsonl. You can close this tab."))));
    } catch (e) { say(e.message); }
  }

  async function start() {
    const t0 = performance.now();
    data = await api("/api/case");
    data.index = {};
    for (const f of data.findings) data.index[f.id] = f;
    $("#case").textContent = `${data.case.id || ""} · ${data.case.source || ""} · 复核人 reviewer ${data.reviewer}`;
    const kinds = $("#f-kind");
    for (const [k, lab] of Object.entries(data.kinds)) { const o = el("option", null, `${lab[0]} / ${lab[1]}`); o.value = k; kinds.append(o); }
    const sts = $("#f-status");
    for (const s of data.statuses) { const o = el("option", null, LABEL[s] || s); o.value = s; sts.append(o); }
    for (const id of ["#f-kind", "#f-sev", "#f-status"]) {
      $(id).addEventListener("change", () => applyFilters(current >= 0 ? shown[current] : null));
    }
    $("#finish").addEventListener("click", finish);
    document.addEventListener("keydown", onKey);
    progress();
    applyFilters(null);
    document.body.dataset.ready = String(Math.round(performance.now() - t0));
  }

  start().catch((e) => say(`载入失败 could not load: ${e.message}`));
})();
