// Ferry console: actions (JSON POSTs with the CSRF header), countdowns and the chart.
// No build step; loaded with `defer`. htmx refreshes the live parts.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="ferry-csrf"]') || {}).content || "";
  var flash = function (text, isError) {
    var el = document.getElementById("flash");
    if (!el) return;
    el.textContent = text;
    el.className = isError ? "show error" : "show ok";
  };

  var message = function (body) {
    return body.action
      ? (body.action === "retry" ? "Retried " : "Cancelled ") + body.changed + " job" + (body.changed === 1 ? "" : "s") + "."
      : body.state ? "Breaker " + body.dependency + " is now " + body.state + "."
      : body.schedule ? "Schedule " + body.schedule + ": " + body.command
          + (body.job ? " (job " + body.job + ")" : "") + "."
      : body.cleared ? "Limits of " + body.dependency + " cleared."
      : body.dependency !== undefined && "maxConcurrent" in body
        ? "Limits of " + body.dependency + ": " + (body.rate === null ? "no rate limit" : "rate " + body.rate)
          + ", " + (body.maxConcurrent === null ? "no cap" : "at most " + body.maxConcurrent + " at once") + "."
      : "Done.";
  };

  // Sends a JSON action with the CSRF header and reports what happened; then goes to `done`,
  // refreshes the live part, or reloads the page.
  var post = function (url, body, btn, done) {
    btn.disabled = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Ferry-Csrf": csrf },
      body: body
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          flash((body && body.error) || ("HTTP " + res.status), true);
          btn.disabled = false;
          return;
        }
        var msg = message(body);
        flash(msg, false);
        if (done) {
          sessionStorage.setItem("ferry-flash", msg);
          window.location.assign(done);
        } else if (document.getElementById("live") && window.htmx) {
          htmx.ajax("GET", document.getElementById("live").getAttribute("hx-get"), { target: "#live", swap: "outerHTML" });
          btn.disabled = false;
        } else {
          sessionStorage.setItem("ferry-flash", msg);
          window.location.reload();
        }
      });
    }).catch(function (e) {
      flash("Request failed: " + e, true);
      btn.disabled = false;
    });
  };

  // Buttons with data-post send their data-body (JSON).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-post]");
    if (!btn) return;
    ev.preventDefault();
    post(btn.getAttribute("data-post"), btn.getAttribute("data-body") || "{}", btn, btn.getAttribute("data-done"));
  });

  // Limit forms (data-limit-form): POST /api/limits/{dependency} with {"rate", "maxConcurrent"}.
  // "edit" sends both, an empty field as null (removes that limit); "add" leaves empty fields out
  // (a part not given stays as it is). The server checks every value and says what is wrong.
  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form[data-limit-form]");
    if (!form) return;
    ev.preventDefault();
    var edit = form.getAttribute("data-limit-form") === "edit";
    var dependency = edit ? form.getAttribute("data-dependency") : form.elements.dependency.value.trim();
    var body = {};
    var rate = form.elements.rate.value.trim();
    if (rate !== "" || edit) body.rate = rate === "" ? null : rate;
    var max = form.elements.maxConcurrent;
    if (max.validity && max.validity.badInput) {
      flash("Max concurrent must be a whole number (or empty: no cap).", true);
      return;
    }
    var m = max.value.trim();
    if (m !== "" || edit) body.maxConcurrent = m === "" ? null : /^-?[0-9]+$/.test(m) ? Number(m) : m;
    // Dots encoded too: a name "." or ".." must not be read as a path step.
    post("/api/limits/" + encodeURIComponent(dependency).replace(/\./g, "%2E"), JSON.stringify(body),
      form.querySelector("button[type=submit]"), null);
  });

  // Countdowns to a time (next attempt of a job waiting to retry).
  var tick = function () {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(at)) return;
      var s = Math.round((at - Date.now()) / 1000);
      el.textContent = s > 0 ? "in " + (s >= 120 ? Math.round(s / 60) + " min" : s + " s") : "due now";
    });
  };
  setInterval(tick, 1000);

  // The chart of finished and failed jobs per minute.
  var chart = null;
  var drawChart = function () {
    var holder = document.getElementById("chart");
    var live = document.getElementById("live");
    if (!holder || !live || !window.uPlot || !live.getAttribute("data-chart")) return;
    var rows = JSON.parse(live.getAttribute("data-chart"));
    var data = [
      rows.map(function (r) { return Date.parse(r.minute) / 1000; }),
      rows.map(function (r) { return r.finished; }),
      rows.map(function (r) { return r.failed; })
    ];
    if (chart) {
      chart.setData(data);
      return;
    }
    var width = Math.max(280, holder.clientWidth);
    chart = new uPlot({
      width: width,
      height: 220,
      series: [
        {},
        { label: "finished", stroke: "#2f7d4f", fill: "rgba(47,125,79,0.12)", width: 2 },
        { label: "failed", stroke: "#c0392b", fill: "rgba(192,57,43,0.12)", width: 2 }
      ],
      axes: [{}, { label: "jobs / min" }]
    }, data, holder);
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(280, holder.clientWidth), height: 220 });
    });
  };
  document.addEventListener("DOMContentLoaded", function () {
    // The message of an action whose page was reloaded.
    var pending = sessionStorage.getItem("ferry-flash");
    if (pending) {
      sessionStorage.removeItem("ferry-flash");
      flash(pending, false);
    }
    tick();
    drawChart();
  });
  document.body && document.body.addEventListener("htmx:afterSwap", drawChart);
  document.addEventListener("htmx:afterSwap", drawChart);
})();
