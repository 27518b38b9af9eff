"""The page `--http` serves at `/`: a remote for a phone's browser (no files, no scripts
from elsewhere). It reads `/musicscape/state` twice a second (the scene, the mode, the
switches), shows the picture that goes out live (`/musicscape/live.mjpg` at 10 frames a
second; taken up again once the app answers after a lost connection, or says no stream is
watched), and posts to `/musicscape/ACTION` as OSC would send; see http_remote.py. Its
Corners rows pin the canvas's corners (keystone) from where the projection is: picking a
corner shows it on the canvas (the test card with a ring on each corner, as C does), then
the arrows move it by a small or a big step; Done ends it. The picture keeps its own shape
(16:9 while the canvas fills a wide screen), square until the first has come.

`/screen` serves `SCREEN_PAGE`: the live picture alone, as large as the browser's window
holds it in its shape, on black with no pointer (`?fps=N` as the stream takes it; a double
click or tap goes full screen and back): a second screen from any browser, a smart TV's, a
Raspberry Pi's in kiosk mode, OBS's Browser Source. It opens the stream again once the app
answers after a lost connection (the app restarted, the network back), or says it watches
no stream (its remote served anew)."""

# Both pages' script for the picture's live stream in an <img>, opened again where the app
# was not reached (it restarted, the network came back) or says none is watched; each page
# takes it in where it says /* LIVE_PICTURE_SCRIPT */.
LIVE_PICTURE_SCRIPT = """
function livePicture(picture, fps) {
  let watching = false;  // the stream is open
  picture.onerror = () => { watching = false; };
  return {
    lost() { watching = false; },
    answered(state) {
      if (watching && state.live_viewers !== 0) return;  // 0: the app let this stream go
      picture.src = "/musicscape/live.mjpg?fps=" + encodeURIComponent(fps) + "&from=" + Date.now();
      watching = true;
    },
  };
}
"""

REMOTE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>musicscape remote</title>
<style>
  body { font-family: sans-serif; background: #16181d; color: #eee; margin: 0; padding: 12px; }
  h1 { font-size: 1.2em; margin: 0 0 8px; }
  #now { margin: 0 0 12px; color: #9cf; min-height: 1.2em; }
  #track { margin: -8px 0 12px; color: #ccc; min-height: 1.2em; }
  #error { color: #f88; min-height: 1.2em; }
  .row { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 12px; }
  button { flex: 1 1 28%; min-height: 3em; font-size: 1em; border: 0; border-radius: 6px;
           background: #2c3340; color: #eee; }
  button.on { background: #3f7fbf; }
  .four button { flex-basis: 20%; }
  label { display: block; margin: 8px 0 2px; }
  input[type=range] { width: 100%; }
  #picture { display: block; width: 100%; max-width: 360px; aspect-ratio: auto 1 / 1;
             object-fit: contain; margin: 0 auto 12px; background: #000; border-radius: 6px; }
</style>
</head>
<body>
<h1>musicscape</h1>
<div id="now">connecting…</div>
<div id="track"></div>
<img id="picture" alt="">
<div class="row" id="scenes"></div>
<div class="row">
  <button id="blackout" data-action="blackout">Blackout</button>
  <button id="freeze" data-action="freeze">Freeze</button>
  <button data-action="picture">Picture</button>
  <button data-action="previous">Previous</button>
  <button id="play" data-action="play">Play</button>
  <button data-action="next">Next file</button>
  <button id="loop" data-action="loop">Loop</button>
  <button id="shuffle" data-action="shuffle">Shuffle</button>
  <button id="record" data-action="record">Record</button>
  <button id="dmx" data-action="dmx">DMX lights</button>
  <button id="link" data-action="link">Ableton Link</button>
  <button id="midi_clock" data-action="midi_clock">MIDI clock</button>
  <button id="tap">Tap</button>
  <button id="forget_taps">Forget taps</button>
  <button id="test_card" data-action="test_card">Test card</button>
  <button id="fill" data-action="fill">Fill screen</button>
</div>
<label id="place_row" hidden>Place <span id="place"></span>
  <input type="range" id="position" min="0" max="1" step="0.1"></label>
<div id="recording_progress"></div>
<div class="row four" id="presets"></div>
<label>Corners (keystone): <span id="corners_state"></span></label>
<div class="row four" id="corner_picks"></div>
<div class="row four">
  <button id="corner_left">&#9664;</button>
  <button id="corner_up">&#9650;</button>
  <button id="corner_down">&#9660;</button>
  <button id="corner_right">&#9654;</button>
</div>
<div class="row">
  <button id="corner_big">Big steps</button>
  <button id="corners_square">Square again</button>
  <button id="pinning_done">Done</button>
</div>
<label>Reactivity <input type="range" id="reactivity" min="0" max="3" step="0.05"></label>
<label>Feel <input type="range" id="feel" min="0" max="1" step="0.01"></label>
<label>Cross-fade (s) <input type="range" id="crossfade" min="0.3" max="20" step="0.1"></label>
<label>Master <input type="range" id="master" min="0" max="1" step="0.01"></label>
<div id="error"></div>
<script>
/* LIVE_PICTURE_SCRIPT */
const prefix = "/musicscape/";
async function send(action, args) {
  const response = await fetch(prefix + action, {
    method: "POST", body: JSON.stringify(args === undefined ? [] : args)});
  const answer = await response.json();
  document.getElementById("error").textContent = answer.error || "";
}
function button(text, action, args) {
  const element = document.createElement("button");
  element.textContent = text;
  element.onclick = () => send(action, args);
  return element;
}
const cornerNames = ["top left", "top right", "bottom right", "bottom left"];
const square = [[0, 0], [1, 0], [1, 1], [0, 1]];
const smallStep = 0.002, bigStep = 0.02;  // shares of the screen: 4 and 38 px across 1080p
let corner = 1;
let bigSteps = false;
function clock(seconds) {  // 83.4 -> "1:23"
  const whole = Math.floor(seconds);
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}
let seeking = false;  // while the finger is on the slider, the state does not move it
function showPicked(number) {
  corner = number;
  document.querySelectorAll("#corner_picks button").forEach((element, index) => {
    element.classList.toggle("on", index + 1 === number);
  });
}
function nudge(right, down) {
  const step = bigSteps ? bigStep : smallStep;
  send("nudge_corner", [corner, right * step, down * step]);
}
let built = false;
const live = livePicture(document.getElementById("picture"), 10);
async function refresh() {
  let state;
  try {
    state = await (await fetch(prefix + "state")).json();
  } catch (error) {
    document.getElementById("now").textContent = "not connected";
    live.lost();
    return;
  }
  if (state.error) { document.getElementById("now").textContent = state.error; return; }
  if (!built) {
    const scenes = document.getElementById("scenes");
    scenes.appendChild(button("Auto", "auto"));
    state.categories.forEach((name) => scenes.appendChild(button(name, "hold", [name])));
    const presets = document.getElementById("presets");
    for (let slot = 1; slot <= 8; slot++) presets.appendChild(button("F" + slot, "preset", [slot]));
    const picks = document.getElementById("corner_picks");
    cornerNames.forEach((name, index) => {
      const element = document.createElement("button");
      element.textContent = (index + 1) + " " + name;
      element.onclick = () => { showPicked(index + 1); send("pinning", [index + 1]); };
      picks.appendChild(element);
    });
    showPicked(corner);
    for (const name of ["reactivity", "feel", "crossfade", "master"]) {
      const slider = document.getElementById(name);
      slider.value = state[name];
      slider.onchange = () => send(name, [parseFloat(slider.value)]);
    }
    built = true;
  }
  document.getElementById("now").textContent = !state.scene ? "no picture yet" :
    state.scene + " (" + state.mode +
    (state.track && state.track.scene_remembered ? ", remembered for this track" : "") + ")" +
    (state.tempo_bpm ? " · " + Math.round(state.tempo_bpm) + " BPM" : "") +
    " · " + Math.round(state.frames_per_second) + " fps";
  const track = state.track;
  document.getElementById("track").textContent = !track ? "" : !track.title ? track.file :
    track.title + (track.artist ? " — " + track.artist : "");
  if (state.scene) live.answered(state);
  document.getElementById("blackout").classList.toggle("on", state.blackout);
  document.getElementById("freeze").classList.toggle("on", state.freeze);
  document.getElementById("record").classList.toggle("on", state.recording);
  document.getElementById("recording_progress").textContent =
    state.recording_progress ? "recording " + state.recording_progress : "";
  document.getElementById("dmx").classList.toggle("on", state.dmx !== null);
  document.getElementById("link").classList.toggle("on", state.link.on);
  document.getElementById("midi_clock").classList.toggle("on", state.midi_clock.on);
  document.getElementById("tap").classList.toggle("on", state.tap.on);
  document.getElementById("test_card").classList.toggle("on", state.test_card);
  document.getElementById("fill").classList.toggle("on", state.fill);
  document.getElementById("play").classList.toggle("on", state.play);
  document.getElementById("loop").classList.toggle("on", state.loop);
  document.getElementById("shuffle").classList.toggle("on", state.shuffle);
  const playsFile = state.length_seconds !== undefined;
  document.getElementById("place_row").hidden = !playsFile;
  if (playsFile) {
    document.getElementById("place").textContent =
      clock(state.position_seconds) + " / " + clock(state.length_seconds);
    const slider = document.getElementById("position");
    slider.max = state.length_seconds;
    if (!seeking) slider.value = state.position_seconds;
  }
  const pinned = state.corners.some((point, index) =>
    point[0] !== square[index][0] || point[1] !== square[index][1]);
  document.getElementById("corners_state").textContent = (pinned ? "pinned" : "not pinned") +
    (state.pinning ? ", corner " + state.pinning + " picked on the canvas" : "");
  if (state.pinning) showPicked(state.pinning);  // as the canvas shows it (the keys, the mouse)
}
document.querySelectorAll("button[data-action]").forEach((element) => {
  element.onclick = () => send(element.dataset.action);
});
document.getElementById("tap").onpointerdown = () => send("tap");  // on the touch: in time
const position = document.getElementById("position");
position.oninput = () => { seeking = true; };
position.onchange = () => { seeking = false; send("seek", [parseFloat(position.value)]); };
document.getElementById("forget_taps").onclick = () => send("tap", [0]);
document.getElementById("corner_left").onclick = () => nudge(-1, 0);
document.getElementById("corner_up").onclick = () => nudge(0, -1);
document.getElementById("corner_down").onclick = () => nudge(0, 1);
document.getElementById("corner_right").onclick = () => nudge(1, 0);
document.getElementById("corner_big").onclick = () => {
  bigSteps = !bigSteps;
  document.getElementById("corner_big").classList.toggle("on", bigSteps);
};
document.getElementById("corners_square").onclick = () => send("corner", [0]);
document.getElementById("pinning_done").onclick = () => send("pinning", [0]);
refresh();
setInterval(refresh, 500);
</script>
</body>
</html>
""".replace("/* LIVE_PICTURE_SCRIPT */", LIVE_PICTURE_SCRIPT)

SCREEN_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>musicscape</title>
<style>
  html, body { margin: 0; height: 100%; background: #000; overflow: hidden; cursor: none; }
  #picture { display: block; width: 100vw; height: 100vh; object-fit: contain; }
</style>
</head>
<body>
<img id="picture" alt="">
<script>
/* LIVE_PICTURE_SCRIPT */
const fps = new URLSearchParams(location.search).get("fps") || "30";
const live = livePicture(document.getElementById("picture"), fps);
async function look() {  // the app answers: (re)open the stream where it is not open
  try {
    live.answered(await (await fetch("/musicscape/state")).json());
  } catch (error) {
    live.lost();
  }
}
document.body.ondblclick = () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen();
};
look();
setInterval(look, 2000);
</script>
</body>
</html>
""".replace("/* LIVE_PICTURE_SCRIPT */", LIVE_PICTURE_SCRIPT)
