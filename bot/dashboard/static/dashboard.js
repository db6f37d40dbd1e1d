// The GEMS dashboard's one script (same origin, no inline code): ask before rejecting a listing
// and keep a submit button from being pressed twice while its request is under way.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;
  if (button && button.value === "reject" &&
      !window.confirm("Reject this listing? The seller is told the reason.")) {
    event.preventDefault();
    return;
  }
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  if (button && button.name) {  // keep the pressed button's value once it is disabled
    const hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
    form.appendChild(hidden);
  }
  if (button) button.disabled = true;
});
