// Call controls on the desk (templates/engagement/desktop/partials/_voice_call.html): hold, resume and
// hang up through /api/v1/engagement/conversations/<id>/call/…; the state is read back every 10 s.
(function () {
  "use strict";
  var LABELS = {
    ivr: gettext("In self-service (IVR)"), queued: gettext("Waiting in a queue"), connecting: gettext("Being put through to an agent"),
    connected: gettext("With an agent"), held: gettext("On hold"), ended: gettext("Ended"), closed: gettext("Told the queue is closed (out of hours)")
  };

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (error) { return ""; }
  }

  function show(box, state) {
    box.setAttribute("data-state", state);
    box.querySelector(".call-state").textContent = LABELS[state] || state;
    box.querySelector('[data-call-action="hold"]').disabled = state !== "connected";
    box.querySelector('[data-call-action="resume"]').disabled = state !== "held";
    box.querySelector('[data-call-action="hang-up"]').disabled = state === "ended";
  }

  function request(box, method, path) {
    var errors = box.querySelector(".call-errors");
    return fetch(box.getAttribute("data-call-url") + path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body.error && body.error.message) || interpolate(gettext("The server answered %(status)s."), { status: response.status }, true));
        errors.textContent = "";
        if (body.state) show(box, body.state);
      });
    }).catch(function (error) { errors.textContent = error.message; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-call-action]") : null;
    if (!button) return;
    var box = button.closest(".voice-call");
    if (box) request(box, "POST", button.getAttribute("data-call-action") + "/");
  });

  window.setInterval(function () {
    document.querySelectorAll(".voice-call").forEach(function (box) {
      if (box.getAttribute("data-state") !== "ended" && box.offsetParent !== null) request(box, "GET", "");
    });
  }, 10000);
})();
