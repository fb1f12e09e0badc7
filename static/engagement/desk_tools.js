/*
 * The desk's tools beside each conversation (templates/engagement/desktop/partials/_desktools.html):
 * canned responses and macros, and the knowledge base panel. Plain script, no build step; it works on
 * panels added later too (event delegation), and leaves the desk's socket and tabs to desktop.js.
 *
 * - Typing "/" and a shortcut in a reply box lists the matching canned responses (REST API
 *   /api/v1/engagement/canned-responses/?q=, as the signed-in agent); ↑/↓ choose, Enter or Tab
 *   inserts, Esc closes. The picker under the reply box lists them all. Inserting asks the server to
 *   fill the variables (…/{id}/apply/): the "/shortcut" typed is replaced by the text; a macro's
 *   wrap-up code is preselected in the wrap-up form and its note arrives as an internal message.
 *   Variables without a value stay as written and are named under the box.
 * - The knowledge panel reloads (htmx) when a customer's message arrives on the panel and the agent
 *   has typed no query; "Insert text" / "Insert link" put the article into the reply box.
 */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) return;
  var SLASH = /(^|\s)\/([A-Za-z0-9_-]{0,40})$/;
  var csrf = (function () {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }());

  function toolsOf(node) {
    var panel = node.closest(".conversation-panel");
    return panel ? panel.querySelector(".desk-tools") : null;
  }
  function replyBox(panel) { return panel.querySelector(".reply-form textarea[name=body]"); }
  function showError(message) {
    var errors = document.getElementById("desk-errors");
    if (errors) errors.textContent = message;
  }
  function api(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (options.body) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.message || ("The server answered " + response.status + "."));
        return body;
      });
    });
  }
  function listCanned(tools, text) {
    return api(tools.dataset.cannedUrl + "?q=" + encodeURIComponent(text || ""));
  }

  // Put ``text`` into the reply box: in place of ``range`` ([start, end]) or at the caret.
  function insertText(box, text, range) {
    var start = range ? range[0] : box.selectionStart, end = range ? range[1] : box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    var caret = start + text.length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function applyCanned(panel, cannedId, range) {
    var tools = panel.querySelector(".desk-tools");
    var url = tools.dataset.applyUrl.replace("/0/", "/" + encodeURIComponent(cannedId) + "/");
    var body = JSON.stringify({ conversation: parseInt(panel.dataset.conversationId, 10) });
    return api(url, { method: "POST", body: body }).then(function (applied) {
      closeSuggestions(tools);
      insertText(replyBox(panel), applied.text, range);
      var missing = tools.querySelector(".canned-missing");
      if (applied.missing && applied.missing.length) {
        missing.textContent = interpolate(gettext("Not filled in (no value here): %(names)s. Edit them before you send."), {
          names: applied.missing.map(function (name) { return "{{" + name + "}}"; }).join(", ")
        }, true);
        missing.hidden = false;
      } else {
        missing.hidden = true;
      }
      if (applied.wrap_up_code) {
        var select = panel.querySelector(".wrap-up-form select[name=wrap_up_code]");
        if (select) select.value = applied.wrap_up_code;
      }
    }).catch(function (error) { showError(error.message); });
  }

  function option(canned, index) {
    var item = document.createElement("li");
    item.className = "canned-option";
    item.setAttribute("role", "option");
    item.dataset.cannedId = canned.id;
    item.setAttribute("data-testid", "canned-option");
    item.setAttribute("aria-selected", index === 0 ? "true" : "false");
    var code = document.createElement("code");
    code.textContent = "/" + canned.shortcut;
    item.appendChild(code);
    item.appendChild(document.createTextNode(" " + canned.title + (canned.personal ? " (mine)" : " · " + (canned.team_name || ""))
      + (canned.macro ? " · macro" : "")));
    return item;
  }

  // --- "/shortcut" in the reply box -------------------------------------------------------------

  function closeSuggestions(tools) {
    var box = tools.querySelector(".canned-suggestions");
    box.hidden = true;
    box.querySelector(".canned-options").textContent = "";
    delete tools.dataset.slashStart;
  }

  function suggest(textarea) {
    var tools = toolsOf(textarea);
    if (!tools) return;
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = SLASH.exec(before);
    if (!match) { closeSuggestions(tools); return; }
    var start = before.length - match[2].length - 1;
    tools.dataset.slashStart = String(start);
    var asked = match[2];
    tools.dataset.asked = asked;
    listCanned(tools, asked).then(function (found) {
      if (tools.dataset.asked !== asked || tools.dataset.slashStart === undefined) return; // typed on meanwhile
      var list = tools.querySelector(".canned-options");
      list.textContent = "";
      found.filter(function (canned) { return canned.is_active; }).slice(0, 8).forEach(function (canned, index) {
        list.appendChild(option(canned, index));
      });
      tools.querySelector(".canned-suggestions").hidden = !list.children.length;
    }).catch(function (error) { showError(error.message); });
  }

  function chooseSuggestion(textarea, item) {
    var tools = toolsOf(textarea);
    var start = parseInt(tools.dataset.slashStart, 10);
    applyCanned(textarea.closest(".conversation-panel"), item.dataset.cannedId, [start, textarea.selectionStart]);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(".reply-form textarea[name=body]")) suggest(event.target);
  });

  // Capture phase: while the list is open, its keys are the list's (not the desk's Ctrl+Enter or "?").
  document.addEventListener("keydown", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches(".reply-form textarea[name=body]")) return;
    var tools = toolsOf(textarea);
    var box = tools && tools.querySelector(".canned-suggestions");
    if (!box || box.hidden) return;
    var items = Array.prototype.slice.call(box.querySelectorAll(".canned-option"));
    var current = items.findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var next = (current + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach(function (item, index) { item.setAttribute("aria-selected", index === next ? "true" : "false"); });
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && current >= 0) {
      chooseSuggestion(textarea, items[current]);
    } else if (event.key === "Escape") {
      closeSuggestions(tools);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);

  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest(".canned-suggestions .canned-option");
    if (item) {
      chooseSuggestion(replyBox(item.closest(".conversation-panel")), item);
      return;
    }
    var picked = event.target.closest && event.target.closest(".canned-all .canned-option");
    if (picked) {
      applyCanned(picked.closest(".conversation-panel"), picked.dataset.cannedId, null);
      return;
    }
    var insert = event.target.closest && event.target.closest(".knowledge-insert");
    if (insert) insertArticle(insert);
  });

  // --- The picker: every canned response, filtered --------------------------------------------------

  function fillPicker(tools) {
    var filter = tools.querySelector(".canned-filter");
    var asked = filter.value;
    listCanned(tools, asked).then(function (found) {
      if (filter.value !== asked) return;
      var list = tools.querySelector(".canned-all");
      list.textContent = "";
      found.forEach(function (canned, index) { list.appendChild(option(canned, index)); });
      if (!found.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        none.textContent = gettext("No canned response matches.");
        list.appendChild(none);
      }
    }).catch(function (error) { showError(error.message); });
  }
  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches(".canned-picker") && event.target.open) fillPicker(toolsOf(event.target));
  }, true);
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(".canned-filter")) fillPicker(toolsOf(event.target));
  });

  // --- The knowledge base panel ---------------------------------------------------------------------

  function insertArticle(button) {
    var panel = button.closest(".conversation-panel");
    var box = replyBox(panel);
    if (!box || box.disabled) return;
    var text;
    if (button.dataset.insert === "link") {
      text = button.dataset.title + ": " + button.dataset.link;
    } else {
      text = button.closest(".knowledge-article").querySelector("template.knowledge-text").content.textContent;
    }
    var separator = box.value && !/\s$/.test(box.value) ? "\n" : "";
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    insertText(box, separator + text, null);
  }

  // A customer's message added to a panel: its knowledge panel follows (unless the agent typed a query).
  var panels = document.getElementById("conversation-panels");
  if (panels && window.MutationObserver) {
    new MutationObserver(function (changes) {
      var touched = [];
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (node) {
          if (node.nodeType !== 1 || !node.matches("li.message[data-author-kind=customer]")) return;
          var panel = node.closest(".conversation-panel");
          if (panel && touched.indexOf(panel) < 0) touched.push(panel);
        });
      });
      touched.forEach(function (panel) {
        var form = panel.querySelector(".knowledge-form");
        if (form && !form.querySelector("input[name=q]").value.trim() && window.htmx) {
          window.htmx.trigger(form, "desk:knowledge-refresh");
        }
      });
    }).observe(panels, { childList: true, subtree: true });
  }
}());
