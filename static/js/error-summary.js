// Progressive enhancement for the error summary: focus it when the page loads, so screen readers announce the
// problems, and move focus into the field (not only scroll to it) when one of its links is followed.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var legendOrLabel = field.closest("fieldset") || field;
    legendOrLabel.scrollIntoView();
    field.focus();
  });
})();
