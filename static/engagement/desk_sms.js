// The desk's delivery receipts and SMS rules (docs/channels.md, "Replies out and delivery receipts").
//
// - Each outbound message's delivery tag (queued, sent, delivered, read, failed) with the time of each
//   step in its title and, when it failed, the provider's reason beside it; updated live from the
//   "conversation.delivery" pushes desktop.js hands to deskDelivery.apply.
// - Under an SMS conversation's reply box: characters, encoding (GSM-7 or UCS-2) and segments as the
//   agent types, with a warning past the most segments allowed (the server refuses those with a 400).
(function () {
  "use strict";

  var GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "\f^{}\\[~]|€";
  var LABELS = {
    queued: gettext("queued"), sent: gettext("sent"), delivered: gettext("delivered"), read: pgettext("delivery", "read"),
    failed: gettext("failed"), live: gettext("live"), not_sent: gettext("not sent")
  };

  function receiptsTitle(receipts) {
    return ["queued", "sent", "delivered", "read", "failed"]
      .filter(function (step) { return receipts && typeof receipts[step] === "string"; })
      .map(function (step) { return LABELS[step] + " " + new Date(receipts[step]).toLocaleTimeString(); })
      .join(" · ");
  }

  // The delivery tag of a message whose payload is ``payload`` (a new element).
  function tag(payload) {
    var box = document.createElement("small");
    box.className = "delivery";
    box.dataset.testid = "message-delivery";
    render(box, payload.delivery, payload.receipts, payload.error || (payload.delivery === "not_sent" && payload.reason ? { reason: payload.reason } : null));
    return box;
  }

  function render(box, delivery, receipts, error) {
    box.dataset.delivery = delivery;
    box.textContent = LABELS[delivery] || delivery;
    var title = receiptsTitle(receipts);
    if (error && error.reason) {
      box.textContent += ": " + error.reason;
      title = (title ? title + " · " : "") + error.reason;
    }
    if (title) box.title = title;
  }

  // A "conversation.delivery" push: the message's tag shows its new state.
  function apply(frame) {
    var item = document.querySelector('.conversation-panel[data-conversation-id="' + Number(frame.conversation) + '"] li[data-message-id="' + Number(frame.message) + '"]');
    if (!item) return;
    var box = item.querySelector(".delivery");
    if (!box) {
      box = tag({ delivery: frame.delivery });
      item.querySelector(".message-meta").appendChild(box);
    }
    render(box, frame.delivery, frame.receipts, frame.error);
  }

  function shape(text) {
    var gsm = true, i, c;
    var chars = Array.from(text);
    for (i = 0; i < chars.length; i++) {
      c = chars[i];
      if (GSM7.indexOf(c) < 0 && GSM7_EXTENSION.indexOf(c) < 0) { gsm = false; break; }
    }
    var single = gsm ? 160 : 70, perPart = gsm ? 153 : 67;
    var lengths = chars.map(function (ch) { return gsm ? (GSM7_EXTENSION.indexOf(ch) >= 0 ? 2 : 1) : ch.length; });
    var units = lengths.reduce(function (a, b) { return a + b; }, 0);
    if (units <= single) return { encoding: gsm ? "GSM-7" : "UCS-2", characters: chars.length, segments: 1, remaining: single - units };
    var segments = 1, used = 0;
    lengths.forEach(function (n) { if (used + n > perPart) { segments += 1; used = 0; } used += n; });
    return { encoding: gsm ? "GSM-7" : "UCS-2", characters: chars.length, segments: segments, remaining: perPart - used };
  }

  function count(textarea) {
    var counter = textarea.form && textarea.form.querySelector(".sms-counter");
    if (!counter) return;
    var s = shape(textarea.value);
    var max = Number(counter.dataset.maxSegments) || 0;
    counter.textContent = interpolate(ngettext("%(characters)s characters · %(encoding)s · %(segments)s segment (%(remaining)s left)",
      "%(characters)s characters · %(encoding)s · %(segments)s segments (%(remaining)s left)", s.segments), s, true);
    counter.dataset.segments = String(s.segments);
    var over = max && s.segments > max;
    counter.classList.toggle("over-limit", Boolean(over));
    if (over) counter.textContent += " — " + interpolate(gettext("more than %(max)s segments cannot be sent"), { max: max }, true);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches(".reply-form textarea[name=body]")) count(target);
  });
  // After a reply is sent the box is cleared; count again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target && event.target.closest && event.target.closest(".reply-form");
    var box = form && form.querySelector("textarea[name=body]");
    if (box) count(box);
  });

  window.deskDelivery = { tag: tag, apply: apply, shape: shape };
})();
