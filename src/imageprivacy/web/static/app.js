// The page of `imageprivacy serve`: each drop is a batch; each file of it goes to POST /api/protect?format=json
// (the API scripts use, answering in JSON), two at a time; "Download all" sends the protected PNGs the page
// holds to POST /api/zip, which zips them at their paths. No third-party code: the page works offline.
"use strict";

const PARALLEL_UPLOADS = 2;      // the server protects two images at once (web/app.py, PARALLEL_PROTECTIONS)
let batchCount = 0;

function element(parent, selector) {
  return parent.querySelector(selector);
}

function fact(list, term, text) {
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = term;
  dd.textContent = text;
  list.append(dt, dd);
}

function fittedOnText(fitted) {
  if (!fitted || !fitted.data) return "not recorded in this checkpoint";
  // image_shape is (channels, height, width); people read sizes as width × height
  const [channels, height, width] = fitted.image_shape;
  const kind = channels === 1 ? "grayscale" : "colour";
  return `${fitted.data}: ${fitted.images.toLocaleString("en")} ${kind} images of ${width} × ${height} pixels`;
}

function showProtection(health) {
  const p = health.protection;
  element(document, "#method-title").textContent = p.title;
  element(document, "#what-it-does").textContent = p.what_it_does ? `${p.title}: ${p.what_it_does}.` : "";
  const facts = element(document, "#facts");
  fact(facts, "Budget", p.bounded
    ? `each pixel changes by at most ${p.budget_levels} of 255 levels (epsilon ${(p.epsilon * 255).toFixed(0)}/255)`
    : "replaces pixels: not bounded by epsilon");
  fact(facts, "Images", p.channels_text);
  fact(facts, "Fitted on", fittedOnText(p.fitted_on));
  if (p.classes.length) fact(facts, "Classes", p.classes.join(", "));
  if (p.checkpoint) fact(facts, "Checkpoint", p.checkpoint);
  element(document, "#protects-against").textContent = `Protects against ${p.protects_against}`;
  if (p.needs_class_folders) {
    const note = element(document, "#class-folders");
    note.hidden = false;
    note.textContent = `This method chooses its noise by class: drop a .zip with one folder per class (${p.classes.join(", ")}).`;
  }
  element(document, "#warning").textContent = health.warning;
  const l = health.limits;
  element(document, "#limits").textContent =
    `Up to ${l.max_megapixels} megapixels an image, ${l.max_files} files a zip, ${l.max_upload_mb} MB an upload.`;
}

// POST one file; resolves to {status, body}; onProgress(fraction of the upload sent).
function postFile(file, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/protect?format=json");
    request.responseType = "json";
    request.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    request.onload = () => resolve({ status: request.status, body: request.response });
    request.onerror = () => resolve({ status: 0, body: { error: "the server did not answer" } });
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}

async function pngBlob(base64) {
  return (await fetch(`data:image/png;base64,${base64}`)).blob();
}

function sharpenSmall(img) {
  // A 32 px image shown 300 px wide should show its pixels, not a blur; photos are shrunk smoothly.
  img.addEventListener("load", () => {
    if (img.naturalWidth < img.clientWidth) img.classList.add("pixelated");
  });
}

async function showItem(batch, item) {
  const view = document.getElementById("result-template").content.firstElementChild.cloneNode(true);
  const blob = await pngBlob(item.protected);
  const url = URL.createObjectURL(blob);
  element(view, ".result-path").textContent = item.path;
  element(view, ".result-size").textContent =
    `${item.width} × ${item.height} · ${item.input_mode} → ${item.output_mode} PNG`;
  for (const [cls, src] of [["original", `data:image/png;base64,${item.original_preview}`], ["protected", url],
                            ["noise", `data:image/png;base64,${item.noise_preview}`]]) {
    const img = element(view, `img.${cls}`);
    img.style.aspectRatio = `${item.width} / ${item.height}`;
    img.classList.add(item.width >= item.height ? "wide" : "tall");
    sharpenSmall(img);
    img.src = src;
  }
  const gain = Math.round(127 / Math.max(item.budget_levels, 1));
  element(view, ".noise-caption").textContent = `The change, ×${gain}`;
  const psnr = item.psnr_db === null ? "unchanged" : `PSNR ${item.psnr_db.toFixed(1)} dB`;
  element(view, ".stats").textContent =
    `${psnr} · largest change ${item.max_change_levels} of 255 levels (budget ${item.budget_levels})`;
  const link = element(view, "a.download");
  link.href = url;
  link.download = item.path.split("/").pop();
  batch.outputs.push({ path: item.path, blob });
  return view;
}

function showError(name, message) {
  const view = document.createElement("p");
  view.className = "error";
  view.textContent = `${name}: ${message}`;
  return view;
}

function uniquePath(path, taken) {
  let candidate = path;
  for (let k = 2; taken.has(candidate.toLowerCase()); k += 1) candidate = path.replace(/(\.png)?$/i, `-${k}.png`);
  taken.add(candidate.toLowerCase());
  return candidate;
}

async function downloadAll(batch, button) {
  button.disabled = true;
  const form = new FormData();
  const taken = new Set();
  for (const out of batch.outputs) form.append("file", out.blob, uniquePath(out.path, taken));
  const response = await fetch("/api/zip", { method: "POST", body: form });
  button.disabled = false;
  if (!response.ok) {
    batch.view.querySelector(".results").prepend(showError("Download all", (await response.json()).error));
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "protected.zip";
  document.body.append(link);
  link.click();
  link.remove();
}

async function runBatch(files) {
  batchCount += 1;
  const view = document.getElementById("batch-template").content.firstElementChild.cloneNode(true);
  const batch = { view, outputs: [] };
  element(view, ".batch-title").textContent = `Batch ${batchCount} · ${files.length} file${files.length > 1 ? "s" : ""}`;
  const bar = element(view, ".batch-progress");
  const status = element(view, ".batch-status");
  const button = element(view, ".download-all");
  button.addEventListener("click", () => downloadAll(batch, button));
  document.getElementById("batches").prepend(view);

  // One slot per file, so results appear in the order of the files whatever finishes first.
  const slots = files.map(() => element(view, ".results").appendChild(document.createElement("div")));
  const progress = files.map(() => 0);
  let next = 0;
  let done = 0;
  let refused = 0;
  const update = () => {
    bar.max = files.length;
    bar.value = progress.reduce((a, b) => a + b, 0);
    status.textContent = done < files.length ? `Protecting… ${done} of ${files.length} files done` : "";
  };
  update();
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index];
      const answer = await postFile(file, (sent) => { progress[index] = 0.5 * sent; update(); });
      if (answer.status === 200) {
        for (const item of answer.body.items) slots[index].append(await showItem(batch, item));
      } else {
        refused += 1;
        const reason = answer.body && answer.body.error ? answer.body.error : `error ${answer.status}`;
        slots[index].append(showError(file.name, reason));
      }
      progress[index] = 1;
      done += 1;
      update();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  const images = batch.outputs.length;
  status.textContent = `Done: ${images} image${images === 1 ? "" : "s"} protected` +
    (refused ? `, ${refused} file${refused === 1 ? "" : "s"} refused` : "") + ".";
  view.classList.add("finished");
  button.disabled = images === 0;
}

function setUpDropzone() {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  zone.addEventListener("click", (e) => { if (e.target !== input) input.click(); });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => {
    if (input.files.length) runBatch([...input.files]);
    input.value = "";
  });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) runBatch([...e.dataTransfer.files]);
  });
}

setUpDropzone();
fetch("/health").then((r) => r.json()).then(showProtection)
  .catch(() => { element(document, "#method-title").textContent = "the server did not answer"; });
