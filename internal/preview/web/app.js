// comfyrt preview page: camera → WHIP → workflow → WHEP → video, the
// workflow's inputs as controls, the stream's figures and plan.
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const $ = (id) => document.getElementById(id);
const auth = token ? { Authorization: "Bearer " + token } : {};
const state = { whip: null, whep: null, connected: false, error: "", generation: -1 };

function setState(text, cls) {
  const el = $("state");
  el.textContent = text;
  el.className = "badge " + (cls || "");
}

async function api(method, path, body, type) {
  const headers = Object.assign({}, auth);
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const resp = await fetch(path, { method, headers, body });
  const text = await resp.text();
  let data = text;
  try { data = JSON.parse(text); } catch (e) { /* SDP or plain text */ }
  return { resp, data };
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 2000); // host candidates come at once
  });
}

// negotiate posts pc's offer to a WHIP or WHEP endpoint and applies the answer.
async function negotiate(pc, path) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { resp, data } = await api("POST", path, pc.localDescription.sdp, "application/sdp");
  if (resp.status !== 201) throw new Error(path + ": " + resp.status + " " + data);
  await pc.setRemoteDescription({ type: "answer", sdp: data });
  return resp.headers.get("Location");
}

async function start() {
  try {
    setState("asking for the camera…");
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    $("camera").srcObject = stream;
    const pub = new RTCPeerConnection();
    stream.getVideoTracks().forEach((t) => pub.addTransceiver(t, { direction: "sendonly", streams: [stream] }));
    pub.onconnectionstatechange = () => onConn(pub.connectionState);
    setState("connecting…");
    state.whip = await negotiate(pub, "whip");
    const view = new RTCPeerConnection();
    view.addTransceiver("video", { direction: "recvonly" });
    view.ontrack = (ev) => { $("output").srcObject = ev.streams[0] || new MediaStream([ev.track]); };
    state.whep = await negotiate(view, "whep");
  } catch (e) {
    state.error = String(e);
    setState(String(e), "bad");
  }
}

function onConn(s) {
  state.connected = s === "connected";
  setState(s, s === "connected" ? "ok" : (s === "failed" ? "bad" : ""));
}

// Workflow: the name, the controls of its literal inputs, the plan.
function showWorkflow(wf) {
  $("workflow-name").textContent = wf.name;
  $("explain").textContent = wf.explain;
  const form = $("widgets");
  form.textContent = wf.widgets.length ? "" : "(no literal inputs)";
  let node = "";
  for (const w of wf.widgets) {
    if (w.node !== node) {
      node = w.node;
      const h = document.createElement("div");
      h.className = "node";
      h.textContent = "#" + w.node + " " + (w.title || w.class);
      form.appendChild(h);
    }
    form.appendChild(control(w));
  }
}

function control(w) {
  const label = document.createElement("label");
  const name = document.createElement("span");
  name.textContent = w.input;
  label.appendChild(name);
  let input;
  const shown = document.createElement("output");
  if (w.type === "COMBO") {
    input = document.createElement("select");
    for (const o of w.options) {
      const opt = document.createElement("option");
      opt.value = opt.textContent = String(o);
      input.appendChild(opt);
    }
    input.value = String(w.value);
  } else if (w.type === "BOOLEAN") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = !!w.value;
  } else if (w.type === "INT" || w.type === "FLOAT") {
    input = document.createElement("input");
    input.type = "range";
    input.min = w.min !== undefined ? w.min : Math.min(0, w.value);
    input.max = w.max !== undefined && w.max < 1e6 ? w.max : Math.max(100, w.value * 4);
    input.step = w.step !== undefined ? w.step : (w.type === "INT" ? 1 : 0.01);
    input.value = w.value;
    shown.textContent = w.value;
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.value = w.value;
  }
  input.dataset.node = w.node;
  input.dataset.input = w.input;
  input.addEventListener("change", () => {
    let v = input.value;
    if (w.type === "BOOLEAN") v = input.checked;
    else if (w.type === "INT") v = parseInt(v, 10);
    else if (w.type === "FLOAT") v = parseFloat(v);
    shown.textContent = input.type === "range" ? v : "";
    sendParams([{ node: w.node, input: w.input, value: v }]);
  });
  input.addEventListener("input", () => { if (input.type === "range") shown.textContent = input.value; });
  label.appendChild(input);
  label.appendChild(shown);
  return label;
}

function showErrors(data) {
  const box = $("errors");
  if (!data) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = "";
  const head = document.createElement("div");
  head.textContent = data.error || "error";
  box.appendChild(head);
  const list = document.createElement("ul");
  for (const e of data.node_errors || []) {
    const li = document.createElement("li");
    li.dataset.node = e.node || "";
    const where = e.node ? "#" + e.node + " " + (e.title || e.class_type) + (e.input ? " · " + e.input : "") + ": " : "";
    li.textContent = where + e.message + (e.details ? " (" + e.details + ")" : "");
    list.appendChild(li);
  }
  box.appendChild(list);
}

async function loadWorkflow(name, text) {
  const { resp, data } = await api("POST", "api/workflow?name=" + encodeURIComponent(name), text);
  if (resp.ok) { showErrors(null); showWorkflow(data); } else showErrors(data);
  return { status: resp.status, data };
}

async function sendParams(updates) {
  const { resp, data } = await api("POST", "api/params", JSON.stringify({ updates }));
  if (resp.ok) { showErrors(null); showWorkflow(data); } else showErrors(data);
  return { status: resp.status, data };
}

async function setupExamples() {
  const { resp, data } = await api("GET", "api/examples");
  if (!resp.ok) return;
  const sel = $("examples");
  for (const name of data) {
    const opt = document.createElement("option");
    opt.value = opt.textContent = name;
    sel.appendChild(opt);
  }
  sel.addEventListener("change", async () => {
    if (!sel.value) return;
    const r = await api("POST", "api/workflow?example=" + encodeURIComponent(sel.value), "");
    if (r.resp.ok) { showErrors(null); showWorkflow(r.data); } else showErrors(r.data);
  });
}

function setupDrop() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) await loadWorkflow(f.name, await f.text());
  });
  $("file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (f) await loadWorkflow(f.name, await f.text());
  });
}

// compare draws the camera and the output small and measures the mean
// difference of the output from the camera and from the inverted camera
// (0–255 per channel); the frames are not aligned, so it is a rough check.
function compare() {
  const a = $("camera"), b = $("output");
  if (!a.videoWidth || !b.videoWidth) return null;
  const ca = $("cmp-a").getContext("2d", { willReadFrequently: true });
  const cb = $("cmp-b").getContext("2d", { willReadFrequently: true });
  ca.drawImage(a, 0, 0, 64, 48);
  cb.drawImage(b, 0, 0, 64, 48);
  const x = ca.getImageData(0, 0, 64, 48).data, y = cb.getImageData(0, 0, 64, 48).data;
  let same = 0, inv = 0, n = 0;
  for (let i = 0; i < x.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      same += Math.abs(y[i + c] - x[i + c]);
      inv += Math.abs(y[i + c] - (255 - x[i + c]));
      n++;
    }
  }
  return { same: same / n, inverted: inv / n, frames: b.getVideoPlaybackQuality ? b.getVideoPlaybackQuality().totalVideoFrames : 0 };
}

// stamp reads the frame counter a test camera burns into the top 16 rows
// of its frames (bit i: the 20-pixel block i of a 320-pixel width, white
// is 1); it gives null without a picture.
function stamp(video) {
  if (!video.videoWidth) return null;
  const c = $("cmp-a").getContext("2d", { willReadFrequently: true });
  const w = video.videoWidth, h = video.videoHeight;
  c.drawImage(video, 0, 0, w, h * 16 / 240, 0, 0, 64, 8);
  const d = c.getImageData(0, 0, 64, 8).data;
  let n = 0;
  for (let i = 0; i < 12; i++) {
    const x = Math.floor((i + 0.5) * 4), o = (4 * 64 + x) * 4; // the block's centre, row 4 of 8
    if (d[o] + d[o + 1] + d[o + 2] > 3 * 128) n |= 1 << i;
  }
  return n;
}

// stamps reads the counters of the camera and of the output at once.
function stamps() {
  return { camera: stamp($("camera")), output: stamp($("output")) };
}

async function pollStats() {
  try {
    const { resp, data: s } = await api("GET", "api/stats");
    if (resp.ok) {
      $("fps").textContent = s.fps_in.toFixed(1) + " / " + s.fps_out.toFixed(1);
      $("frames").textContent = s.frames_in + " / " + s.frames_out;
      $("drops").textContent = s.frames_dropped;
      $("latency").textContent = s.latency_p50_ms.toFixed(1) + " / " + s.latency_p99_ms.toFixed(1) + " ms";
      $("plan").textContent = s.plan_ms.toFixed(2) + " ms";
      if (s.workflow !== state.generation) { // loaded or recompiled elsewhere
        state.generation = s.workflow;
        const w = await api("GET", "api/workflow");
        if (w.resp.ok) showWorkflow(w.data);
      }
    }
    const c = compare();
    if (c) $("compare").textContent = "mean diff " + c.same.toFixed(1) + ", vs inverted " + c.inverted.toFixed(1);
  } catch (e) { /* the server went away: keep polling */ }
}

// window.comfyrt lets tests (and the console) drive the page.
window.comfyrt = { state, compare, stamps, loadWorkflow, sendParams, start };

(async function main() {
  setupDrop();
  const { resp, data } = await api("GET", "api/workflow");
  if (resp.ok) { showWorkflow(data); setupExamples(); }
  else setState("token refused: open the URL comfyrt printed", "bad");
  setInterval(pollStats, 1000);
  if (resp.ok) start();
})();
