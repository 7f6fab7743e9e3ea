// Progressive enhancement for questions that matter only after a given answer (the GOV.UK conditional reveal):
// an element with data-reveal-name="<input name>" and data-reveal-value="<value>" is shown only while that
// answer is chosen (a radio button or a select). Without JavaScript every question stays visible, and the
// server asks for the revealed answers only when they apply.
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-reveal-name]");
  Array.prototype.forEach.call(blocks, function (block) {
    var form = block.closest("form");
    if (!form) { return; }
    var name = block.getAttribute("data-reveal-name");
    var value = block.getAttribute("data-reveal-value");
    var controls = Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
    if (!controls.length) { return; }
    function chosen() {
      return controls.some(function (el) {
        return el.tagName === "SELECT" ? el.value === value : el.checked && el.value === value;
      });
    }
    function update() { block.hidden = !chosen(); }
    controls.forEach(function (el) {
      if (el.type === "radio" && el.value === value && block.id) { el.setAttribute("aria-controls", block.id); }
      el.addEventListener("change", update);
    });
    update();
  });
})();
