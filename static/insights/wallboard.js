/*
 * CEA live wallboard (templates/insights/wallboard/wallboard.html). Plain script, no build step.
 *
 * The server renders the board; this script keeps it live over ws/insights/wallboard/<team>/
 * (protocol in insights/wallboard/consumers.py): each frame carries the whole board, rendered,
 * which replaces the one shown. The first frame after a (re)connect is a full snapshot, so the
 * board is right again whatever was missed while the network was down. Between frames the longest
 * waits keep counting up in the browser (from the server's enqueue time and clock). The full-screen
 * button (or the "f" key) shows the board alone in large type for a wall TV (the Fullscreen API).
 */
(function () {
  "use strict";
  var wallboard = document.getElementById("wallboard");
  if (!wallboard) return;
  var board = document.getElementById("wallboard-board");
  var connection = document.getElementById("wallboard-connection");
  var fullscreen = document.getElementById("wallboard-fullscreen");

  // Server clock minus browser clock, so waits count from the server's times.
  var clockOffset = offsetFrom(wallboard.dataset.serverTime);
  var socket = null, attempt = 0, retryTimer = null, pinger = null, refused = false;

  function offsetFrom(serverTime) {
    var server = Date.parse(serverTime || "");
    return isNaN(server) ? 0 : server - Date.now();
  }

  function setConnection(state, text) {
    connection.dataset.state = state;
    connection.textContent = text;
  }

  // --- The live connection ------------------------------------------------------------------

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    setConnection("connecting", attempt ? gettext("Reconnecting…") : gettext("Connecting…"));
    socket = new WebSocket(scheme + location.host + wallboard.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempt = 0;
      pinger = setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "ping" }));
      }, 25000);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame.type === "wallboard.snapshot" || frame.type === "wallboard.update") {
        show(frame);
        setConnection("open", gettext("Live"));
      } else if (frame.type === "error") {
        setConnection("error", frame.message || gettext("Error"));
      }
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pinger);
      socket = null;
      // 4401 signed out, 4403 not allowed: reconnecting would be refused again.
      if (event.code === 4401 || event.code === 4403) {
        refused = true;
        setConnection("refused", event.code === 4401 ? gettext("Signed out: sign in again") : gettext("Not allowed"));
        return;
      }
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setConnection("closed", gettext("Connection lost, retrying…"));
      retryTimer = setTimeout(connect, delay);
    });
  }

  function show(frame) {
    if (frame.board && frame.board.computed_at) clockOffset = Date.parse(frame.board.computed_at) - Date.now();
    if (typeof frame.html === "string") board.innerHTML = frame.html;
    wallboard.dataset.updatedAt = frame.board ? frame.board.computed_at : "";
    tick();
  }

  // --- Waits count up between frames --------------------------------------------------------

  function waitText(seconds) {
    var whole = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(whole / 3600), minutes = Math.floor((whole % 3600) / 60), secs = whole % 60;
    var mmss = (hours ? String(minutes).padStart(2, "0") : String(minutes)) + ":" + String(secs).padStart(2, "0");
    return hours ? hours + ":" + mmss : mmss;
  }

  function tick() {
    var now = Date.now() + clockOffset;
    board.querySelectorAll("[data-oldest]").forEach(function (cell) {
      var oldest = Date.parse(cell.dataset.oldest);
      if (!isNaN(oldest)) cell.textContent = waitText((now - oldest) / 1000);
    });
  }

  // --- Full screen (kiosk) ------------------------------------------------------------------
  // The kiosk layout (large type, the board alone) follows the button; the browser's full screen
  // comes with it where the Fullscreen API is allowed. The browser settles each request later, and
  // a supervisor may press the key again before it has: one request at a time, and when one
  // settles the browser follows whatever the kiosk is by then. Only a leaving the page did not ask
  // for (the browser's own Esc) ends the kiosk.
  var kiosk = false, entering = false, exiting = false;

  function follow() {
    var element = document.fullscreenElement;
    if (kiosk && !element && !entering && !exiting && wallboard.requestFullscreen) {
      entering = true;
      var asked = wallboard.requestFullscreen();
      if (asked && asked.then) {
        asked.then(function () { entering = false; follow(); }, function () { entering = false; });
      } else {
        entering = false;
      }
    } else if (!kiosk && element === wallboard && !exiting && document.exitFullscreen) {
      exiting = true;
      var left = document.exitFullscreen();
      if (left && left.catch) left.catch(function () { exiting = false; });
    }
  }

  function setKiosk(on) {
    kiosk = on;
    wallboard.classList.toggle("kiosk", on);
    fullscreen.setAttribute("aria-pressed", on ? "true" : "false");
    fullscreen.textContent = on ? gettext("Exit full screen") : gettext("Full screen");
    follow();
  }

  fullscreen.addEventListener("click", function () { setKiosk(!kiosk); });
  document.addEventListener("fullscreenchange", function () {
    if (document.fullscreenElement) {
      follow();  // entered: the kiosk may have been left while the request was settling
    } else if (exiting) {
      exiting = false;
      follow();  // our own leaving: the kiosk may have been asked for again meanwhile
    } else if (kiosk) {
      setKiosk(false);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "f" && !event.ctrlKey && !event.metaKey && !event.altKey && event.target === document.body) {
      setKiosk(!kiosk);
    } else if (event.key === "Escape" && kiosk) {
      setKiosk(false);
    }
  });

  setInterval(tick, 1000);
  window.addEventListener("online", function () {
    if (!socket && !refused) { clearTimeout(retryTimer); attempt = 0; connect(); }
  });
  connect();
})();
