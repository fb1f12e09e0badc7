/*
 * CEA supervisor's tools (templates/engagement/supervision/). Plain script, no build step.
 *
 * The overview (#supervision) keeps ws/supervision/ open: its pushes only say what changed
 * ("conversations" or "agents"), and the page asks htmx to read that permission-checked fragment
 * again (at most once a second, never while a form in it has the focus; every 15 s as a fallback). The monitor page (#monitor)
 * follows one conversation's messages on ws/context/ (read-only): messages after the last id it
 * shows, again after a reconnect. Forms are sent by htmx; a whisper or a message sent clears its
 * text. After a network drop both reconnect with backoff.
 */
(function () {
  "use strict";
  var overview = document.getElementById("supervision");
  var monitor = document.getElementById("monitor");
  var root = overview || monitor;
  if (!root) return;

  var KIND_LABELS = { customer: gettext("Customer"), agent: gettext("Agent"), bot: gettext("Self-service"), system: gettext("System") };
  var STATUS_LABELS = { self_service: gettext("In self-service"), queued: gettext("Waiting for an agent"), active: gettext("With an agent"), ended: gettext("Ended") };
  var connection = document.getElementById(overview ? "supervision-connection" : "monitor-connection");
  var socket = null, attempt = 0, pinger = null, refused = false;
  var pending = {}, lastSent = {};

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setConnection(state, text) {
    if (!connection) return;
    connection.dataset.state = state;
    connection.textContent = text;
  }
  function hhmm(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return (date.getHours() < 10 ? "0" : "") + date.getHours() + ":" + (date.getMinutes() < 10 ? "0" : "") + date.getMinutes();
  }

  // --- The overview: read a fragment again when the server says it changed ---------------------

  var FRAGMENTS = { conversations: "live-conversations", agents: "supervised-agents" };

  function refresh(what) {
    var event = what === "agents" ? "supervision:agents" : "supervision:changed";
    var wait = 1000 - (Date.now() - (lastSent[what] || 0));
    if (pending[what]) return;
    pending[what] = setTimeout(function () {
      pending[what] = null;
      // Not while the supervisor is using a form in it, or has a choice or a note in one not yet
      // sent (a refresh would lose it): later.
      var container = document.getElementById(FRAGMENTS[what]);
      if (container && (editing(container) || unsent(container))) {
        refresh(what);
        return;
      }
      lastSent[what] = Date.now();
      if (window.htmx) window.htmx.trigger(document.body, event);
    }, Math.max(0, wait));
  }

  function editing(container) {
    return container.contains(document.activeElement) && document.activeElement !== document.body;
  }

  function unsent(container) {
    var fields = container.querySelectorAll("select, input, textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.tagName === "SELECT") {
        var initial = 0; // with no option marked selected, a select starts on its first
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].defaultSelected) { initial = j; break; }
        }
        if (field.options.length && field.selectedIndex !== initial) return true;
      } else if (field.type !== "hidden" && field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  // A refresh asked for before the supervisor started on a form may answer after: keep their form.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var config = event.detail.requestConfig;
    if (!target || !config || config.verb !== "get") return;
    Object.keys(FRAGMENTS).forEach(function (what) {
      if (target.id === FRAGMENTS[what] && (editing(target) || unsent(target))) {
        event.detail.shouldSwap = false;
        refresh(what);
      }
    });
  });

  if (overview) {
    // Pushes say when to read again; this covers a push missed while reconnecting.
    var every = Math.max(5, parseInt(overview.dataset.refreshSeconds, 10) || 15) * 1000;
    setInterval(function () { refresh("conversations"); refresh("agents"); }, every);
  }

  // --- The monitor: the conversation's messages ------------------------------------------------

  var conversationId = monitor ? monitor.dataset.conversationId : null;
  var list = monitor ? document.getElementById("monitor-messages") : null;
  var statusTag = monitor ? document.getElementById("monitor-status") : null;

  function lastMessageId() { return Number(monitor.dataset.lastMessageId) || 0; }

  function messageElement(message) {
    var payload = message.payload || {};
    var item = make("li", "message " + (message.direction || "") + (payload.event ? " event" : "") + (message.internal ? " internal" : ""));
    item.dataset.messageId = message.id;
    item.dataset.authorKind = message.author_kind;
    if (message.internal) item.dataset.internal = "true";
    if (payload.event) item.dataset.event = payload.event;
    var meta = make("div", "message-meta");
    meta.appendChild(make("span", "message-author", message.author_name || KIND_LABELS[message.author_kind] || message.author_kind));
    var time = make("time", null, hhmm(message.sent_at));
    time.setAttribute("datetime", message.sent_at);
    meta.appendChild(time);
    if (payload.event) meta.appendChild(make("span", "tag event-tag", payload.event));
    item.appendChild(meta);
    item.appendChild(make("div", "message-body", message.body));
    return item;
  }

  function addMessage(message) {
    if (!message || String(message.conversation) !== String(conversationId)) return;
    if (list.querySelector('.message[data-message-id="' + Number(message.id) + '"]')) return;
    var item = messageElement(message);
    // Keep id order: a message pushed live may overtake the ones a reconnect asks for.
    var after = null;
    for (var child = list.lastElementChild; child; child = child.previousElementSibling) {
      if (Number(child.dataset.messageId) < Number(message.id)) break;
      after = child;
    }
    list.insertBefore(item, after);
    monitor.dataset.lastMessageId = Math.max(lastMessageId(), Number(message.id));
    list.scrollTop = list.scrollHeight;
  }

  function applyStatus(status) {
    if (!statusTag || !status) return;
    statusTag.dataset.status = status;
    statusTag.textContent = STATUS_LABELS[status] || status;
  }

  // --- The socket --------------------------------------------------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case "supervision.ready": refresh("conversations"); refresh("agents"); break;
      case "supervision.changed": refresh(frame.what); break;
      case "subscribed": (frame.messages || []).forEach(addMessage); if (frame.more) subscribe(); break;
      case "conversation.message":
        // A message whose previous the monitor does not show: a push was lost in between, fetch it.
        if (monitor && Number(frame.previous) > lastMessageId() && frame.message && String(frame.message.conversation) === String(conversationId)) subscribe();
        addMessage(frame.message);
        break;
      case "conversation.status": applyStatus(frame.status); break;
      case "error": if (frame.code === "forbidden" || frame.code === "not_found") refused = true; break;
      // A push lost while the socket stayed open (the server's Redis restarting): fetch what is missing.
      case "pong": if (monitor && frame.latest && Number(frame.latest[conversationId]) > lastMessageId()) subscribe(); break;
      default: break; // unsubscribed
    }
  }

  function subscribe() {
    if (!socket || socket.readyState !== WebSocket.OPEN || !monitor) return;
    socket.send(JSON.stringify({ action: "subscribe", scope: "conversation_messages", id: Number(conversationId), after: lastMessageId() }));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.socketPath);
    socket.addEventListener("open", function () {
      attempt = 0;
      setConnection("open", gettext("Live"));
      subscribe();
      pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "ping" }));
      }, Math.max(5, parseInt(root.dataset.heartbeatSeconds, 10) || 20) * 1000);
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (error) { return; }
      handle(frame);
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pinger);
      // 4401 not signed in, 4403 not allowed: trying again will not help.
      if (event.code === 4401 || event.code === 4403 || refused) {
        setConnection("closed", "Not live (reload the page)");
        return;
      }
      setConnection("connecting", gettext("Reconnecting…"));
      attempt += 1;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 5))) * (0.5 + Math.random() / 2));
    });
  }

  // A whisper or a message that went out clears its text.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!form || !form.matches || !form.matches(".whisper-form, .say-form")) return;
    if (event.detail.successful) form.reset();
  });

  connect();
})();
