// The live page: the MJPEG view, each model's top-k as bars, FPS, drops and a
// latency sparkline, from /api/models, /api/latest, /api/stream and /healthz;
// with a live video, the Teach panel (/api/teach).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const SPARK_POINTS = 120;
  const latencies = [];
  const cards = new Map();
  let firstModel = null;

  // the token, if it came in the address, is now a cookie: keep it out of history and screenshots
  if (new URLSearchParams(location.search).has("token")) {
    history.replaceState(null, "", location.pathname);
  }

  function card(name) {
    if (!cards.has(name)) {
      const section = document.createElement("section");
      section.className = "model";
      const title = document.createElement("h2");
      title.textContent = name;
      const rows = document.createElement("div");
      section.append(title, rows);
      $("models").append(section);
      cards.set(name, rows);
    }
    return cards.get(name);
  }

  function showBars(rows, top) {
    rows.replaceChildren(...top.map((p) => {
      const row = document.createElement("div");
      row.className = "row";
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = p.label;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = p.score.toFixed(2);
      const track = document.createElement("div");
      track.className = "track";
      const fill = document.createElement("div");
      fill.className = "fill";
      fill.style.width = (100 * p.score).toFixed(1) + "%";
      track.append(fill);
      row.append(label, score, track);
      return row;
    }));
  }

  function render(record) {
    const answers = record.models || [{ model: firstModel, top: record.top }];
    for (const answer of answers) showBars(card(answer.model), answer.top);
    const ms = record.latency_ms.model;  // preprocess + inference + postprocess
    $("latency").textContent = ms.toFixed(1) + " ms";
    latencies.push(ms);
    if (latencies.length > SPARK_POINTS) latencies.shift();
    drawSpark();
    document.body.dataset.frame = record.frame;
  }

  function drawSpark() {
    const canvas = $("spark");
    // draw at the size it is shown (it stretches with the page), in device pixels
    const scale = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * scale);
    canvas.height = Math.round(canvas.clientHeight * scale);
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    const width = canvas.clientWidth, height = canvas.clientHeight;
    ctx.clearRect(0, 0, width, height);
    if (latencies.length < 2) return;
    const most = Math.max(...latencies) * 1.1;
    ctx.strokeStyle = "#3fbf6f";
    ctx.lineWidth = 2;
    ctx.beginPath();
    latencies.forEach((ms, i) => {
      const x = (i / (SPARK_POINTS - 1)) * width;
      const y = height - (ms / most) * (height - 4) - 2;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = "#9aa3ad";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText("max " + (most / 1.1).toFixed(0) + " ms", 6, 14);
  }

  function showStats(stats) {
    if (stats.fps !== undefined) $("fps").textContent = stats.fps.toFixed(1);
    if (stats.dropped !== undefined) $("dropped").textContent = stats.dropped;
    const state = stats.state === "running" ? "" : " (" + stats.state + ")";
    if (stats.source) $("source").textContent = stats.source + state;
  }

  async function getJson(path) {
    const response = await fetch(path, { credentials: "same-origin" });
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  async function start() {
    const models = await getJson("/api/models");
    firstModel = models[0].name;
    models.forEach((m) => card(m.name));
    const health = await getJson("/healthz");
    const images = models.every((m) => m.task === "image-classification");
    if (health.live) {
      showStats(health.live);
      if (images) { $("video").src = "/video.mjpg"; $("video").hidden = false; }
      const events = new EventSource("/api/stream");
      events.onmessage = (event) => render(JSON.parse(event.data));
      events.addEventListener("stats", (event) => showStats(JSON.parse(event.data)));
      events.onerror = () => { $("status").textContent = "stream interrupted; reconnecting…"; };
      events.onopen = () => { $("status").textContent = ""; };
    } else {
      $("source").textContent = "no live source";
      $("no-video").hidden = false;
    }
    const latest = await fetch("/api/latest");
    if (latest.ok) render(await latest.json());
    if (health.live && images) await startTeaching();
  }

  // -- the Teach panel: only when the server can record from a live video ------------------

  async function startTeaching() {
    const response = await fetch("/api/teach", { credentials: "same-origin" });
    if (!response.ok) return;
    $("teach-slot").replaceWith($("teach-panel").content.cloneNode(true));
    showTeach(await response.json());
    let count = 1;
    for (const id of ["record-1", "record-10"]) {
      $(id).addEventListener("click", () => { count = Number($(id).dataset.count); });
    }
    $("teach-record").addEventListener("submit", (event) => {
      event.preventDefault();
      record($("teach-label").value.trim(), count);
    });
    $("teach-train").addEventListener("submit", (event) => {
      event.preventDefault();
      train($("teach-head").value);
    });
  }

  async function send(method, path) {
    const response = await fetch(path, { method, credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.status);
    return answer;
  }

  function showCounts(labels) {
    $("teach-counts").replaceChildren(...Object.entries(labels).map(([label, n]) => {
      const item = document.createElement("li");
      item.textContent = label + ": " + n;
      item.dataset.label = label;
      item.dataset.count = n;
      return item;
    }));
  }

  function showTeach(state) {
    showCounts(state.labels);
    const busy = state.training;
    $("train").disabled = Boolean(busy);
    if (busy) {
      $("teach-status").textContent = "training " + busy.head + "… " + busy.done + "/" + busy.total;
    } else if (state.last && state.last.ok) {
      const accuracy = state.last.validation_accuracy;
      $("teach-status").textContent = state.last.model + " trained in " + state.last.seconds +
        " s" + (accuracy === null ? "" : ", held-out accuracy " + (100 * accuracy).toFixed(0) + " %") +
        ": its bars are beside the others";
      card(state.last.model);
    } else if (state.last) {
      $("teach-status").textContent = "training failed: " + state.last.error;
    }
  }

  async function record(label, count) {
    $("teach-status").textContent = "recording " + count + " of " + label + "…";
    try {
      const answer = await send("POST", "/api/teach/samples?label=" +
                                encodeURIComponent(label) + "&count=" + count);
      showCounts(answer.labels);
      $("teach-status").textContent = "saved " + answer.saved.length + " of " + label;
    } catch (error) { $("teach-status").textContent = error.message; }
  }

  async function train(head) {
    try {
      await send("POST", "/api/teach/train?head=" + head);
      let state;
      do {
        await new Promise((resolve) => setTimeout(resolve, 400));
        state = await getJson("/api/teach");
        showTeach(state);
      } while (state.training);
    } catch (error) { $("teach-status").textContent = error.message; }
  }

  $("photo").addEventListener("change", async () => {
    const file = $("photo").files[0];
    if (!file) return;
    const response = await fetch("/api/predict", {
      method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": file.type || "application/octet-stream" },
    });
    const answer = await response.json();
    if (response.ok) { render(answer); $("status").textContent = file.name; }
    else $("status").textContent = answer.error;
  });

  start().catch((error) => { $("status").textContent = "cannot reach the server: " + error.message; });
})();
