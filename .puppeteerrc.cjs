// No package may download a browser at install time: whatsapp-web.js runs with Debian's chromium.
module.exports = { skipDownload: true };
