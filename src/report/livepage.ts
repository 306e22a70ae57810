/**
 * The live page of `asla serve`: plain HTML and script, no external resources.
 * It listens to /events and reloads pictures of the selected agent when it
 * reports a new episode (at most every 1.5 s, swapping each picture only once
 * its new version has loaded, so nothing flickers).
 */
export const LIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>asla live</title>
<style>
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:20px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}
#status{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}tr.agent{cursor:pointer}tr.sel{background:#fff3c4}
.bar{display:inline-block;width:90px;height:8px;background:#eee;vertical-align:middle;margin-right:6px}.bar>span{display:block;height:8px;background:#4c78a8}
.row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}
img{max-width:100%;height:auto}
#stepbox button{font-size:13px;margin-right:4px}#stepbox input{width:260px;vertical-align:middle}
</style></head><body>
<h1>asla live: <span id="dir"></span></h1>
<div id="status">connecting…</div>
<h2>Progress</h2>
<table id="agents"><thead><tr><th>agent</th><th>episodes</th><th>last E (eV/atom)</th><th>best E (eV/atom)</th><th>at episode</th><th>reference</th><th>built reference</th></tr></thead><tbody></tbody></table>
<h2>Latest build: episode <span id="latest-episode">–</span> <span id="latest-info"></span></h2>
<div class="row">
<div id="stepbox"><div><button id="prev">◀</button><button id="play">▶ play</button><button id="next">▶</button><input id="step" type="range" min="1" max="1" value="1"> <span id="steplabel"></span></div>
<img id="stepimg" alt="Q-maps of a step of the latest build"></div>
<div><img id="best" alt="best structure"></div>
</div>
<img id="build" alt="latest build step by step">
<h2>Energy</h2>
<img id="energy" alt="energy per episode">
<script>
const $ = (id) => document.getElementById(id);
const st = { agents: [], sel: null, manual: false, episode: null, actions: 0, step: 1, playing: null, pending: false, last: 0 };
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]); }
function fmt(x) { return x === null || x === undefined ? '–' : x.toFixed(4); }
function swap(img, src) {
  if (img.dataset.want === src) return;
  img.dataset.want = src;
  const pre = new Image();
  pre.onload = () => { if (img.dataset.want === src) { img.src = src; img.dataset.loaded = src; } };
  pre.src = src;
}
function renderTable() {
  const tb = document.querySelector('#agents tbody');
  tb.innerHTML = '';
  for (const a of st.agents) {
    const tr = document.createElement('tr');
    tr.className = 'agent' + (a.agent === st.sel ? ' sel' : '');
    tr.dataset.agent = a.agent;
    const pct = a.target ? Math.min(100, 100 * a.episodes / a.target) : 0;
    tr.innerHTML = '<td>' + esc(a.name) + '</td><td><span class="bar"><span style="width:' + pct.toFixed(1) + '%"></span></span>' + a.episodes + (a.target ? ' / ' + a.target : '') +
      '</td><td>' + fmt(a.lastEnergy) + '</td><td>' + fmt(a.bestEnergy) + '</td><td>' + (a.bestEpisode ?? '–') + '</td><td>' + fmt(a.referenceEnergy) + '</td><td>' + (a.firstReference ?? 'not yet') + '</td>';
    if (a.error) tr.title = a.error;
    tr.onclick = () => { st.sel = a.agent; st.manual = true; renderTable(); refresh(true); };
    tb.appendChild(tr);
  }
}
function showStep() {
  if (st.episode === null) return;
  const n = st.actions + 1;
  st.step = Math.max(1, Math.min(n, st.step));
  $('step').max = n; $('step').value = st.step;
  $('steplabel').textContent = st.step <= st.actions ? 'step ' + st.step + ' of ' + st.actions : 'finished';
  swap($('stepimg'), '/picture/step.svg?agent=' + st.sel + '&episode=' + st.episode + '&step=' + st.step);
}
function refresh(now) {
  const t = Date.now();
  if (!now && t - st.last < 1500) { if (!st.pending) { st.pending = true; setTimeout(() => { st.pending = false; refresh(true); }, 1500 - (t - st.last)); } return; }
  st.last = t;
  const a = st.agents.find((x) => x.agent === st.sel);
  if (!a || a.episodes === 0) return;
  st.episode = a.episodes; st.actions = a.actions;
  $('latest-episode').textContent = a.episodes;
  $('latest-info').textContent = (st.agents.length > 1 ? '(agent ' + a.name + ') ' : '') + (a.lastEnergy === null ? 'failed' : a.lastEnergy.toFixed(4) + ' eV/atom');
  document.body.dataset.episode = a.episodes;
  const q = '?agent=' + st.sel;
  swap($('energy'), '/picture/energy.svg' + q + '&v=' + a.episodes);
  if (a.bestEnergy !== null) swap($('best'), '/picture/best.svg' + q + '&v=' + a.bestEpisode);
  swap($('build'), '/picture/build.svg' + q + '&episode=' + a.episodes);
  showStep();
}
function update(a) {
  const k = st.agents.findIndex((x) => x.agent === a.agent);
  if (k >= 0) st.agents[k] = a; else st.agents.push(a);
  if (!st.manual) st.sel = st.agents.reduce((b, x) => (x.updated > b.updated ? x : b), st.agents[0]).agent;
  renderTable();
  if (a.agent === st.sel) refresh(false);
}
$('prev').onclick = () => { st.step--; showStep(); };
$('next').onclick = () => { st.step++; showStep(); };
$('step').oninput = () => { st.step = Number($('step').value); showStep(); };
$('play').onclick = () => {
  if (st.playing) { clearInterval(st.playing); st.playing = null; $('play').textContent = '▶ play'; return; }
  $('play').textContent = '❚❚ pause';
  st.playing = setInterval(() => { st.step = st.step > st.actions ? 1 : st.step + 1; showStep(); }, 900);
};
const es = new EventSource('/events');
es.addEventListener('hello', (e) => {
  const d = JSON.parse(e.data);
  $('dir').textContent = d.dir + (d.ensemble ? ' (' + d.agents.length + ' agents)' : '');
  st.agents = d.agents;
  if (st.sel === null) st.sel = st.agents.reduce((b, x) => (x.updated > b.updated ? x : b), st.agents[0]).agent;
  renderTable(); refresh(true);
  const bad = d.agents.filter((a) => a.error);
  $('status').textContent = 'connected · following ' + d.agents.length + ' agent(s)' + (bad.length ? ' · cannot read ' + bad.map((a) => a.name + ': ' + a.error).join('; ') : '');
});
es.addEventListener('episode', (e) => {
  const d = JSON.parse(e.data);
  update(d);
  $('status').textContent = 'connected · last episode ' + d.episodes + ' of ' + d.name + ' at ' + new Date().toLocaleTimeString();
});
es.onerror = () => { $('status').textContent = 'disconnected: retrying…'; };
</script></body></html>
`;
