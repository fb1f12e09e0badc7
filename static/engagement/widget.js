/*
 * CEA web chat widget. Embed with one tag:
 *   <script src="https://<cea>/static/engagement/widget.js" data-site-key="site_…" async></script>
 * Optional: data-cea-origin="https://cea.example" when the script is served from elsewhere (a CDN).
 *
 * Talks to wss://<cea>/ws/webchat/ (protocol in engagement/webchat/consumers.py). The visitor token
 * and unacknowledged messages live in localStorage, so a reload continues the same chat; after a
 * network drop it reconnects with backoff, resends unacknowledged messages with their client id
 * (the server stores each once) and asks for what it missed ("resume" after the last id seen).
 * It tells the agent when the visitor types (at most every 2 s) and how far they have read (while
 * the panel is open and the page visible), shows the agent's typing and "Seen" under the visitor's
 * messages the agent has read, and sends files (paperclip) to /api/v1/engagement/webchat/attachments/;
 * an agent's files come as download links (signed links, engagement/conversations/files.py).
 * Under an out-of-hours answer (the queue is closed) it shows the answer's offer as buttons: "Call me
 * back" (books through /api/v1/engagement/callbacks/offered/ with the answer's token; a phone number
 * may be given) and "Leave a message" (the chat stays open; it is answered at opening).
 *
 * Language: the host page's (data-lang="de" on this tag, else <html lang>), English without one.
 * The widget loads its strings in that language from <cea>/webchat/strings/<lang>/ (the scripts'
 * gettext catalog, docs/translations.md) before it shows itself, and sends the language with
 * everything it asks (lang= on the websocket, Accept-Language on its requests), so that the
 * server's texts (errors, out-of-hours answers) come back in it too.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site-key][src*='widget.js']");
  if (!script || window.ceaWebchat) return;
  var siteKey = script.getAttribute("data-site-key") || "";
  var origin = script.getAttribute("data-cea-origin") || new URL(script.src, location.href).origin;
  var socketUrl = origin.replace(/^http/, "ws") + "/ws/webchat/";
  var prefix = "cea-webchat:" + siteKey + ":";
  window.ceaWebchat = {};

  // --- Language ------------------------------------------------------------------------------
  // A language tag's characters only: it is sent as an Accept-Language header (CORS-safelisted).
  var language = (script.getAttribute("data-lang") || document.documentElement.lang || "")
    .replace(/[^A-Za-z0-9-]/g, "").slice(0, 35) || "en";
  var locales = [];
  try { new Intl.DateTimeFormat(language); locales = [language]; } catch (e) { /* the browser's own */ }
  var catalog = {};
  var asked = { "Accept-Language": language }; // the server's texts (errors) in the page's language
  // gettext()'s names, as in Django's catalog, so makemessages -d djangojs finds these strings.
  function gettext(msgid) {
    var text = catalog[msgid];
    return typeof text === "string" && text ? text : msgid;
  }
  // Two plural forms (English, German): the catalog's formula is not evaluated (no eval under a site's CSP).
  function ngettext(singular, plural, count) {
    var forms = catalog[singular], index = count === 1 ? 0 : 1;
    if (Array.isArray(forms) && forms[index]) return forms[index];
    return count === 1 ? singular : plural;
  }
  function interpolate(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) { return String(values[name]); });
  }
  function main() {

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
    var TYPING_EVERY_MS = 2000, TYPING_SHOWN_MS = 6000;
    var typingSentAt = 0, typingTimer = null, readSent = 0, agentReadUpTo = 0;

    // --- The panel -----------------------------------------------------------------------------
    var css = [
      ".cea-wc{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif;color:#1d2430}",
      ".cea-wc *{box-sizing:border-box}",
      ".cea-wc-launcher{width:56px;height:56px;border-radius:50%;border:0;background:#1f5fbf;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative;display:flex;align-items:center;justify-content:center}",
      ".cea-wc svg{display:block;pointer-events:none}",
      ".cea-wc-typing{padding:0 12px;font-size:12px;color:#5b6472;min-height:0}.cea-wc-typing[hidden]{display:none}",
      ".cea-wc-seen{display:block;font-size:11px;opacity:.85;text-align:right}",
      ".cea-wc-attach{border:1px solid #c9d0db;border-radius:6px;background:#fff;color:#1f5fbf;padding:0 8px;cursor:pointer;display:flex;align-items:center}",
      ".cea-wc-file{position:absolute;width:1px;height:1px;opacity:0;overflow:hidden}",
      ".cea-wc-unread{position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;background:#e5484d}",
      ".cea-wc-panel{position:absolute;right:0;bottom:70px;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}",
      ".cea-wc-panel[hidden]{display:none}",
      ".cea-wc-head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1f5fbf;color:#fff}",
      ".cea-wc-title{font-weight:600;flex:1}.cea-wc-status{font-size:12px;opacity:.85}",
      ".cea-wc-head button{background:none;border:0;color:#fff;cursor:pointer;font-size:13px}",
      ".cea-wc-list{list-style:none;margin:0;padding:12px;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px}",
      ".cea-wc-msg{max-width:80%;padding:7px 10px;border-radius:10px;background:#eef1f5;white-space:pre-wrap;word-wrap:break-word}",
      ".cea-wc-msg small{display:block;font-size:11px;opacity:.7}",
      ".cea-wc-files{list-style:none;margin:4px 0 0;padding:0}.cea-wc-files a{color:inherit;text-decoration:underline}",
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
      ".cea-wc-survey .cea-wc-send{border:0;border-radius:6px;background:#1f5fbf;color:#fff;padding:6px;cursor:pointer}",
      ".cea-wc-offer{display:flex;flex-direction:column;gap:6px;margin-top:8px;white-space:normal}",
      ".cea-wc-offer-actions{display:flex;flex-wrap:wrap;gap:6px}",
      ".cea-wc-offer button{border:1px solid #1f5fbf;border-radius:6px;background:#fff;color:#1f5fbf;padding:5px 10px;cursor:pointer;font:inherit}",
      ".cea-wc-offer button[type=submit]{background:#1f5fbf;color:#fff}",
      ".cea-wc-offer form{display:flex;flex-direction:column;gap:4px}.cea-wc-offer form[hidden],.cea-wc-offer [hidden]{display:none}",
      ".cea-wc-offer input{padding:6px;border:1px solid #c9d0db;border-radius:6px;font:inherit}",
      ".cea-wc-offer-note{margin:0;font-size:12px}.cea-wc-offer-error{margin:0;font-size:12px;color:#8b1d1d}",
      ".cea-wc :focus-visible{outline:2px solid #0b3d91;outline-offset:2px}"
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
    // An inline SVG, not a character: a font without the speech-balloon glyph showed a missing-glyph box.
    var SVG = "http://www.w3.org/2000/svg";
    function icon(path) {
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("width", "26");
      svg.setAttribute("height", "26");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("focusable", "false");
      var shape = document.createElementNS(SVG, "path");
      shape.setAttribute("fill", "currentColor");
      shape.setAttribute("d", path);
      svg.appendChild(shape);
      return svg;
    }
    var launcher = el("button", "cea-wc-launcher", "cea-chat-button");
    launcher.appendChild(icon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"));
    launcher.type = "button";
    launcher.setAttribute("aria-label", gettext("Chat with us"));
    launcher.setAttribute("aria-expanded", "false");
    var unread = el("span", "cea-wc-unread", "cea-chat-unread");
    unread.hidden = true;
    launcher.appendChild(unread);
    var panel = el("section", "cea-wc-panel", "cea-chat-panel");
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", gettext("Chat"));
    var head = el("div", "cea-wc-head");
    var title = el("span", "cea-wc-title", "cea-chat-title", gettext("Chat"));
    var statusLine = el("span", "cea-wc-status", "cea-chat-status", "");
    var endButton = el("button", "", "cea-chat-end", gettext("End chat"));
    var closeButton = el("button", "", "cea-chat-close", "\u2715");
    endButton.type = closeButton.type = "button";
    closeButton.setAttribute("aria-label", gettext("Close"));
    head.append(title, statusLine, endButton, closeButton);
    var list = el("ol", "cea-wc-list", "cea-chat-messages");
    list.setAttribute("aria-live", "polite");
    var greeting = el("li", "cea-wc-note", "cea-chat-greeting", "");
    list.appendChild(greeting);
    var errorLine = el("div", "cea-wc-error", "cea-chat-error", "");
    var typingLine = el("div", "cea-wc-typing", "cea-chat-typing", gettext("The agent is typing…"));
    typingLine.setAttribute("role", "status");
    typingLine.hidden = true;
    var restartButton = el("button", "cea-wc-restart", "cea-chat-restart", gettext("Start a new chat"));
    restartButton.type = "button";
    restartButton.hidden = true;
    var form = el("form", "cea-wc-form", "cea-chat-form");
    var input = el("textarea", "", "cea-chat-input");
    input.setAttribute("aria-label", gettext("Your message"));
    input.placeholder = gettext("Type your message…");
    input.maxLength = 2000;
    var sendButton = el("button", "", "cea-chat-send", gettext("Send"));
    sendButton.type = "submit";
    var attachButton = el("button", "cea-wc-attach", "cea-chat-attach");
    attachButton.type = "button";
    attachButton.setAttribute("aria-label", gettext("Attach a file"));
    attachButton.title = gettext("Attach a file (image, PDF or text)");
    var clip = icon("M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z");
    clip.setAttribute("width", "18");
    clip.setAttribute("height", "18");
    attachButton.appendChild(clip);
    var fileInput = el("input", "cea-wc-file", "cea-chat-file");
    fileInput.type = "file";
    fileInput.tabIndex = -1;
    fileInput.setAttribute("aria-hidden", "true");
    fileInput.accept = ".png,.jpg,.jpeg,.gif,.webp,.pdf,.txt,.log,.csv,image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";
    form.append(attachButton, fileInput, input, sendButton);
    // The survey after the agent ends the chat: a score (stars for CSAT), an optional comment.
    var survey = el("form", "cea-wc-survey", "cea-survey");
    survey.hidden = true;
    var surveyQuestion = el("div", "", "cea-survey-question", "");
    var scores = el("div", "cea-wc-scores", "cea-survey-scores");
    var surveyComment = el("textarea", "", "cea-survey-comment");
    surveyComment.setAttribute("aria-label", gettext("Your comment (optional)"));
    surveyComment.placeholder = gettext("Anything to add? (optional)");
    surveyComment.maxLength = 2000;
    var surveySend = el("button", "cea-wc-send", "cea-survey-send", gettext("Send"));
    surveySend.type = "submit";
    surveySend.disabled = true;
    survey.append(surveyQuestion, scores, surveyComment, surveySend);
    var surveyState = null; // {token, answer_url, score}
    panel.append(head, list, typingLine, errorLine, survey, restartButton, form);
    root.append(panel, launcher);

    var STATUS_TEXT = {
      connecting: gettext("Connecting…"), offline: gettext("Reconnecting…"), self_service: gettext("Assistant"),
      queued: gettext("Waiting for an agent"), active: gettext("With an agent"), ended: gettext("Chat ended"), unavailable: gettext("Unavailable")
    };
    function setStatus(value) {
      statusLine.textContent = STATUS_TEXT[value] || "";
      statusLine.setAttribute("data-status", value || "");
      var ended = value === "ended" || value === "unavailable";
      input.disabled = sendButton.disabled = attachButton.disabled = ended;
      restartButton.hidden = value !== "ended";
      endButton.hidden = ended || conversation === null;
    }

    // --- Messages ------------------------------------------------------------------------------
    function label(message) {
      if (message.author_kind === "customer") return gettext("You");
      if (message.author_kind === "system") return gettext("Notice"); // e.g. a supervisor joined the chat
      return message.author_name || (message.author_kind === "bot" ? gettext("Assistant") : gettext("Agent"));
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
      if (message.offer) node.appendChild(offerNode(message.offer));
      if (message.attachments && message.attachments.length) node.appendChild(filesNode(message.attachments));
      return node;
    }
    // An agent's files: download links (signed, expiring links of CEA's; no cookie needed).
    function filesNode(files) {
      var box = el("ul", "cea-wc-files", "cea-chat-attachments");
      files.forEach(function (file) {
        var item = el("li", "");
        var link = el("a", "", "cea-chat-attachment", file.filename);
        link.href = origin + file.url;
        link.setAttribute("download", file.filename);
        link.rel = "noopener noreferrer";
        link.target = "_blank";
        item.appendChild(link);
        box.appendChild(item);
      });
      return box;
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
      if (message.author_kind !== "customer") typingLine.hidden = true;
      list.scrollTop = list.scrollHeight;
      markSeen();
      sendRead();
    }

    // --- The out-of-hours offer: a callback, or a message answered at opening ---------------------
    var offerCount = 0;
    function offerNode(offer) {
      var box = el("div", "cea-wc-offer", "cea-chat-offer");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", gettext("While we are closed"));
      var actions = el("div", "cea-wc-offer-actions");
      var note = el("p", "cea-wc-offer-note", "cea-offer-note", offer.callback_unavailable || "");
      note.setAttribute("role", "status");
      note.tabIndex = -1;
      note.hidden = !offer.callback_unavailable;
      box.appendChild(actions);
      if (offer.callback) {
        var call = el("button", "", "cea-offer-callback", gettext("Call me back"));
        call.type = "button";
        call.setAttribute("aria-expanded", "false");
        var booking = callbackForm(offer, note, call);
        call.setAttribute("aria-controls", booking.id);
        call.addEventListener("click", function () {
          booking.hidden = !booking.hidden;
          call.setAttribute("aria-expanded", String(!booking.hidden));
          if (!booking.hidden) booking.querySelector("input").focus();
        });
        actions.appendChild(call);
        box.appendChild(booking);
      }
      if (offer.leave_message) {
        var leave = el("button", "", "cea-offer-message", gettext("Leave a message"));
        leave.type = "button";
        leave.addEventListener("click", function () {
          note.textContent = gettext("Write your message below: we will answer it when we open.");
          note.hidden = false;
          input.focus();
        });
        actions.appendChild(leave);
      }
      box.appendChild(note);
      return box;
    }
    function callbackForm(offer, note, call) {
      var id = "cea-wc-offer-" + (++offerCount);
      var booking = el("form", "", "cea-offer-form");
      booking.id = id;
      booking.hidden = true;
      booking.noValidate = true;
      var phoneLabel = el("label", "", "", gettext("Your phone number (optional: blank uses the number we have)"));
      phoneLabel.htmlFor = id + "-phone";
      var phone = el("input", "", "cea-offer-phone");
      phone.id = id + "-phone";
      phone.type = "tel";
      phone.autocomplete = "tel";
      phone.placeholder = "+44 7911 123456";
      phone.maxLength = 32;
      var problem = el("p", "cea-wc-offer-error", "cea-offer-error", "");
      problem.id = id + "-error";
      problem.hidden = true;
      var book = el("button", "", "cea-offer-book", gettext("Book the callback"));
      book.type = "submit";
      booking.append(phoneLabel, phone, problem, book);
      function refuse(text) {
        problem.textContent = text;
        problem.hidden = false;
        phone.setAttribute("aria-invalid", "true");
        phone.setAttribute("aria-describedby", problem.id);
        book.disabled = false;
        phone.focus();
      }
      function done(text) {
        booking.hidden = true;
        call.hidden = true;
        note.textContent = text;
        note.hidden = false;
        note.focus();
      }
      booking.addEventListener("submit", function (event) {
        event.preventDefault();
        book.disabled = true;
        problem.hidden = true;
        phone.removeAttribute("aria-invalid");
        phone.removeAttribute("aria-describedby");
        // Form-encoded: a simple cross-origin request; the site key lets this site's origin read the answer.
        var data = new URLSearchParams({ token: offer.callback.token, phone: phone.value.trim(), site_key: siteKey });
        fetch(origin + offer.callback.book_url, { method: "POST", body: data, credentials: "omit", headers: asked })
          .then(function (response) {
            return response.json().then(function (body) { return { ok: response.ok, body: body }; }, function () {
              return { ok: false, body: {} };
            });
          })
          .then(function (result) {
            if (result.ok) {
              var due = new Date(result.body.due_at);
              done(interpolate(gettext("Booked: we will call you back around %(when)s."), {
                when: due.toLocaleString(locales, {
                  weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit"
                })
              }));
              return;
            }
            var error = result.body.error || {};
            if (error.code === "callback_already_booked") { done(error.message); return; }
            if (error.code === "customer_unknown") { call.hidden = true; booking.hidden = true; done(error.message); return; }
            refuse((error.fields && error.fields.phone) || error.message || gettext("The callback could not be booked."));
          })
          .catch(function () { refuse(gettext("The callback could not be booked; try again.")); });
      });
      return booking;
    }

    // --- Typing and read receipts ----------------------------------------------------------------------
    function sendTyping(typing) {
      if (conversation === null || status === "ended") return;
      var now = Date.now();
      if (typing && now - typingSentAt < TYPING_EVERY_MS) return;
      if (!typing && !typingSentAt) return;
      if (transmit({ type: "typing", typing: typing })) typingSentAt = typing ? now : 0;
    }
    function showTyping(typing) {
      clearTimeout(typingTimer);
      typingLine.hidden = !typing;
      if (typing) typingTimer = setTimeout(function () { typingLine.hidden = true; }, TYPING_SHOWN_MS);
    }
    // The visitor has read what the open panel shows, while the page is visible.
    var readTimer = null;
    function sendRead() { clearTimeout(readTimer); readTimer = setTimeout(sendReadNow, 250); } // once per burst
    function sendReadNow() {
      if (panel.hidden || document.visibilityState !== "visible" || conversation === null || lastId <= readSent) return;
      if (transmit({ type: "read", up_to: lastId })) readSent = lastId;
    }
    // "Seen" under the visitor's last message the agent has read.
    function markSeen() {
      var old = list.querySelector(".cea-wc-seen");
      var mine = list.querySelectorAll("li[data-author=customer][data-id]");
      var last = null;
      for (var i = 0; i < mine.length; i++) if (Number(mine[i].getAttribute("data-id")) <= agentReadUpTo) last = mine[i];
      if (old && old.parentNode === last) return;
      if (old) old.remove();
      if (last) last.appendChild(el("span", "cea-wc-seen", "cea-chat-seen", gettext("Seen")));
    }
    document.addEventListener("visibilitychange", sendRead);
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
      markSeen();
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
        (token ? "&visitor=" + encodeURIComponent(token) : "") + "&lang=" + encodeURIComponent(language) +
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
        title.textContent = frame.site || gettext("Chat");
        greeting.textContent = frame.greeting || "";
        input.maxLength = frame.max_body || 2000;
        if (conversation !== null && frame.conversation !== conversation) { clearTranscript(); agentReadUpTo = readSent = 0; }
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
        agentReadUpTo = readSent = typingSentAt = 0;
        survey.hidden = true;
        surveyState = null;
        clearTranscript();
        status = "self_service";
        setStatus(status);
        save("active", "1");
      },
      error: function (frame) {
        errorLine.textContent = frame.message || gettext("Something went wrong.");
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
      typing: function (frame) { showTyping(frame.typing === true); },
      read: function (frame) {
        agentReadUpTo = Math.max(agentReadUpTo, Number(frame.up_to) || 0);
        markSeen();
      },
      pong: function () {}
    };

    // --- The survey ----------------------------------------------------------------------------
    function showSurvey(offer) {
      if (!offer || !offer.token) return;
      surveyState = { token: offer.token, answer_url: offer.answer_url, score: null };
      surveyQuestion.textContent = offer.question || gettext("How did we do?");
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
        button.setAttribute("aria-label", offer.kind === "csat" ? interpolate(ngettext("%(score)s of %(count)s star", "%(score)s of %(count)s stars", high), { score: value, count: high }) : String(value));
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
        headers: { "Content-Type": "application/json", "Accept-Language": language },
        body: JSON.stringify({ token: surveyState.token, score: surveyState.score, comment: surveyComment.value })
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (!result.ok) {
          errorLine.textContent = (result.body.error && result.body.error.message) || gettext("The answer could not be sent.");
          surveySend.disabled = false;
          return;
        }
        [surveyQuestion, scores, surveyComment, surveySend].forEach(function (node) { node.hidden = true; });
        survey.appendChild(el("div", "", "cea-survey-thanks", gettext("Thank you for your feedback!")));
        survey.setAttribute("data-state", "answered");
        surveyState = null;
      }).catch(function () {
        errorLine.textContent = gettext("The answer could not be sent; try again.");
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
      sendRead();
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
      sendTyping(false);
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
    input.addEventListener("input", function () { sendTyping(input.value.trim() !== ""); });

    // --- Files: the paperclip ----------------------------------------------------------------------------
    attachButton.addEventListener("click", function () {
      if (conversation === null) { errorLine.textContent = gettext("Send a message first; then you can attach a file."); return; }
      fileInput.click();
    });
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (!file || conversation === null || !token) return;
      errorLine.textContent = "";
      var clientId = newClientId();
      var node = messageNode({ author_kind: "customer", body: file.name }, "pending");
      node.setAttribute("data-client-id", clientId);
      node.setAttribute("data-file", "true");
      list.appendChild(node);
      list.scrollTop = list.scrollHeight;
      var data = new FormData();
      data.append("site_key", siteKey);
      data.append("visitor", token);
      data.append("client_id", clientId);
      data.append("file", file, file.name);
      fetch(origin + "/api/v1/engagement/webchat/attachments/", {
        method: "POST", body: data, credentials: "omit", headers: asked
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; }, function () {
            return { ok: false, body: {} };
          });
        })
        .then(function (result) {
          if (!result.ok) throw new Error((result.body.error && result.body.error.message) || gettext("The file could not be sent."));
          confirm(clientId, result.body.id);
          lastId = Math.max(lastId, result.body.id);
        })
        .catch(function (error) {
          errorLine.textContent = error.message || gettext("The file could not be sent.");
          node.setAttribute("data-state", "failed");
        });
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
    window.ceaWebchat.open = open;
    if (document.body) start();
    else document.addEventListener("DOMContentLoaded", start);
  }

  if (/^en(-|$)/i.test(language)) main();
  else {
    fetch(origin + "/webchat/strings/" + encodeURIComponent(language) + "/", { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (body) { catalog = (body && body.catalog) || {}; }, function () { /* English, then */ })
      .then(main);
  }
})();