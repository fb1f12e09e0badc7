/*
 * The reply box's files on the agent desktop (templates/engagement/desktop/partials/_reply_attachments.html).
 *
 * Each chosen file is uploaded at once as a draft of the conversation (POST
 * /api/v1/engagement/conversations/<id>/attachments/, the agent's session and CSRF token) and listed,
 * removable; the reply form then sends the drafts' ids (`attachments`) with the text. A reply waits
 * while a file is still uploading. Plain script, no build step.
 */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) return;
  var csrf = (function () {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }());

  function boxOf(node) {
    var form = node.closest("form.reply-form");
    return form ? form.querySelector(".reply-attachments") : null;
  }
  function showError(box, text) {
    var errors = box.closest("form.reply-form").querySelector(".form-errors");
    if (errors) errors.textContent = text;
  }

  function upload(box, file) {
    var list = box.querySelector(".reply-attachment-list");
    var item = document.createElement("li");
    item.className = "reply-attachment";
    item.dataset.testid = "reply-attachment";
    item.dataset.state = "uploading";
    var name = document.createElement("span");
    name.textContent = file.name;
    var state = document.createElement("small");
    state.className = "muted";
    state.textContent = " uploading…";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary reply-attachment-remove";
    remove.dataset.testid = "reply-attachment-remove";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + file.name);
    remove.addEventListener("click", function () { item.remove(); });
    item.append(name, state, " ", remove);
    list.appendChild(item);
    var data = new FormData();
    data.append("file", file, file.name);
    fetch(box.dataset.uploadUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = body.error || {};
          var field = error.fields && error.fields.file && error.fields.file[0];
          throw new Error(error.message || field || ("The server answered " + response.status + "."));
        }
        return body;
      });
    }).then(function (draft) {
      item.dataset.attachmentId = String(draft.id);
      item.dataset.state = "ready";
      state.textContent = " " + Math.max(1, Math.round(draft.size / 1024)) + " KB";
    }).catch(function (error) {
      item.dataset.state = "failed";
      state.textContent = " not attached: " + error.message;
      showError(box, file.name + ": " + error.message);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".reply-attach-input")) return;
    var box = boxOf(input);
    if (!box) return;
    Array.prototype.forEach.call(input.files || [], function (file) { upload(box, file); });
    input.value = "";
  });

  function items(form, state) {
    return Array.prototype.filter.call(form.querySelectorAll(".reply-attachment"), function (item) {
      return !state || item.dataset.state === state;
    });
  }

  // A reply waits for its files: sent while one uploads, it would go without it.
  document.body.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form.reply-form") || !items(form, "uploading").length) return;
    event.preventDefault();
    var box = form.querySelector(".reply-attachments");
    if (box) showError(box, "A file is still uploading: send when it is listed with its size.");
  });

  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form.reply-form")) return;
    var ids = items(form, "ready").map(function (item) { return item.dataset.attachmentId; });
    if (ids.length) event.detail.parameters.attachments = ids;
  });

  // Sent: the files went with the reply (drafts no more); failed ones are cleared with them.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form.reply-form") || !event.detail.successful) return;
    if (event.detail.xhr && event.detail.xhr.status !== 200) return;
    items(form).forEach(function (item) { item.remove(); });
  });
}());
