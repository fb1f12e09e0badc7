/*
 * CEA adherence page (templates/engagement/wfm/adherence.html). Plain script, no build step.
 *
 * Keeps ws/wfm/adherence/ open: its pushes carry the changed agents of the user's teams, and the page
 * asks htmx to read the permission-checked live fragment again (at most once a second; the fragment
 * also reloads on a timer as a fallback). After a network drop it reconnects with backoff; a refusal
 * (4401, 4403) stops it.
 */
(function () {
  "use strict";
  var root = document.getElementById("adherence");
  if (!root) return;
  var connection = document.getElementById("adherence-connection");
  var socket = null, attempt = 0, pinger = null, refused = false, pending = null, lastSent = 0;

  function setConnection(state, text) {
    if (!connection) return;
    connection.dataset.state = state;
    connection.textContent = text;
  }
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      lastSent = Date.now();
      if (window.htmx) window.htmx.trigger(document.body, "adherence:changed");
    }, Math.max(0, 1000 - (Date.now() - lastSent)));
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempt = 0;
      setConnection("open", gettext("Live"));
      pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "ping" }));
      }, 20000);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      if (frame.type === "adherence.changed") refresh();
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pinger);
      if (event.code === 4401 || event.code === 4403) {
        refused = true;
        setConnection("closed", gettext("Not live: sign in again"));
        return;
      }
      if (refused) return;
      setConnection("connecting", gettext("Reconnecting…"));
      attempt += 1;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempt)));
    });
  }
  connect();
})();
