/*
 * CEA agent desktop (templates/engagement/desktop/desktop.html). Plain script, no build step.
 *
 * The page is rendered by the server; htmx sends its forms (reply, wrap-up, transfer, cases,
 * verification, search). This script keeps the one websocket of the desk, ws/desktop/ (protocol in
 * engagement/desktop/consumers.py): offers with their countdown, presence, the conversations'
 * messages and live context, and the tabs. After a network drop it reconnects with backoff, asks
 * again for what each panel follows (messages after the last id it shows) and reconciles offers,
 * presence and conversations from the "desk.state" frame the server sends first.
 */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) return;

  var offersList = document.getElementById("offers");
  var offersEmpty = desk.querySelector(".offers-empty");
  var tabs = document.getElementById("conversation-tabs");
  var panels = document.getElementById("conversation-panels");
  var noWork = panels.querySelector(".no-work");
  var presenceSelect = document.getElementById("presence");
  var presenceState = document.getElementById("presence-state");
  var presenceSince = document.getElementById("presence-since");
  var presenceBy = document.getElementById("presence-changed-by");
  var afterContact = document.getElementById("after-contact-timer");
  var connection = document.getElementById("desk-connection");
  var errors = document.getElementById("desk-errors");
  var help = document.getElementById("desk-help");
  var heartbeatMs = Math.max(5, parseInt(desk.dataset.heartbeatSeconds, 10) || 20) * 1000;
  var baseTitle = document.title;

  var KIND_LABELS = { customer: gettext("Customer"), agent: gettext("Agent"), bot: gettext("Self-service"), system: gettext("System") };
  var LEVEL_LABELS = { anonymous: gettext("Anonymous"), identified: gettext("Identified"), verified: gettext("Verified") };

  // Server clock minus browser clock, so countdowns follow the server's deadlines.
  var clockOffset = offsetFrom(desk.dataset.serverTime);
  var presence = null; // the last presence the server reported
  var socket = null, ready = false, attempt = 0, retryTimer = null, pinger = null, refused = false;
  var wanted = {}; // "scope:id" → how many panels follow it
  var loading = {}; // conversation or customer key → true while its fragment loads

  // --- Small helpers ----------------------------------------------------------------------------

  function offsetFrom(iso) {
    var server = Date.parse(iso || "");
    return isNaN(server) ? 0 : server - Date.now();
  }
  function now() { return Date.now() + clockOffset; }
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function cssId(value) { return String(value).replace(/[^0-9A-Za-z_-]/g, ""); }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), rest = seconds % 60;
    var text = (hours ? hours + ":" + (minutes < 10 ? "0" : "") : "") + minutes + ":" + (rest < 10 ? "0" : "") + rest;
    return text;
  }
  function hhmm(iso) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) return "";
    return moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function showError(text) { show(text, "error"); }
  function showNotice(text) { show(text, "notice"); }
  function show(text, kind) {
    var line = make("p", kind, text);
    var close = make("button", "secondary", "×");
    close.type = "button";
    close.setAttribute("aria-label", gettext("Dismiss"));
    close.addEventListener("click", function () { line.remove(); });
    line.appendChild(close);
    errors.appendChild(line);
    while (errors.children.length > 3) errors.firstElementChild.remove();
    setTimeout(function () { line.remove(); }, 10000);
  }

  // --- The websocket ----------------------------------------------------------------------------

  function setConnection(state, text) {
    connection.dataset.state = state;
    connection.textContent = text;
  }

  function connect() {
    clearTimeout(retryTimer);
    setConnection("connecting", attempt ? gettext("Reconnecting…") : gettext("Connecting…"));
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + desk.dataset.socketPath);
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === "object") handle(frame);
    });
    socket.addEventListener("close", function (event) {
      ready = false;
      clearInterval(pinger);
      if (event.code === 4401 || event.code === 4403) {
        refused = true;
        setConnection("refused", event.code === 4401 ? gettext("Signed out: sign in again") : gettext("Not allowed"));
        return;
      }
      setConnection("closed", gettext("Offline: reconnecting…"));
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6))) * (0.75 + Math.random() / 2);
      retryTimer = setTimeout(connect, delay);
    });
  }

  function send(frame) {
    if (!ready || !socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // Scripts of desk features (static/engagement/desk_<feature>.js) send frames and hear every frame here.
  var listeners = [];
  window.ceaDesk = {
    send: function (frame) { return send(frame); },
    listen: function (fn) { listeners.push(fn); },
    make: make, cssId: cssId, hhmm: hhmm
  };

  function handle(frame) {
    handleOwn(frame);
    listeners.forEach(function (listen) { listen(frame); });
  }

  function handleOwn(frame) {
    switch (frame.type) {
      case "desk.state": applyState(frame); break;
      case "offer.new": addOffer(frame.offer); break;
      case "offer.ended": offerEnded(frame); break;
      case "offer.accepted": removeOffer(frame.offer); openConversation(frame.conversation, true); break;
      case "offer.rejected": removeOffer(frame.offer); break;
      case "presence.set":
      case "presence.changed": applyPresence(frame); break;
      case "work.ended": closeConversation(frame.conversation); break;
      case "work.wrap_up": toWrapUp(frame.conversation); break;
      case "subscribed": applySubscribed(frame); break;
      case "conversation.message": addMessage(frame.message, frame.previous); break;
      case "conversation.status": applyConversationStatus(frame.conversation, frame.status); break;
      case "conversation.delivery": if (window.deskDelivery) window.deskDelivery.apply(frame); break; // desk_sms.js
      case "context.changed": applyContext(frame.scope, frame.id, frame.version, frame.values); break;
      case "recommendations.changed": refreshRecommendations(frame.customer, frame.decided); break;
      case "schedule.changed": if (window.htmx) window.htmx.trigger(document.body, "desk:schedule"); break;
      case "error": handleError(frame); break;
      case "pong": catchUp(frame.latest); break;
      default: break; // unsubscribed
    }
  }

  // A push can be lost while the socket stays open (the server's Redis restarting): each heartbeat's
  // answer names the latest message of every followed conversation, and a panel showing less asks
  // for what it missed.
  function catchUp(latest) {
    Object.keys(latest || {}).forEach(function (id) {
      var key = "conversation_messages:" + id;
      if (wanted[key] && Number(latest[id]) > lastMessageId(id)) subscribe(key);
    });
  }

  function handleError(frame) {
    if (frame.action === "accept" || frame.action === "reject") {
      var offer = findOffer(frame.offer);
      if (offer && /^offer_/.test(frame.code || "")) removeOffer(frame.offer);
      else if (offer) setOfferBusy(offer, false);
    } else if (frame.action === "presence" && presence) {
      applyPresence(presence); // put the select back to the state the server has
    } else if (frame.scope) {
      return; // a subscription refused: the panel keeps what the page rendered
    }
    showError(frame.message || gettext("Something went wrong."));
  }

  function applyState(state) {
    attempt = 0;
    ready = true;
    clockOffset = offsetFrom(state.server_time);
    setConnection("open", gettext("Live"));
    clearInterval(pinger);
    pinger = setInterval(function () { send({ action: "ping" }); }, heartbeatMs);
    applyPresence(state.presence);
    var offers = {};
    (state.offers || []).forEach(function (offer) {
      offers[offer.id] = true;
      var item = findOffer(offer.id);
      if (item) setDeadline(item, offer.remaining);
      else addOffer(offer);
    });
    Array.prototype.forEach.call(offersList.querySelectorAll(".offer"), function (item) {
      if (!offers[item.dataset.offerId]) item.remove();
    });
    updateOffers();
    var conversations = {};
    (state.conversations || []).forEach(function (id) {
      conversations[id] = true;
      openConversation(id, false);
    });
    Array.prototype.forEach.call(panels.querySelectorAll(".conversation-panel"), function (panel) {
      // A conversation waiting for its wrap-up stays until it is wrapped up.
      if (!conversations[panel.dataset.conversationId] && !panel.classList.contains("in-wrap-up")) {
        closeConversation(panel.dataset.conversationId);
      }
    });
    Object.keys(wanted).forEach(function (key) { subscribe(key); });
  }

  // --- Subscriptions (messages and context of the open panels) -----------------------------------

  function keysOf(panel) {
    var keys = [];
    if (panel.dataset.conversationId) {
      keys.push("conversation_messages:" + panel.dataset.conversationId, "conversation:" + panel.dataset.conversationId);
    }
    if (panel.dataset.customerId) keys.push("customer:" + panel.dataset.customerId);
    return keys;
  }

  function subscribe(key) {
    var parts = key.split(":"), frame = { action: "subscribe", scope: parts[0], id: parts[1] };
    if (parts[0] === "conversation_messages") frame.after = lastMessageId(parts[1]);
    send(frame);
  }

  function follow(panel) {
    keysOf(panel).forEach(function (key) {
      wanted[key] = (wanted[key] || 0) + 1;
      if (wanted[key] === 1) subscribe(key);
    });
  }

  function unfollow(panel) {
    keysOf(panel).forEach(function (key) {
      wanted[key] = (wanted[key] || 1) - 1;
      if (wanted[key] <= 0) {
        delete wanted[key];
        var parts = key.split(":");
        send({ action: "unsubscribe", scope: parts[0], id: parts[1] });
      }
    });
  }

  function applySubscribed(frame) {
    if (frame.scope === "conversation_messages") {
      (frame.messages || []).forEach(function (message) { addMessage(message); });
      if (frame.more) subscribe("conversation_messages:" + frame.id); // more missed than one page: go on
    } else if (frame.context) {
      applyContext(frame.scope, frame.id, frame.context.version, frame.context.values);
    }
    // Following the customer from now on: read their card again, so that an action offered between
    // the page's render and this subscription is not missed (later ones come as pushes).
    if (frame.scope === "customer") refreshRecommendations(frame.id);
  }

  // --- Offers -----------------------------------------------------------------------------------

  function findOffer(id) {
    return offersList.querySelector('.offer[data-offer-id="' + cssId(id) + '"]');
  }

  function setDeadline(item, remaining) {
    item.dataset.deadline = String(now() + Math.max(0, Number(remaining) || 0) * 1000);
  }

  function addOffer(offer) {
    if (!offer || findOffer(offer.id)) return;
    var item = make("li", "offer");
    item.dataset.offerId = offer.id;
    item.dataset.conversationId = offer.conversation;
    var head = make("div", "offer-head");
    head.appendChild(make("span", "tag", offer.channel_label || offer.channel));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(make("strong", "offer-customer", offer.customer));
    item.appendChild(head);
    var meta = [offer.queue];
    if (offer.subject) meta.push(offer.subject);
    meta.push(offer.verification_level, interpolate(gettext("priority %(priority)s"), { priority: offer.priority }, true));
    item.appendChild(make("div", "offer-meta muted", meta.join(" · ")));
    if (offer.transfer) item.appendChild(make("p", "offer-note", gettext("Transfer") + (offer.note ? ": " + offer.note : "")));
    var actions = make("div", "offer-actions");
    var countdown = make("span", "offer-countdown", "");
    countdown.title = gettext("Seconds left to answer");
    var accept = make("button", "offer-accept", gettext("Accept"));
    accept.type = "button";
    var reject = make("button", "offer-reject secondary", gettext("Reject"));
    reject.type = "button";
    actions.appendChild(countdown);
    actions.appendChild(accept);
    actions.appendChild(reject);
    item.appendChild(actions);
    var remaining = offer.remaining !== undefined && offer.remaining !== null
      ? offer.remaining
      : (Date.parse(offer.expires_at) - now()) / 1000;
    // Never more than the offer's own time: the clocks' offset is only an estimate.
    setDeadline(item, isNaN(remaining) ? offer.seconds : Math.min(offer.seconds, Math.ceil(remaining)));
    offersList.appendChild(item);
    updateOffers();
    tick();
  }

  function removeOffer(id) {
    var item = findOffer(id);
    if (item) item.remove();
    updateOffers();
  }

  var ENDINGS = { timed_out: gettext("An offer timed out."), rescinded: gettext("An offer was withdrawn") };

  function offerEnded(frame) {
    var item = findOffer(frame.offer);
    removeOffer(frame.offer);
    if (item && ENDINGS[frame.status]) {
      showNotice(ENDINGS[frame.status] + (frame.status === "rescinded" && frame.reason ? ": " + frame.reason + "." : ""));
    }
  }

  function setOfferBusy(item, busy) {
    Array.prototype.forEach.call(item.querySelectorAll("button"), function (button) { button.disabled = busy; });
    item.classList.toggle("busy", busy);
  }

  function answerOffer(item, action) {
    if (!item || item.classList.contains("busy")) return;
    setOfferBusy(item, true);
    if (!send({ action: action, offer: Number(item.dataset.offerId) })) {
      setOfferBusy(item, false);
      showError(gettext("Not connected: the offer could not be answered. Reconnecting…"));
    }
  }

  function updateOffers() {
    var count = offersList.querySelectorAll(".offer").length;
    offersEmpty.hidden = count > 0;
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }

  function acceptOldest() {
    var items = offersList.querySelectorAll(".offer:not(.busy):not(.expired)");
    if (items.length) answerOffer(items[0], "accept");
  }

  // --- Presence ---------------------------------------------------------------------------------

  function presenceValue(state) {
    if (state.value) return state.value;
    return state.presence === "away" && state.reason ? "away:" + state.reason : state.presence;
  }

  function applyPresence(state) {
    if (!state || !state.presence) return;
    presence = state;
    var value = presenceValue(state);
    var option = presenceSelect.querySelector('option[value="' + value.replace(/"/g, "") + '"]');
    // A state the agent cannot choose (set by CEA, e.g. missed offer) is shown, disabled.
    Array.prototype.forEach.call(presenceSelect.querySelectorAll("option.system"), function (old) {
      if (old !== option) old.remove();
    });
    if (!option) {
      option = make("option", "system", state.label + (state.reason_label ? " · " + state.reason_label : ""));
      option.value = value;
      option.disabled = true;
      presenceSelect.insertBefore(option, presenceSelect.lastElementChild);
    }
    presenceSelect.value = value;
    presenceSelect.dataset.current = value;
    presenceState.textContent = state.label + (state.reason_label ? " · " + state.reason_label : "");
    presenceState.dataset.presence = state.presence;
    presenceState.className = "presence-state p-" + state.presence;
    // Set by a supervisor: the agent sees who did it (until the next change).
    presenceBy.textContent = state.changed_by ? interpolate(gettext("set by %(name)s"), { name: state.changed_by }, true) : "";
    presenceBy.hidden = !state.changed_by;
    presenceSince.dataset.since = state.since || "";
    afterContact.dataset.until = state.after_contact_until || "";
    tick();
  }

  presenceSelect.addEventListener("change", function () {
    var value = presenceSelect.value, cut = value.indexOf(":");
    var frame = cut < 0
      ? { action: "presence", presence: value, reason: "" }
      : { action: "presence", presence: value.slice(0, cut), reason: value.slice(cut + 1) };
    if (!send(frame)) {
      presenceSelect.value = presenceSelect.dataset.current || "";
      showError(gettext("Not connected: presence not changed. Reconnecting…"));
    }
  });

  // --- Timers (offers, presence, after-contact work) ----------------------------------------------

  function tick() {
    var at = now();
    Array.prototype.forEach.call(offersList.querySelectorAll(".offer"), function (item) {
      var left = Math.max(0, Math.ceil((Number(item.dataset.deadline) - at) / 1000));
      var countdown = item.querySelector(".offer-countdown");
      if (countdown.textContent !== String(left)) countdown.textContent = String(left);
      item.classList.toggle("urgent", left <= 5);
      if (left === 0 && !item.classList.contains("expired")) {
        item.classList.add("expired");
        item.querySelector(".offer-accept").disabled = true;
      }
    });
    var since = Date.parse(presenceSince.dataset.since || "");
    presenceSince.textContent = isNaN(since) ? "" : clock((at - since) / 1000);
    var until = Date.parse(afterContact.dataset.until || "");
    var acw = !isNaN(until) && presenceState.dataset.presence === "after_contact";
    afterContact.hidden = !acw;
    if (acw) afterContact.textContent = interpolate(gettext("After-contact work: %(time)s left"), { time: clock((until - at) / 1000) }, true);
  }
  setInterval(tick, 500);

  // --- Tabs and panels --------------------------------------------------------------------------

  function allTabs() { return Array.prototype.slice.call(tabs.querySelectorAll(".desk-tab")); }
  function currentTab() { return tabs.querySelector('.desk-tab[aria-selected="true"]'); }
  function findPanel(id) { return panels.querySelector('.conversation-panel[data-conversation-id="' + cssId(id) + '"]'); }
  function findTab(id) { return tabs.querySelector('.conversation-tab[data-conversation-id="' + cssId(id) + '"]'); }

  function panelOf(tab) {
    if (!tab) return null;
    if (tab.classList.contains("conversation-tab")) return findPanel(tab.dataset.conversationId);
    return panels.querySelector('.customer-only-panel[data-customer-id="' + cssId(tab.dataset.customerId) + '"]');
  }

  function selectTab(tab) {
    if (!tab) return;
    allTabs().forEach(function (other) {
      other.setAttribute("aria-selected", other === tab ? "true" : "false");
      other.classList.toggle("active", other === tab);
      var panel = panelOf(other);
      if (panel) panel.hidden = other !== tab;
    });
    var unread = tab.querySelector(".tab-unread");
    if (unread) unread.hidden = true;
    var shown = panelOf(tab);
    if (shown) scrollToEnd(shown);
  }

  function selectIndex(index) { selectTab(allTabs()[index]); }

  function step(by) {
    var list = allTabs();
    if (!list.length) return;
    var at = list.indexOf(currentTab());
    selectTab(list[(at + by + list.length) % list.length]);
  }

  function updateNoWork() { noWork.hidden = allTabs().length > 0; }

  function removeTab(tab) {
    if (!tab) return;
    var panel = panelOf(tab);
    var wasCurrent = tab.getAttribute("aria-selected") === "true";
    var list = allTabs(), at = list.indexOf(tab);
    if (panel) {
      unfollow(panel);
      panel.remove();
    }
    tab.remove();
    if (wasCurrent) {
      list = allTabs();
      selectTab(list[Math.min(at, list.length - 1)]);
    }
    updateNoWork();
  }

  function closeConversation(id) { removeTab(findTab(id)); }

  function fragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      return response.text().then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        if (!response.ok) {
          var message = template.content.querySelector(".error p");
          throw new Error(message ? message.textContent : "The server answered " + response.status + ".");
        }
        return template.content;
      });
    });
  }

  function place(content, tabSelector, panelSelector, activate) {
    var tab = content.querySelector(tabSelector), panel = content.querySelector(panelSelector);
    if (!tab || !panel) return;
    tabs.appendChild(tab);
    panels.insertBefore(panel, noWork);
    if (window.htmx) window.htmx.process(panel);
    setUp(panel);
    if (activate || !currentTab()) selectTab(tab);
    updateNoWork();
  }

  function openConversation(id, activate) {
    if (id === undefined || id === null) return;
    var tab = findTab(id);
    if (tab) {
      if (activate) selectTab(tab);
      return;
    }
    var key = "c" + id;
    if (loading[key]) return;
    loading[key] = true;
    fragment(desk.dataset.conversationUrl.replace(/\/0\/$/, "/" + cssId(id) + "/"))
      .then(function (content) {
        if (!findTab(id)) place(content, ".conversation-tab", ".conversation-panel", activate);
      })
      .catch(function (error) { showError(interpolate(gettext("Conversation %(id)s could not be opened: %(error)s"), { id: id, error: error.message }, true)); })
      .then(function () { delete loading[key]; });
  }

  function openCustomer(id) {
    var tab = tabs.querySelector('.customer-tab[data-customer-id="' + cssId(id) + '"]');
    if (tab) {
      selectTab(tab);
      return;
    }
    var key = "u" + id;
    if (loading[key]) return;
    loading[key] = true;
    fragment(desk.dataset.customerUrl.replace(/\/0\/$/, "/" + cssId(id) + "/"))
      .then(function (content) { place(content, ".customer-tab", ".customer-only-panel", true); })
      .catch(function (error) { showError(interpolate(gettext("Customer %(id)s could not be opened: %(error)s"), { id: id, error: error.message }, true)); })
      .then(function () { delete loading[key]; });
  }

  function toWrapUp(id) {
    var panel = findPanel(id), tab = findTab(id);
    if (!panel) return;
    panel.classList.add("in-wrap-up");
    if (tab) tab.classList.add("in-wrap-up");
    var reply = panel.querySelector("form.reply-form");
    Array.prototype.forEach.call(reply.querySelectorAll("textarea, button"), function (control) { control.disabled = true; });
    panel.querySelector("form.reply-form textarea").placeholder = "The conversation has ended";
    var transfer = panel.querySelector("form.transfer-form button[type=submit]");
    if (transfer) transfer.disabled = true;
    panel.querySelector(".wrap-up").hidden = false;
    var cancel = panel.querySelector(".wrap-up-cancel");
    if (cancel) cancel.remove(); // the wrap-up is due now
  }

  function openWrapUp(panel) {
    if (!panel || !panel.classList.contains("conversation-panel")) return;
    var box = panel.querySelector(".wrap-up");
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
    box.querySelector("select[name=wrap_up_code]").focus();
  }

  // --- Messages and context ---------------------------------------------------------------------

  function lastMessageId(conversationId) {
    var panel = findPanel(conversationId);
    return panel ? Number(panel.dataset.lastMessageId) || 0 : 0;
  }

  function messageElement(message) {
    var payload = message.payload || {};
    var item = make("li", "message " + (message.direction || "") + (payload.event ? " event" : "") + (message.internal ? " internal" : ""));
    item.dataset.messageId = message.id;
    item.dataset.authorKind = message.author_kind;
    if (message.internal) item.dataset.internal = "true"; // a supervisor's whisper: the customer never sees it
    if (payload.event) item.dataset.event = payload.event;
    var meta = make("div", "message-meta");
    meta.appendChild(make("span", "message-author", message.author_name || KIND_LABELS[message.author_kind] || message.author_kind));
    var time = make("time", null, hhmm(message.sent_at));
    time.setAttribute("datetime", message.sent_at);
    meta.appendChild(time);
    if (payload.event) meta.appendChild(make("span", "tag event-tag", payload.event));
    var mood = sentimentTag(message);
    if (mood) meta.appendChild(mood);
    if (payload.delivery) meta.appendChild(window.deskDelivery ? window.deskDelivery.tag(payload) : make("small", "delivery", payload.delivery));
    ["recording", "transcript"].forEach(function (name) {
      var url = payload[name + "_url"];
      if (typeof url === "string" && /^https?:\/\//i.test(url)) {
        var link = make("a", null, name);
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        meta.appendChild(link);
      }
    });
    item.appendChild(meta);
    item.appendChild(make("div", "message-body", message.body));
    return item;
  }

  // A customer message's sentiment (insights' VADER score, English only): its score, or "not scored" and why.
  function sentimentLabel(score) { return score >= 0.05 ? "positive" : score <= -0.05 ? "negative" : "neutral"; }
  function sentimentTag(message) {
    var tag;
    if (message.sentiment_status === "scored" && typeof message.sentiment === "number") {
      tag = make("span", "tag message-sentiment sentiment-" + sentimentLabel(message.sentiment), message.sentiment.toFixed(2));
      tag.title = gettext("Sentiment (VADER, -1 … 1)");
    } else if (message.sentiment_status === "not_scored") {
      tag = make("span", "tag message-sentiment sentiment-unknown", gettext("not scored"));
      tag.title = message.sentiment_note || gettext("not scored");
    } else {
      return null;
    }
    tag.dataset.testid = "message-sentiment";
    return tag;
  }

  // The conversation's running sentiment and a strongly negative turn's alert, from its context.
  function applySentiment(id, version, values) {
    var panel = findPanel(id);
    var box = panel && panel.querySelector(".conversation-sentiment");
    if (!box || Number(version) < (Number(box.dataset.version) || 0)) return; // an older change arriving late
    box.dataset.version = String(version);
    if (typeof values.sentiment === "number") {
      var label = typeof values.sentiment_label === "string" ? values.sentiment_label : sentimentLabel(values.sentiment);
      var value = box.querySelector(".sentiment-value");
      value.textContent = values.sentiment.toFixed(2) + " · " + label;
      value.className = "sentiment-value sentiment-" + cssId(label);
      box.dataset.score = String(values.sentiment);
    }
    var alert = box.querySelector(".sentiment-alert");
    if (typeof values.sentiment_alert === "string" && values.sentiment_alert) {
      alert.textContent = values.sentiment_alert;
      alert.hidden = false;
    }
  }

  function insertMessage(panel, item) {
    var id = Number(item.dataset.messageId);
    var list = panel.querySelector(".messages");
    if (list.querySelector('.message[data-message-id="' + id + '"]')) return false;
    var nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    var later = Array.prototype.find.call(list.children, function (other) { return Number(other.dataset.messageId) > id; });
    list.insertBefore(item, later || null);
    if (id > (Number(panel.dataset.lastMessageId) || 0)) panel.dataset.lastMessageId = String(id);
    if (nearEnd || item.dataset.authorKind === "agent") scrollToEnd(panel);
    var tab = findTab(panel.dataset.conversationId);
    if (tab && tab.getAttribute("aria-selected") !== "true" && item.dataset.authorKind === "customer") {
      tab.querySelector(".tab-unread").hidden = false;
    }
    return true;
  }

  // A pushed message names the one before it (previous): a panel whose newest is older lost a push
  // in between (the server's Redis restarting) and asks for what it missed before showing this one.
  function addMessage(message, previous) {
    if (!message) return;
    var panel = findPanel(message.conversation);
    if (!panel) return;
    var key = "conversation_messages:" + message.conversation;
    if (previous && wanted[key] && Number(previous) > lastMessageId(message.conversation)) subscribe(key);
    insertMessage(panel, messageElement(message));
  }

  function scrollToEnd(panel) {
    var list = panel.querySelector(".messages");
    if (list) list.scrollTop = list.scrollHeight;
  }

  function applyConversationStatus(id, status) {
    var panel = findPanel(id);
    if (!panel) return;
    panel.dataset.status = status;
    var label = panel.querySelector(".conversation-status");
    if (label) {
      label.dataset.status = status;
      label.textContent = { active: gettext("With an agent"), queued: gettext("Waiting for an agent"), ended: gettext("Ended"), self_service: gettext("In self-service") }[status] || status;
    }
    if (status === "ended") toWrapUp(id);
  }

  function contextText(value) { return typeof value === "string" ? value : JSON.stringify(value); }

  function applyContext(scope, id, version, values) {
    var selector = '.live-context .context[data-scope="' + cssId(scope) + '"][data-id="' + cssId(id) + '"]';
    Array.prototype.forEach.call(panels.querySelectorAll(selector), function (box) {
      var before = Number(box.dataset.version) || 0;
      if (Number(version) < before) return; // an older change arriving late
      box.dataset.version = String(version);
      var list = box.querySelector(".context-values");
      list.textContent = "";
      var keys = Object.keys(values || {}).sort();
      keys.forEach(function (key) {
        list.appendChild(make("dt", null, key));
        list.appendChild(make("dd", null, contextText(values[key])));
      });
      if (!keys.length) {
        list.appendChild(make("dt", "muted", gettext("Nothing yet.")));
        list.appendChild(make("dd"));
      }
      if (Number(version) > before) {
        box.classList.remove("changed");
        void box.offsetWidth; // restart the highlight
        box.classList.add("changed");
      }
    });
    if (scope === "conversation" && values) applySentiment(id, version, values);
    if (scope === "conversation" && values && values.verification_level) {
      var panel = findPanel(id);
      var level = panel && panel.querySelector(".verification-level");
      if (level && LEVEL_LABELS[values.verification_level]) {
        level.dataset.level = values.verification_level;
        level.className = "verification-level level-" + values.verification_level;
        level.textContent = LEVEL_LABELS[values.verification_level];
      }
    }
  }

  function setUp(panel) {
    Array.prototype.forEach.call(panel.querySelectorAll(".messages time[datetime]"), function (time) {
      time.textContent = hhmm(time.getAttribute("datetime")) || time.textContent;
    });
    follow(panel);
  }

  // --- htmx: replies, wrap-up and transfer --------------------------------------------------------

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form.reply-form")) {
      // The same id on a retry, so that a reply is never sent twice.
      if (!form.dataset.clientId) form.dataset.clientId = newClientId();
      event.detail.parameters.client_message_id = form.dataset.clientId;
    }
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!form || !form.matches || !form.matches("form.reply-form") || event.detail.xhr.status !== 200) return;
    event.detail.shouldSwap = false;
    var template = document.createElement("template");
    template.innerHTML = event.detail.serverResponse;
    var item = template.content.querySelector(".message");
    var panel = form.closest(".conversation-panel");
    if (item && panel) {
      setUpTime(item);
      insertMessage(panel, item);
    }
    form.querySelector(".form-errors").textContent = "";
    delete form.dataset.clientId;
    form.reset();
  });

  function setUpTime(item) {
    var time = item.querySelector("time[datetime]");
    if (time) time.textContent = hhmm(time.getAttribute("datetime")) || time.textContent;
  }

  // The customer's recommended actions changed (offered, decided): each of their Next best action
  // cards reads itself again (its hx-trigger is "cea:recommendations") — except the card that the
  // change's own decision rendered (its data-decided names the action): that one is current, and its
  // notice ("Accepted: …") would be lost to a read again, whether the push came before the answer
  // or after it.
  // A card still reading itself when another change comes would drop the new trigger (htmx ignores a
  // request while the element's last one is in flight), and a card just swapped in does not listen
  // until htmx has settled it: either way the change waits, and is applied once the swap has settled.
  // A customer's waiting changes are one decided action's (its id) or any other (null: read again).
  var recommendationsWaiting = {};
  var HTMX_BUSY = ["htmx-request", "htmx-swapping", "htmx-settling", "htmx-added"];
  function refreshRecommendations(customerId, decided) {
    if (!window.htmx || customerId === undefined || customerId === null) return;
    var decidedId = decided === undefined || decided === null ? null : String(decided);
    var selector = '.next-best-action[data-customer-id="' + cssId(customerId) + '"]';
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (card) {
      var busy = HTMX_BUSY.some(function (name) { return card.classList.contains(name); });
      if (busy) {
        var waiting = recommendationsWaiting[customerId];
        recommendationsWaiting[customerId] = waiting === undefined || waiting === decidedId ? decidedId : null;
      } else if (decidedId === null || card.getAttribute("data-decided") !== decidedId) {
        window.htmx.trigger(card, "cea:recommendations");
      }
    });
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    Object.keys(recommendationsWaiting).forEach(function (customerId) {
      var decided = recommendationsWaiting[customerId];
      delete recommendationsWaiting[customerId];
      refreshRecommendations(customerId, decided);
    });
  });

  // An outbound conversation the agent started from the desk: open its tab.
  document.body.addEventListener("desk:opened", function (event) {
    if (event.detail && event.detail.conversation) openConversation(event.detail.conversation, true);
  });

  document.body.addEventListener("desk:closed", function (event) {
    closeConversation(event.detail && event.detail.conversation);
  });

  document.body.addEventListener("htmx:sendError", function () {
    showError(gettext("The server could not be reached. Try again in a moment."));
  });

  // --- Clicks and keys --------------------------------------------------------------------------

  desk.addEventListener("click", function (event) {
    var target = event.target;
    var button = target.closest("button");
    if (target.closest(".tab-close")) {
      removeTab(target.closest(".desk-tab"));
    } else if (target.closest(".desk-tab")) {
      selectTab(target.closest(".desk-tab"));
    } else if (button && button.classList.contains("offer-accept")) {
      answerOffer(button.closest(".offer"), "accept");
    } else if (button && button.classList.contains("offer-reject")) {
      answerOffer(button.closest(".offer"), "reject");
    } else if (button && button.classList.contains("wrap-up-open")) {
      openWrapUp(button.closest(".conversation-panel"));
    } else if (button && button.classList.contains("wrap-up-cancel")) {
      button.closest(".wrap-up").hidden = true;
    } else if (button && button.classList.contains("open-customer")) {
      openCustomer(button.dataset.customerId);
    } else if (button && button.classList.contains("search-close")) {
      document.getElementById("search-results").textContent = "";
    } else if (button && button.id === "desk-help-open") {
      toggleHelp();
    }
  });

  function toggleHelp() {
    if (help.open) help.close();
    else help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      var digit = /^Digit([1-9])$/.exec(event.code);
      if (event.code === "KeyA") acceptOldest();
      else if (event.code === "KeyW") openWrapUp(panelOf(currentTab()));
      else if (digit) selectIndex(Number(digit[1]) - 1);
      else if (event.key === "ArrowLeft") step(-1);
      else if (event.key === "ArrowRight") step(1);
      else return;
      event.preventDefault();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && event.target.matches("form.reply-form textarea")) {
      event.preventDefault();
      event.target.form.requestSubmit();
    } else if (event.key === "?" && !typing(event.target)) {
      event.preventDefault();
      toggleHelp();
    }
  });

  // --- Start ------------------------------------------------------------------------------------

  Array.prototype.forEach.call(offersList.querySelectorAll(".offer"), function (item) {
    setDeadline(item, item.dataset.remaining);
  });
  Array.prototype.forEach.call(panels.querySelectorAll(".desk-panel"), setUp);
  selectTab(allTabs()[0]);
  updateOffers();
  updateNoWork();
  tick();
  connect();
  // Opened from a customer's 360 page (/desk/?customer=<id>): open their tab (Next best action, contact).
  var asked = new URLSearchParams(window.location.search).get("customer");
  if (asked && /^[0-9]{1,18}$/.test(asked)) openCustomer(asked);
  // Opened from the 360 page's "Start a conversation" (/desk/?conversation=<id>): show that conversation.
  var started = new URLSearchParams(window.location.search).get("conversation");
  if (started && /^[0-9]{1,18}$/.test(started)) {
    var startedTab = tabs.querySelector('.conversation-tab[data-conversation-id="' + started + '"]');
    if (startedTab) selectTab(startedTab);
  }
  window.addEventListener("online", function () {
    var busy = socket && (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN);
    if (!busy && !refused) connect();
  });
}());
