/*
 * CEA web chat widget. Embed with one tag:
 *   <script src="https://<cea>/static/engagement/widget.js" data-site-key="site_…" async></script>
 * Optional: data-cea-origin="https://cea.example" when the script is served from elsewhere (a CDN).
 *
 * Talks to wss://<cea>/ws/webchat/ (protocol in engagement/webchat/consumers.py). The visitor token
 * and unacknowledged messages live in localStorage, so a reload continues the same chat; after a
 * network drop it reconnects with backoff, resends unacknowledged messages with their client id
 * (the server stores each once) and asks for what it missed ("resume" after the last id seen).
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site-key][src*='widget.js']");
  if (!script || window.ceaWebchat) return;
  var siteKey = script.getAttribute("data-site-key") || "";
  var origin = script.getAttribute("data-cea-origin") || new URL(script.src, location.href).origin;
  var socketUrl = origin.replace(/^http/, "ws") + "/ws/webchat/";
  var prefix = "cea-webchat:" + siteKey + ":";

  var memory = {};
  function load(name) {
    try { return window.localStorage.getItem(prefix + name); } catch (e) { return memory[name] || null; }
  }
  function save(name, value) {
    try {
      if (value === null) window.localStorage.removeItem(prefix + name);
      else window.localStorage.setItem(prefix + name, value);
    } catch (e) { memory[name] = value; }
  }
  function parse(text, fallback) {
    try { return JSON.parse(text) || fallback; } catch (e) { return fallback; }
  }

  var token = load("token");
  var pending = parse(load("pending"), []); // [{client_id, body}] not yet acknowledged
  var conversation = null, lastId = 0, status = null, welcomed = false;
  var socket = null, attempt = 0, retryTimer = null, pinger = null, stopped = false;
  var shown = {}; // message id → element

  // --- The panel -----------------------------------------------------------------------------
  var css = [
    ".cea-wc{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif;color:#1d2430}",
    ".cea-wc *{box-sizing:border-box}",
    ".cea-wc-launcher{width:56px;height:56px;border-radius:50%;border:0;background:#1f5fbf;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative}",
    ".cea-wc-unread{position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;background:#e5484d}",
    ".cea-wc-panel{position:absolute;right:0;bottom:70px;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}",
    ".cea-wc-panel[hidden]{display:none}",
    ".cea-wc-head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1f5fbf;color:#fff}",
    ".cea-wc-title{font-weight:600;flex:1}.cea-wc-status{font-size:12px;opacity:.85}",
    ".cea-wc-head button{background:none;border:0;color:#fff;cursor:pointer;font-size:13px}",
    ".cea-wc-list{list-style:none;margin:0;padding:12px;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px}",
    ".cea-wc-msg{max-width:80%;padding:7px 10px;border-radius:10px;background:#eef1f5;white-space:pre-wrap;word-wrap:break-word}",
    ".cea-wc-msg small{display:block;font-size:11px;opacity:.7}",
    ".cea-wc-customer{align-self:flex-end;background:#1f5fbf;color:#fff}",
    ".cea-wc-msg[data-state=pending]{opacity:.6}.cea-wc-msg[data-state=failed]{background:#fde2e2;color:#8b1d1d}",
    ".cea-wc-note{align-self:center;font-size:12px;color:#5b6472;text-align:center}",
    ".cea-wc-error{padding:0 12px;color:#8b1d1d;font-size:12px}",
    ".cea-wc-form{display:flex;gap:6px;padding:10px;border-top:1px solid #e3e7ee}",
    ".cea-wc-form textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #c9d0db;border-radius:6px;font:inherit}",
    ".cea-wc-form button,.cea-wc-restart{border:0;border-radius:6px;background:#1f5fbf;color:#fff;padding:0 14px;cursor:pointer}",
    ".cea-wc-restart{margin:0 12px 10px;padding:8px}",
    ".cea-wc-survey{margin:0 12px 10px;padding:10px;border:1px solid #c9d0db;border-radius:8px;display:flex;flex-direction:column;gap:6px}",
    ".cea-wc-survey[hidden]{display:none}.cea-wc-scores{display:flex;flex-wrap:wrap;gap:4px}",
    ".cea-wc-scores button{min-width:28px;padding:4px 6px;border:1px solid #1f5fbf;border-radius:4px;background:#fff;color:#1f5fbf;cursor:pointer}",
    ".cea-wc-scores button[aria-pressed=true]{background:#1f5fbf;color:#fff}",
    ".cea-wc-survey textarea{resize:none;height:40px;padding:6px;border:1px solid #c9d0db;border-radius:6px;font:inherit}",
    ".cea-wc-survey .cea-wc-send{border:0;border-radius:6px;background:#1f5fbf;color:#fff;padding:6px;cursor:pointer}"
  ].join("\n");
  var style = document.createElement("style");
  // A page with a nonce-based Content-Security-Policy gives its nonce to this script tag.
  if (script.nonce) style.nonce = script.nonce;
  style.textContent = css;
  document.head.appendChild(style);

  function el(tag, className, testid, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (testid) node.setAttribute("data-testid", testid);
    if (text) node.textContent = text;
    return node;
  }
  var root = el("div", "cea-wc", "cea-chat");
  var launcher = el("button", "cea-wc-launcher", "cea-chat-button", "\u{1F4AC}");
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Chat with us");
  launcher.setAttribute("aria-expanded", "false");
  var unread = el("span", "cea-wc-unread", "cea-chat-unread");
  unread.hidden = true;
  launcher.appendChild(unread);
  var panel = el("section", "cea-wc-panel", "cea-chat-panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat");
  var head = el("div", "cea-wc-head");
  var title = el("span", "cea-wc-title", "cea-chat-title", "Chat");
  var statusLine = el("span", "cea-wc-status", "cea-chat-status", "");
  var endButton = el("button", "", "cea-chat-end", "End chat");
  var closeButton = el("button", "", "cea-chat-close", "\u2715");
  endButton.type = closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close");
  head.append(title, statusLine, endButton, closeButton);
  var list = el("ol", "cea-wc-list", "cea-chat-messages");
  list.setAttribute("aria-live", "polite");
  var greeting = el("li", "cea-wc-note", "cea-chat-greeting", "");
  list.appendChild(greeting);
  var errorLine = el("div", "cea-wc-error", "cea-chat-error", "");
  var restartButton = el("button", "cea-wc-restart", "cea-chat-restart", "Start a new chat");
  restartButton.type = "button";
  restartButton.hidden = true;
  var form = el("form", "cea-wc-form", "cea-chat-form");
  var input = el("textarea", "", "cea-chat-input");
  input.setAttribute("aria-label", "Your message");
  input.placeholder = "Type your message…";
  input.maxLength = 2000;
  var sendButton = el("button", "", "cea-chat-send", "Send");
  sendButton.type = "submit";
  form.append(input, sendButton);
  // The survey after the agent ends the chat: a score (stars for CSAT), an optional comment.
  var survey = el("form", "cea-wc-survey", "cea-survey");
  survey.hidden = true;
  var surveyQuestion = el("div", "", "cea-survey-question", "");
  var scores = el("div", "cea-wc-scores", "cea-survey-scores");
  var surveyComment = el("textarea", "", "cea-survey-comment");
  surveyComment.setAttribute("aria-label", "Your comment (optional)");
  surveyComment.placeholder = "Anything to add? (optional)";
  surveyComment.maxLength = 2000;
  var surveySend = el("button", "cea-wc-send", "cea-survey-send", "Send");
  surveySend.type = "submit";
  surveySend.disabled = true;
  survey.append(surveyQuestion, scores, surveyComment, surveySend);
  var surveyState = null; // {token, answer_url, score}
  panel.append(head, list, errorLine, survey, restartButton, form);
  root.append(panel, launcher);

  var STATUS_TEXT = {
    connecting: "Connecting…", offline: "Reconnecting…", self_service: "Assistant",
    queued: "Waiting for an agent", active: "With an agent", ended: "Chat ended", unavailable: "Unavailable"
  };
  function setStatus(value) {
    statusLine.textContent = STATUS_TEXT[value] || "";
    statusLine.setAttribute("data-status", value || "");
    var ended = value === "ended" || value === "unavailable";
    input.disabled = sendButton.disabled = ended;
    restartButton.hidden = value !== "ended";
    endButton.hidden = ended || conversation === null;
  }

  // --- Messages ------------------------------------------------------------------------------
  function label(message) {
    if (message.author_kind === "customer") return "You";
    if (message.author_kind === "system") return "Notice"; // e.g. a supervisor joined the chat
    return message.author_name || (message.author_kind === "bot" ? "Assistant" : "Agent");
  }
  function place(node, id) {
    // Keep the list in id order (a live message can overtake the history); pending ones last.
    var after = null;
    for (var child = list.lastElementChild; child && child !== greeting; child = child.previousElementSibling) {
      var childId = Number(child.getAttribute("data-id") || Infinity);
      if (childId < id) break;
      after = child;
    }
    list.insertBefore(node, after);
  }
  function messageNode(message, state) {
    var node = el("li", "cea-wc-msg cea-wc-" + message.author_kind, "cea-chat-message");
    node.setAttribute("data-author", message.author_kind);
    node.setAttribute("data-state", state);
    node.appendChild(el("small", "", "", label(message)));
    node.appendChild(document.createTextNode(message.body));
    return node;
  }
  function pendingNode(clientId) {
    var nodes = list.querySelectorAll("li[data-client-id]");
    for (var i = 0; i < nodes.length; i++) if (nodes[i].getAttribute("data-client-id") === clientId) return nodes[i];
    return null;
  }
  function show(message) {
    if (shown[message.id]) return;
    var node = message.client_id ? pendingNode(message.client_id) : null;
    if (node) {
      confirm(message.client_id, message.id);
    } else {
      node = messageNode(message, "sent");
      node.setAttribute("data-id", message.id);
      place(node, message.id);
      shown[message.id] = node;
    }
    lastId = Math.max(lastId, message.id);
    if (panel.hidden && message.author_kind !== "customer") unread.hidden = false;
    list.scrollTop = list.scrollHeight;
  }
  function confirm(clientId, id) {
    pending = pending.filter(function (item) { return item.client_id !== clientId; });
    save("pending", JSON.stringify(pending));
    var node = pendingNode(clientId);
    if (!node) return;
    if (shown[id] && shown[id] !== node) { node.remove(); return; }
    node.setAttribute("data-id", id);
    node.setAttribute("data-state", "sent");
    shown[id] = node;
    place(node, id);
  }
  function clearTranscript() {
    Object.keys(shown).forEach(function (id) { shown[id].remove(); });
    shown = {};
    lastId = 0;
  }

  // --- The connection ------------------------------------------------------------------------
  function transmit(frame) {
    if (socket && socket.readyState === 1 && welcomed) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function sendPending(item) {
    transmit({ type: "message", client_id: item.client_id, body: item.body });
  }
  function connect() {
    if (socket || stopped) return;
    var url = socketUrl + "?site_key=" + encodeURIComponent(siteKey) +
      (token ? "&visitor=" + encodeURIComponent(token) : "") +
      // The page without its query string or fragment: they may carry the visitor's personal data.
      "&page=" + encodeURIComponent((location.origin + location.pathname).slice(0, 300));
    var ws = new WebSocket(url);
    socket = ws;
    welcomed = false;
    if (status === null) setStatus("connecting");
    ws.onmessage = function (event) {
      var frame = parse(event.data, null);
      if (frame && handlers[frame.type]) handlers[frame.type](frame);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      welcomed = false;
      clearInterval(pinger);
      if (event.code === 4403) { stopped = true; setStatus("unavailable"); return; }
      setStatus("offline");
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++));
      retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay / 2 + Math.random() * delay / 2);
    };
  }
  function reconnectNow() {
    if (socket || stopped || load("active") !== "1") return;
    clearTimeout(retryTimer);
    retryTimer = null;
    connect();
  }
  window.addEventListener("online", reconnectNow);

  var handlers = {
    welcome: function (frame) {
      attempt = 0;
      welcomed = true;
      token = frame.visitor;
      save("token", token);
      title.textContent = frame.site || "Chat";
      greeting.textContent = frame.greeting || "";
      input.maxLength = frame.max_body || 2000;
      if (conversation !== null && frame.conversation !== conversation) clearTranscript();
      conversation = frame.conversation;
      status = frame.status || "self_service";
      setStatus(status);
      if (conversation !== null) transmit({ type: "resume", after: lastId });
      pending.forEach(sendPending);
      clearInterval(pinger);
      pinger = setInterval(function () { transmit({ type: "ping" }); }, 25000);
    },
    history: function (frame) {
      frame.messages.forEach(show);
      if (frame.more) transmit({ type: "resume", after: lastId });
    },
    message: function (frame) { show(frame.message); },
    ack: function (frame) {
      conversation = frame.conversation;
      endButton.hidden = status === "ended";
      confirm(frame.client_id, frame.id);
    },
    status: function (frame) {
      status = frame.status;
      setStatus(status);
      if (status === "ended") save("active", null);
    },
    restarted: function () {
      conversation = null;
      survey.hidden = true;
      surveyState = null;
      clearTranscript();
      status = "self_service";
      setStatus(status);
      save("active", "1");
    },
    error: function (frame) {
      errorLine.textContent = frame.message || "Something went wrong.";
      if (!frame.client_id) return;
      var item = pending.filter(function (p) { return p.client_id === frame.client_id; })[0];
      if (frame.code === "rate_limited" && item) {
        setTimeout(function () { sendPending(item); }, Math.max(1, frame.retry_after || 2) * 1000);
        return;
      }
      if (frame.code === "conversation_ended") { status = "ended"; setStatus(status); }
      var node = pendingNode(frame.client_id);
      if (node) node.setAttribute("data-state", "failed");
      pending = pending.filter(function (p) { return p.client_id !== frame.client_id; });
      save("pending", JSON.stringify(pending));
    },
    survey: function (frame) { showSurvey(frame.survey); },
    pong: function () {}
  };

  // --- The survey ----------------------------------------------------------------------------
  function showSurvey(offer) {
    if (!offer || !offer.token) return;
    surveyState = { token: offer.token, answer_url: offer.answer_url, score: null };
    surveyQuestion.textContent = offer.question || "How did we do?";
    scores.textContent = "";
    surveyComment.value = "";
    surveySend.disabled = true;
    Array.prototype.forEach.call(survey.querySelectorAll("[data-testid=cea-survey-thanks]"), function (n) { n.remove(); });
    [surveyQuestion, scores, surveyComment, surveySend].forEach(function (node) { node.hidden = false; });
    var low = offer.scale[0], high = offer.scale[1];
    for (var value = low; value <= high; value++) {
      var button = el("button", "", "cea-survey-score-" + value, offer.kind === "csat" ? "\u2605" + value : String(value));
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", value + (offer.kind === "csat" ? " of " + high + " stars" : ""));
      button.setAttribute("data-score", value);
      scores.appendChild(button);
    }
    survey.hidden = false;
    survey.setAttribute("data-state", "open");
  }
  scores.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-score]");
    if (!button || !surveyState) return;
    surveyState.score = Number(button.getAttribute("data-score"));
    Array.prototype.forEach.call(scores.children, function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    surveySend.disabled = false;
  });
  survey.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!surveyState || surveyState.score === null) return;
    surveySend.disabled = true;
    fetch(origin + surveyState.answer_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: surveyState.token, score: surveyState.score, comment: surveyComment.value })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        errorLine.textContent = (result.body.error && result.body.error.message) || "The answer could not be sent.";
        surveySend.disabled = false;
        return;
      }
      [surveyQuestion, scores, surveyComment, surveySend].forEach(function (node) { node.hidden = true; });
      survey.appendChild(el("div", "", "cea-survey-thanks", "Thank you for your feedback!"));
      survey.setAttribute("data-state", "answered");
      surveyState = null;
    }).catch(function () {
      errorLine.textContent = "The answer could not be sent; try again.";
      surveySend.disabled = false;
    });
  });

  // --- What the visitor does -----------------------------------------------------------------
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function open() {
    panel.hidden = false;
    unread.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    save("active", "1");
    connect();
    input.focus();
  }
  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else { panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); }
  });
  closeButton.addEventListener("click", function () {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
  });
  endButton.addEventListener("click", function () { transmit({ type: "end" }); });
  restartButton.addEventListener("click", function () { transmit({ type: "restart" }); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body || status === "ended") return;
    input.value = "";
    errorLine.textContent = "";
    var item = { client_id: newClientId(), body: body };
    pending.push(item);
    save("pending", JSON.stringify(pending));
    var node = messageNode({ author_kind: "customer", body: body }, "pending");
    node.setAttribute("data-client-id", item.client_id);
    list.appendChild(node);
    list.scrollTop = list.scrollHeight;
    save("active", "1");
    sendPending(item);
    connect();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  function start() {
    document.body.appendChild(root);
    // Pending messages of the previous page are shown again until acknowledged.
    pending.forEach(function (item) {
      var node = messageNode({ author_kind: "customer", body: item.body }, "pending");
      node.setAttribute("data-client-id", item.client_id);
      list.appendChild(node);
    });
    if (load("active") === "1") connect();
  }
  window.ceaWebchat = { open: open };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
