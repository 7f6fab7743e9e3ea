// Passkeys, around django-otp-webauthn's own scripts (which run the browser's ceremony). Loaded before them.
(function () {
  "use strict";
  // The package's scripts put their words through Django's gettext; hjp's pages are in English, so they stay
  // as written, with no translation catalogue to fetch.
  if (typeof window.gettext !== "function") {
    window.gettext = function (text) { return text; };
  }

  function say(id, text) {
    const element = document.getElementById(id);
    if (element) {
      element.textContent = text;
    }
  }

  // The second step: the browser found no passkey for hjp, or the user cancelled. (A passkey the server
  // refused shows the server's own message.)
  document.addEventListener("otp_webauthn.verification_failed", function (event) {
    const error = event.detail && event.detail.error;
    if (error && error.name === "NotAllowedError") {
      say("passkey-verification-status-message",
        "No passkey for hjp was used: this device or security key has none, or you cancelled. " +
        "Try again with the passkey you set up, or use another way below.");
    }
  });

  // Setting one up: once the browser has made the passkey, the form sends its name, which makes it count.
  document.addEventListener("otp_webauthn.register_complete", function (event) {
    const form = document.getElementById("passkey-add-form");
    if (form && event.detail && event.detail.id) {
      form.elements.credential.value = event.detail.id;
      form.submit();
    }
  });

  // Pressing Enter in the name field before the passkey exists starts making it, rather than sending the form.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const button = document.getElementById("passkey-register-button");
    if (form.id === "passkey-add-form" && !form.elements.credential.value && button) {
      event.preventDefault();
      button.click();
    }
  });
})();
