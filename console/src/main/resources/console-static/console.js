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

  // Buttons with data-post send their data-body (JSON) and report what happened.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-post]");
    if (!btn) return;
    ev.preventDefault();
    btn.disabled = true;
    fetch(btn.getAttribute("data-post"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Ferry-Csrf": csrf },
      body: btn.getAttribute("data-body") || "{}"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          flash((body && body.error) || ("HTTP " + res.status), true);
          btn.disabled = false;
          return;
        }
        var msg = body.action
          ? (body.action === "retry" ? "Retried " : "Cancelled ") + body.changed + " job" + (body.changed === 1 ? "" : "s") + "."
          : body.state ? "Breaker " + body.dependency + " is now " + body.state + "."
          : body.schedule ? "Schedule " + body.schedule + ": " + body.command
              + (body.job ? " (job " + body.job + ")" : "") + "." : "Done.";
        flash(msg, false);
        var done = btn.getAttribute("data-done");
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
