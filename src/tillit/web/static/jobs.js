// Follows a running job: polls GET /api/v1/jobs/{id} and updates the progress bar and
// the status line (an aria-live region); reloads the page when the job has finished,
// so that the report or the error is shown. Without scripts the page has a link.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var id = box.getAttribute("data-job");
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  var message = document.getElementById("job-message");
  function poll() {
    fetch("/api/v1/jobs/" + id, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        if (job.status === "done" || job.status === "failed") {
          window.location.reload();
          return;
        }
        if (bar && job.percent !== null) { bar.value = Math.round(job.percent); }
        if (count && job.total) { count.textContent = job.done + " / " + job.total; }
        if (message && job.message) { message.textContent = job.message; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
