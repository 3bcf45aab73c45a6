// latentjax studio page: plain JS, no build step, no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  seed: 0,
  latent: null, // a photo / uploaded latent ID instead of the seed
  psi: 1,
  mixOn: false,
  mixSeed: 1,
  mixLayer: 0,
  layers: "",
  strengths: {}, // direction name -> raw strength (what `latentjax edit --strengths` takes)
};
let info = null;

// ---- the main image: one request in flight, the latest settings rendered next ----------------

function renderQuery(s) {
  const q = new URLSearchParams();
  if (s.latent) q.set("latent", s.latent);
  else q.set("seed", String(s.seed));
  q.set("psi", String(s.psi));
  if (s.mixOn) {
    q.set("mix_seed", String(s.mixSeed));
    q.set("mix_layer", String(s.mixLayer));
  }
  if (s.layers) q.set("layers", s.layers);
  for (const [name, value] of Object.entries(s.strengths)) {
    if (Number(value) !== 0) q.set(name, String(value));
  }
  return q;
}

let inFlight = false;
let again = false;
let changedAt = performance.now();
let objectUrl = null;

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

async function errorText(response) {
  try {
    return (await response.json()).error || response.statusText;
  } catch (e) {
    return response.statusText;
  }
}

function changed() {
  changedAt = performance.now();
  refresh();
}

async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  const img = $("image");
  const url = "/render.png?" + renderQuery(state).toString();
  if (img.dataset.url === url) return;
  inFlight = true;
  try {
    const response = await fetch(url);
    if (!response.ok) {
      setStatus(await errorText(response), true);
      return;
    }
    const blob = await response.blob();
    const next = URL.createObjectURL(blob);
    img.src = next;
    await img.decode();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = next;
    img.dataset.url = url;
    img.dataset.version = String(Number(img.dataset.version || 0) + 1);
    setStatus(`${Math.round(performance.now() - changedAt)} ms · ${describe()}`);
  } catch (e) {
    setStatus(`render failed: ${e}`, true);
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function describe() {
  const src = state.latent ? `latent ${state.latent}` : `seed ${state.seed}`;
  const active = Object.entries(state.strengths).filter(([, v]) => Number(v) !== 0);
  const dirs = active.map(([n, v]) => `${n} ${v}`).join(", ");
  return `${src}, ψ ${state.psi}` + (state.mixOn ? `, mix ${state.mixSeed}@${state.mixLayer}` : "") + (dirs ? `, ${dirs}` : "");
}

// ---- controls ------------------------------------------------------------------------------

function readSeed(input) {
  const v = input.value.trim();
  if (!/^\d+$/.test(v) || Number(v) > 4294967295) return null;
  return Number(v);
}

function setupLatentControls() {
  const seed = $("seed");
  seed.addEventListener("input", () => {
    const v = readSeed(seed);
    if (v === null) return setStatus("the seed must be an integer in [0, 2^32)", true);
    state.seed = v;
    changed();
  });
  const step = (d) => {
    state.seed = Math.min(4294967295, Math.max(0, state.seed + d));
    seed.value = String(state.seed);
    useSeed();
  };
  $("seed-prev").addEventListener("click", () => step(-1));
  $("seed-next").addEventListener("click", () => step(1));
  $("seed-random").addEventListener("click", () => step(Math.floor(Math.random() * 100000) - state.seed));
  $("use-seed").addEventListener("click", useSeed);

  const psi = $("psi");
  const psiOut = $("psi-out");
  psi.addEventListener("input", () => {
    state.psi = Number(psi.value);
    psiOut.textContent = psi.value;
    changed();
  });

  const mixLayer = $("mix-layer");
  mixLayer.max = String(info.num_ws - 1);
  const middle = info.layer_sets.middle || [];
  mixLayer.value = String(middle.length ? middle[0] : Math.floor(info.num_ws / 2)); // coarse from A, rest from B
  state.mixLayer = Number(mixLayer.value);
  const showMix = () => {
    const k = state.mixLayer;
    $("mix-layer-out").textContent = `rows ≥ ${k} (${info.ws_resolutions[k]}²+)`;
  };
  showMix();
  mixLayer.addEventListener("input", () => {
    state.mixLayer = Number(mixLayer.value);
    showMix();
    if (state.mixOn) changed();
  });
  $("mix-on").addEventListener("change", (e) => {
    state.mixOn = e.target.checked;
    changed();
  });
  $("mix-seed").addEventListener("input", (e) => {
    const v = readSeed(e.target);
    if (v === null) return setStatus("the mix seed must be an integer in [0, 2^32)", true);
    state.mixSeed = v;
    if (state.mixOn) changed();
  });

  const layers = $("layers");
  for (const option of layers.options) {
    if (option.value && !(info.layer_sets[option.value] || []).length) option.disabled = true;
  }
  layers.addEventListener("change", () => {
    state.layers = layers.value;
    changed();
  });
  $("reset").addEventListener("click", () => {
    for (const input of document.querySelectorAll("#sliders input[type=range]")) {
      input.value = "0";
      input.dispatchEvent(new Event("input"));
    }
    changed();
  });
}

// A stored latent has no z: z-space directions are set to 0 and disabled while one is shown.
function enableZSliders(enabled) {
  for (const input of document.querySelectorAll("#sliders input[data-space=z]")) {
    if (!enabled && Number(input.value) !== 0) {
      input.value = "0";
      input.dispatchEvent(new Event("input"));
    }
    input.disabled = !enabled;
  }
}

function useSeed() {
  state.latent = null;
  enableZSliders(true);
  $("latent-row").hidden = true;
  $("seed-row").hidden = false;
  changed();
}

function useLatent(id) {
  state.latent = id;
  enableZSliders(false);
  $("latent-id").textContent = id;
  $("latent-download").href = `/api/latents/${encodeURIComponent(id)}.npz`;
  $("latent-download").download = `${id}.npz`;
  $("latent-row").hidden = false;
  $("seed-row").hidden = true;
  changed();
}

function niceStep(range) {
  return Math.pow(10, Math.round(Math.log10(range / 30)));
}

function addSlider(entry, isNew = false) {
  $("no-directions").hidden = true;
  const std = entry.std > 0 ? entry.std : 1;
  const step = niceStep(3 * std);
  const max = Math.ceil((3 * std) / step) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));

  const row = document.createElement("div");
  row.className = "slider" + (isNew ? " new" : "");
  row.dataset.direction = entry.name;
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = entry.name;
  name.title = `${entry.method || "direction"} in ${entry.space}, ${entry.layer_label}; source ${entry.source}`;
  const rows = document.createElement("small");
  rows.textContent = entry.layer_label;
  name.appendChild(rows);

  const input = document.createElement("input");
  input.type = "range";
  input.min = (-max).toFixed(decimals);
  input.max = max.toFixed(decimals);
  input.step = String(step);
  input.value = "0";
  input.dataset.direction = entry.name;
  input.dataset.space = entry.space;
  if (entry.space === "z" && state.latent) input.disabled = true;
  input.setAttribute("aria-label", `${entry.name} strength`);

  const out = document.createElement("output");
  const show = () => {
    const v = Number(input.value);
    out.textContent = `${input.value} (${(v / std).toFixed(1)}σ)`;
  };
  show();
  input.addEventListener("input", () => {
    state.strengths[entry.name] = input.value;
    show();
    changed();
  });
  input.addEventListener("change", changed); // release: make sure the final position is rendered

  const zero = document.createElement("button");
  zero.type = "button";
  zero.textContent = "0";
  zero.title = "reset this direction";
  zero.addEventListener("click", () => {
    input.value = "0";
    input.dispatchEvent(new Event("input"));
  });

  row.append(name, input, out, zero);
  $("sliders").appendChild(row);
  return row;
}

// ---- photo inversion --------------------------------------------------------------------------

function setupDropzone() {
  const zone = $("dropzone");
  const file = $("file");
  zone.addEventListener("click", () => file.click());
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") file.click();
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) invert(e.dataTransfer.files[0]);
  });
  file.addEventListener("change", () => {
    if (file.files.length) invert(file.files[0]);
    file.value = "";
  });
}

function invertStatus(text, isError = false) {
  const el = $("invert-status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

async function invert(photo) {
  const bar = $("invert-progress");
  const body = new FormData();
  body.append("image", photo);
  invertStatus(`uploading ${photo.name} …`);
  const response = await fetch("/api/invert", { method: "POST", body });
  if (!response.ok) return invertStatus(await errorText(response), true);
  const { job } = await response.json();
  bar.hidden = false;
  bar.value = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const r = await fetch(`/api/jobs/${job}`);
    if (!r.ok) return invertStatus(await errorText(r), true);
    const j = await r.json();
    bar.value = j.steps ? j.step / j.steps : 0;
    if (j.state === "done") {
      bar.hidden = true;
      invertStatus(`${photo.name}: latent ${j.latent}, LPIPS ${j.lpips.toFixed(3)}, ${j.alignment}`);
      return useLatent(j.latent);
    }
    if (j.state === "failed") {
      bar.hidden = true;
      return invertStatus(`${photo.name}: ${j.message}`, true);
    }
    invertStatus(`${j.message} · step ${j.step}/${j.steps}` + (j.loss !== undefined ? ` · loss ${j.loss.toFixed(4)}` : ""));
  }
}

// ---- label mode: 16 samples per page, clicked positive / negative ---------------------------

const labels = new Map(); // seed -> "pos" | "neg"
let gridBase = 1000 + Math.floor(Math.random() * 100000);
let gridPage = 0;

function gridSeeds() {
  return Array.from({ length: 16 }, (_, i) => gridBase + 16 * gridPage + i);
}

function drawGrid() {
  const grid = $("grid");
  grid.replaceChildren();
  for (const seed of gridSeeds()) {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "cell";
    cell.dataset.seed = String(seed);
    const img = document.createElement("img");
    img.alt = `seed ${seed}`;
    img.src = `/render.png?seed=${seed}&psi=${state.psi}`;
    if (info.resolution <= 128) img.classList.add("pixelated");
    const tag = document.createElement("span");
    tag.className = "tag";
    cell.append(img, tag);
    cell.addEventListener("click", () => {
      const now = labels.get(seed);
      if (now === undefined) labels.set(seed, "pos");
      else if (now === "pos") labels.set(seed, "neg");
      else labels.delete(seed);
      paintCell(cell);
      updateCounts();
    });
    paintCell(cell);
    grid.appendChild(cell);
  }
  $("grid-prev").disabled = gridPage === 0;
}

function paintCell(cell) {
  const label = labels.get(Number(cell.dataset.seed));
  cell.classList.toggle("pos", label === "pos");
  cell.classList.toggle("neg", label === "neg");
  cell.querySelector(".tag").textContent = label === "pos" ? "+" : label === "neg" ? "−" : cell.dataset.seed;
}

function labelled(which) {
  return [...labels].filter(([, l]) => l === which).map(([s]) => s);
}

function updateCounts() {
  const p = labelled("pos").length;
  const n = labelled("neg").length;
  const need = info.limits.examples_per_side[0];
  $("counts").textContent = `${p} positive, ${n} negative` + (p < need || n < need ? ` (need ${need} of each)` : "");
  $("make").disabled = p < need || n < need || !$("dir-name").value.trim();
}

function labelStatus(text, isError = false) {
  const el = $("label-status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

async function makeDirection() {
  const name = $("dir-name").value.trim();
  const body = { name, positive: labelled("pos"), negative: labelled("neg") };
  $("make").disabled = true;
  labelStatus(`fitting ${name} on ${body.positive.length} + ${body.negative.length} examples …`);
  const response = await fetch("/api/directions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    labelStatus(await errorText(response), true);
    updateCounts();
    return;
  }
  const entry = await response.json();
  info.directions.push(entry);
  addSlider(entry, true);
  labels.clear();
  $("dir-name").value = "";
  drawGrid();
  updateCounts();
  const acc = entry.metrics.train_accuracy;
  const where = entry.source.startsWith("file:") ? `saved to ${entry.source.slice(5)}` : "kept in memory";
  const made = `made ${name} from ${body.positive.length} + ${body.negative.length} examples: ${entry.metrics.nonzero} non-zero entries of w, train accuracy ${acc.toFixed(2)}, ${where}`;
  labelStatus(made);
  $("directions-note").textContent = made;
  showTab("edit");
}

function setupLabelView() {
  $("grid-prev").addEventListener("click", () => {
    gridPage = Math.max(0, gridPage - 1);
    drawGrid();
  });
  $("grid-next").addEventListener("click", () => {
    gridPage += 1;
    drawGrid();
  });
  $("clear-labels").addEventListener("click", () => {
    labels.clear();
    drawGrid();
    updateCounts();
  });
  $("dir-name").addEventListener("input", updateCounts);
  $("make").addEventListener("click", makeDirection);
}

// ---- tabs and start -----------------------------------------------------------------------

let gridPsi = null;

function showTab(which) {
  $("edit-view").hidden = which !== "edit";
  $("label-view").hidden = which !== "label";
  $("tab-edit").classList.toggle("active", which === "edit");
  $("tab-label").classList.toggle("active", which === "label");
  if (which === "label" && gridPsi !== state.psi) {
    gridPsi = state.psi;
    drawGrid();
  }
}

async function start() {
  const response = await fetch("/api/info");
  info = await response.json();
  $("model-info").textContent =
    `${info.model} · ${info.arch} ${info.resolution}×${info.resolution} · ${info.num_ws} W+ rows` +
    (info.directions_dir ? ` · directions in ${info.directions_dir}` : "");
  if (info.resolution <= 128) $("image").classList.add("pixelated");
  setupLatentControls();
  for (const entry of info.directions) addSlider(entry);
  setupDropzone();
  setupLabelView();
  updateCounts();
  $("tab-edit").addEventListener("click", () => showTab("edit"));
  $("tab-label").addEventListener("click", () => showTab("label"));
  document.body.dataset.ready = "1";
  changed();
}

start().catch((e) => setStatus(`cannot reach the server: ${e}`, true));
