/*
 * The desk's side of web chats (templates/engagement/desktop/partials/_chat.html), on the desk's socket
 * (window.ceaDesk from desktop.js; protocol in engagement/desktop/chat.py):
 * - typing both ways: the agent's typing is sent at most every 2 s (a stop at once); the customer's
 *   shows "The customer is typing…" for 6 s after their last pulse, or until they stop or send;
 * - read receipts: while a chat's panel is shown (and the browser tab visible), the agent's read mark
 *   follows the customer's last message; the customer's mark shows as "Read" on the agent's messages;
 * - files the customer sent, as downloads on their message;
 * - the live context panel's structured values (self-service state, handover, answers …) rendered for
 *   a person, the raw JSON in a <details> (as engagement/desktop/context_display.py renders them).
 */
(function () {
  "use strict";
  var panels = document.getElementById("conversation-panels");
  if (!panels || !window.ceaDesk) return;
  var TYPING_EVERY_MS = 2000, TYPING_SHOWN_MS = 6000;
  var typingSent = {}; // conversation id → when the last pulse went
  var typingTimers = {}; // conversation id → the timer that hides the customer's "typing…"
  var readTimer = null;

  var make = window.ceaDesk.make, cssId = window.ceaDesk.cssId, hhmm = window.ceaDesk.hhmm;
  function panelOf(id) { return panels.querySelector('.conversation-panel[data-conversation-id="' + cssId(id) + '"]'); }
  function stateOf(panel) { return panel && panel.querySelector(".chat-state"); }

  // --- Typing ---------------------------------------------------------------------------------------

  function sendTyping(panel, typing) {
    var id = panel.dataset.conversationId;
    if (panel.dataset.status !== "active") return;
    var now = Date.now();
    if (typing && now - (typingSent[id] || 0) < TYPING_EVERY_MS) return;
    if (!typing && !typingSent[id]) return; // nothing to stop
    if (window.ceaDesk.send({ action: "typing", conversation: Number(id), typing: typing })) {
      typingSent[id] = typing ? now : 0;
    }
  }
  panels.addEventListener("input", function (event) {
    var panel = event.target.closest(".conversation-panel");
    if (!panel || !stateOf(panel) || !event.target.matches("form.reply-form textarea")) return;
    sendTyping(panel, event.target.value.trim() !== "");
  });
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    var panel = form && form.matches && form.matches("form.reply-form") && form.closest(".conversation-panel");
    if (panel && stateOf(panel)) sendTyping(panel, false);
  });

  function showTyping(id, typing) {
    var state = stateOf(panelOf(id));
    if (!state) return;
    var line = state.querySelector(".chat-typing");
    clearTimeout(typingTimers[id]);
    line.hidden = !typing;
    if (typing) typingTimers[id] = setTimeout(function () { line.hidden = true; }, TYPING_SHOWN_MS);
  }

  // --- Read receipts --------------------------------------------------------------------------------

  function markRead(panel) {
    var state = stateOf(panel);
    if (!state) return;
    var upTo = Number(state.dataset.customerReadUpTo) || 0;
    var at = state.dataset.customerReadAt;
    Array.prototype.forEach.call(panel.querySelectorAll('.messages .message[data-author-kind="agent"]'), function (item) {
      var read = Number(item.dataset.messageId) <= upTo;
      var tag = item.querySelector(".chat-read-tag");
      if (read && !tag) {
        tag = make("small", "chat-read-tag", gettext("Read"));
        tag.dataset.testid = "message-read";
        item.querySelector(".message-meta").appendChild(tag);
      } else if (!read && tag) {
        tag.remove();
      }
    });
    var line = state.querySelector(".chat-read");
    if (upTo && at) {
      line.textContent = gettext("Read by the customer") + " ";
      var time = make("time", null, hhmm(at));
      time.setAttribute("datetime", at);
      line.appendChild(time);
      line.hidden = false;
    }
  }

  function applyRead(frame) {
    var state = stateOf(panelOf(frame.conversation));
    if (!state) return;
    var field = frame.reader === "customer" ? "customerReadUpTo" : "agentReadUpTo";
    if ((Number(frame.up_to) || 0) <= (Number(state.dataset[field]) || 0)) return; // an older receipt
    state.dataset[field] = String(frame.up_to);
    if (frame.reader === "customer") {
      state.dataset.customerReadAt = frame.read_at || "";
      markRead(panelOf(frame.conversation));
    }
  }

  // The agent reads what the shown panel shows: its last customer message, once the browser tab is visible.
  function sendRead() {
    if (document.visibilityState !== "visible") return;
    Array.prototype.forEach.call(panels.querySelectorAll(".conversation-panel:not([hidden])"), function (panel) {
      var state = stateOf(panel);
      if (!state || panel.dataset.status !== "active") return;
      var customer = panel.querySelectorAll('.messages .message[data-author-kind="customer"]');
      if (!customer.length) return;
      var last = Number(customer[customer.length - 1].dataset.messageId) || 0;
      if (last <= (Number(state.dataset.agentReadUpTo) || 0) || Number(state.dataset.readSent) >= last) return;
      if (window.ceaDesk.send({ action: "read", conversation: Number(panel.dataset.conversationId), up_to: last })) {
        state.dataset.readSent = String(last);
      }
    });
  }
  function soon() {
    clearTimeout(readTimer);
    readTimer = setTimeout(sendRead, 300);
  }
  document.addEventListener("visibilitychange", soon);
  new MutationObserver(soon).observe(panels, { childList: true, subtree: true, attributes: true, attributeFilter: ["hidden"] });

  // --- Files the customer sent ----------------------------------------------------------------------

  function addAttachments(message) {
    var files = message && message.payload && message.payload.attachments;
    var panel = files && panelOf(message.conversation);
    var state = stateOf(panel);
    var item = panel && panel.querySelector('.message[data-message-id="' + cssId(message.id) + '"]');
    if (!state || !item || item.querySelector(".message-attachments")) return;
    var list = make("ul", "plain message-attachments");
    list.dataset.testid = "message-attachments";
    files.forEach(function (file) {
      var entry = make("li");
      var link = make("a", null, file.filename);
      link.href = state.dataset.attachmentUrl.replace("/0/files/SHA/", "/" + cssId(message.id) + "/files/" + cssId(file.sha256) + "/");
      link.setAttribute("download", "");
      link.dataset.testid = "message-attachment";
      entry.appendChild(link);
      entry.appendChild(document.createTextNode(" "));
      entry.appendChild(make("small", "muted", file.content_type + " · " + Math.max(1, Math.round(file.size / 1024)) + " KB"));
      list.appendChild(entry);
    });
    item.appendChild(list);
  }

  // --- The live context, readable ---------------------------------------------------------------------

  var ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
  function label(key) {
    var words = String(key).replace(/[_-]/g, " ").trim();
    return words ? words.charAt(0).toUpperCase() + words.slice(1) : String(key);
  }
  function readable(value, depth) {
    if (value === null || value === undefined || value === "") return make("span", "muted", "—");
    if (typeof value === "boolean") return document.createTextNode(value ? gettext("yes") : gettext("no"));
    if (typeof value === "string") {
      var moment = ISO_TIME.test(value) ? new Date(value) : null;
      if (moment && !isNaN(moment.getTime())) {
        var time = make("time", null, moment.toLocaleString(document.documentElement.lang || [], { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }));
        time.setAttribute("datetime", value);
        return time;
      }
      return document.createTextNode(value);
    }
    if (typeof value !== "object") return document.createTextNode(String(value));
    if (depth >= 4) return make("code", null, JSON.stringify(value));
    var keys = Array.isArray(value) ? value : Object.keys(value);
    if (!keys.length) return make("span", "muted", gettext("none"));
    var box;
    if (Array.isArray(value)) {
      box = make("ul", "context-list");
      value.forEach(function (item) { var li = make("li"); li.appendChild(readable(item, depth + 1)); box.appendChild(li); });
      return box;
    }
    box = make("dl", "context-fields");
    keys.forEach(function (key) {
      box.appendChild(make("dt", null, label(key)));
      var dd = make("dd");
      dd.appendChild(readable(value[key], depth + 1));
      box.appendChild(dd);
    });
    return box;
  }
  function renderContext(scope, id, version, values) {
    var selector = '.live-context .context[data-scope="' + cssId(scope) + '"][data-id="' + cssId(id) + '"]';
    Array.prototype.forEach.call(panels.querySelectorAll(selector), function (box) {
      if (String(box.dataset.version) !== String(version)) return; // desktop.js kept a newer one
      Array.prototype.forEach.call(box.querySelectorAll(".context-values > dt"), function (dt) {
        var key = dt.textContent, value = (values || {})[key], dd = dt.nextElementSibling;
        if (!dd || dd.tagName !== "DD") return;
        dd.dataset.key = key;
        if (value === null || typeof value !== "object") return; // a text stays as desktop.js wrote it
        dd.textContent = "";
        dd.appendChild(readable(value, 0));
        var raw = make("details", "context-raw");
        raw.appendChild(make("summary", null, gettext("Raw")));
        raw.appendChild(make("pre", null, JSON.stringify(value, null, 2)));
        dd.appendChild(raw);
      });
    });
  }

  // --- Frames -----------------------------------------------------------------------------------------

  window.ceaDesk.listen(function (frame) {
    switch (frame.type) {
      case "conversation.typing": showTyping(frame.conversation, frame.typing); break;
      case "conversation.read": applyRead(frame); break;
      case "conversation.message":
        if (frame.message && frame.message.author_kind === "customer") showTyping(frame.message.conversation, false);
        addAttachments(frame.message);
        markRead(panelOf(frame.message && frame.message.conversation));
        break;
      case "subscribed":
        (frame.messages || []).forEach(addAttachments);
        if (frame.context) renderContext(frame.scope, frame.id, frame.context.version, frame.context.values);
        break;
      case "context.changed": renderContext(frame.scope, frame.id, frame.version, frame.values); break;
      default: break;
    }
  });
  Array.prototype.forEach.call(panels.querySelectorAll(".conversation-panel"), markRead);
  // A panel opened later (an accepted offer) comes with its own receipts to show.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      Array.prototype.forEach.call(change.addedNodes, function (node) {
        if (node.nodeType === 1 && node.classList.contains("conversation-panel")) markRead(node);
      });
    });
  }).observe(panels, { childList: true });
}());
