"""Headless Chromium driven over its DevTools protocol, to check pages as a browser renders them.

Chromium is Debian's ``chromium`` package (``make install`` installs it). It listens on
127.0.0.1 only, on a port it picks (read from ``DevToolsActivePort`` in a fresh profile), with
every background service that would reach the network switched off. The protocol is spoken over
a WebSocket (``websockets``' synchronous client): one flattened session per page.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
_TIMEOUT = 60.0

# Every image decoded: decode() rejects for a broken image; naturalWidth is 0 for an empty one.
_PAGE_JS = """
(async () => {
  const images = Array.from(document.images);
  const decoded = await Promise.all(images.map(img => img.decode().then(() => true, () => false)));
  return {
    images: images.map((img, i) => ({
      alt: img.alt, decoded: decoded[i], complete: img.complete,
      width: img.naturalWidth, height: img.naturalHeight,
      scheme: img.currentSrc.split(":", 1)[0],
    })),
    scripts: document.scripts.length,
    text: document.body.innerText,
  };
})()
"""


def find_chromium() -> str | None:
    """The Chromium binary on PATH (Debian: ``/usr/bin/chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageCheck:
    """What loading a page showed: console errors, requests made, images, and a screenshot."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    scripts: int = 0  # <script> elements in the rendered document
    text: str = ""  # the page's text as rendered (document.body.innerText)
    screenshot: bytes = b""
    size: tuple[int, int] = (0, 0)  # CSS pixels of the full page (width, height)


class Chromium:
    """A headless Chromium process and a DevTools connection to it; close with :meth:`close`."""

    def __init__(self, binary: str, profile: Path) -> None:
        self._process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._connection = contextlib.ExitStack()
        try:
            port, path = self._endpoint(profile / "DevToolsActivePort")
            self._socket: ClientConnection = self._connection.enter_context(
                connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=_TIMEOUT)
            )
        except BaseException:
            self._stop()
            raise
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def _endpoint(self, port_file: Path) -> tuple[int, str]:
        deadline = time.monotonic() + _TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium exited with {self._process.returncode}: {stderr}")
            lines = port_file.read_text().split() if port_file.is_file() else []
            if len(lines) == 2:
                return int(lines[0]), lines[1]
            time.sleep(0.05)
        raise TimeoutError(f"Chromium wrote no {port_file.name} within {_TIMEOUT:.0f} s")

    # ------------------------------------------------------------------------- protocol
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            reply = json.loads(self._socket.recv(timeout=_TIMEOUT))
            if reply.get("id") != message["id"]:
                self._events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{method} failed: {reply['error']}")
            return reply["result"]

    def _wait_for(self, method: str, session: str) -> None:
        seen = [e for e in self._events if e.get("method") == method]
        deadline = time.monotonic() + _TIMEOUT
        while not seen:
            event = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            self._events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return

    # ----------------------------------------------------------------------------- pages
    def check(self, url: str) -> PageCheck:
        """Load ``url`` in a new tab and report its errors, requests, images and a screenshot.

        The screenshot covers the full page at 1280 CSS pixels wide.
        """
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            return self._check(url, session)
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def _check(self, url: str, session: str) -> PageCheck:
        for domain in ("Page", "Runtime", "Log", "Network"):
            self._send(f"{domain}.enable", session=session)
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self._events.clear()
        self._send("Page.navigate", {"url": url}, session)
        self._wait_for("Page.loadEventFired", session)
        result = self._send(
            "Runtime.evaluate",
            {"expression": _PAGE_JS, "awaitPromise": True, "returnByValue": True},
            session,
        )
        size = self._send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        width, height = int(size["width"]), int(size["height"])
        shot = self._send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
            session,
        )
        facts = result["result"]["value"]
        page = PageCheck(
            images=facts["images"],
            scripts=facts["scripts"],
            text=facts["text"],
            screenshot=base64.b64decode(shot["data"]),
            size=(width, height),
        )
        for event in self._events:
            if event.get("sessionId") == session:
                _record(page, event)
        return page

    def close(self) -> None:
        """Close the browser and wait for its process to end."""
        with contextlib.suppress(Exception):  # the connection may drop as the browser exits
            self._send("Browser.close")
        self._connection.close()
        self._stop()

    def _stop(self) -> None:
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr is not None:
            self._process.stderr.close()


def _record(page: PageCheck, event: dict[str, Any]) -> None:
    """Add a console error, an uncaught exception, a log error or a request to ``page``."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        page.errors.append(f"console.{params['type']}: {params.get('args')}")
    elif method == "Runtime.exceptionThrown":
        page.errors.append(f"exception: {params['exceptionDetails']}")
    elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
        page.errors.append(f"log: {params['entry'].get('text')} ({params['entry'].get('url')})")
    elif method == "Network.requestWillBeSent":
        page.requests.append(params["request"]["url"])
    elif method == "Network.loadingFailed":
        page.errors.append(f"loading failed: {params.get('errorText')}")
