// The till's camera scanning: the browser's own BarcodeDetector, where it exists. Without it
// the button stays hidden and the code is typed. The project's own script; nothing loaded.
"use strict";
(function () {
  const scan = document.getElementById("scan");
  const help = document.getElementById("scan-help");
  const video = document.getElementById("camera");
  const input = document.getElementById("code");
  const form = document.getElementById("till-form");
  if (!scan || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  scan.hidden = false;
  help.hidden = false;
  scan.addEventListener("click", async function () {
    let stream;
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      for (;;) {
        const found = await detector.detect(video);
        if (found.length > 0) {
          input.value = found[0].rawValue;
          form.submit();
          return;
        }
        await new Promise(function (resolve) { setTimeout(resolve, 200); });
      }
    } catch (error) {
      help.textContent = ": the camera is not available here (" + error.name + "); type the code.";
    } finally {
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    }
  });
})();
