// The live view player: reads the camera's fragmented MP4 from the view's WebSocket into Media
// Source Extensions, keeps to the live edge, and says plainly when and why the stream stops.
"use strict";

(function () {
  const video = document.querySelector("video[data-stream]");
  if (!video) {
    return;
  }
  const status = document.querySelector("[data-testid='stream-status']");
  const LIVE_EDGE_S = 0.3;
  const BEHIND_S = 1.5;
  const KEEP_S = 30;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  // The codec string of the H.264 track, from the avcC box of the initialisation segment.
  function codecOf(init) {
    for (let i = 4; i + 8 < init.length; i++) {
      if (init[i] === 0x61 && init[i + 1] === 0x76 && init[i + 2] === 0x63 && init[i + 3] === 0x43) {
        const hex = (n) => n.toString(16).padStart(2, "0");
        return "avc1." + hex(init[i + 5]) + hex(init[i + 6]) + hex(init[i + 7]);
      }
    }
    return "avc1.42E01E";
  }

  const media = new MediaSource();
  video.src = URL.createObjectURL(media);
  const pending = [];
  let buffer = null;

  function appendNext() {
    if (!buffer || buffer.updating || pending.length === 0) {
      return;
    }
    const end = buffer.buffered.length ? buffer.buffered.end(buffer.buffered.length - 1) : 0;
    if (video.currentTime > KEEP_S + 5 && buffer.buffered.length && buffer.buffered.start(0) < video.currentTime - KEEP_S) {
      buffer.remove(0, video.currentTime - KEEP_S);
      return;
    }
    buffer.appendBuffer(pending.shift());
    if (end - video.currentTime > BEHIND_S) {
      video.currentTime = end - LIVE_EDGE_S;
    }
  }

  media.addEventListener("sourceopen", function () {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + video.dataset.stream);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", function (event) {
      const data = new Uint8Array(event.data);
      if (!buffer) {
        buffer = media.addSourceBuffer('video/mp4; codecs="' + codecOf(data) + '"');
        buffer.mode = "segments";
        buffer.addEventListener("updateend", appendNext);
        say("Live.");
      }
      pending.push(data);
      appendNext();
      if (video.paused) {
        video.play().catch(function () {});
      }
    });
    socket.addEventListener("close", function (event) {
      say("The stream has stopped: " + (event.reason || "the connection closed") + " (" + event.code + ").");
    });
  });
})();
