"""`musicscape bench --osc-beats`: how late beats reach an OSC receiver.

The real app runs headless on a file with `--osc-out` pointed at a python-osc server on
loopback in this process. Each `/musicscape/beat` carries the beat's audio time (the play
time of the analysis frame it was found in, on the monotonic clock); the latency is the
message's arrival time minus that.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from .app_bench import WARMUP_SECONDS
from .headless_run import headless_window, wait


def run_osc_bench(model_dir: Path, seconds: float, audio_file: str | None) -> dict:
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    latencies: list[float] = []
    lock = threading.Lock()
    measuring = threading.Event()

    def on_beat(_address, audio_time):
        arrived = time.perf_counter()
        if measuring.is_set():
            with lock:
                latencies.append(arrived - audio_time)

    dispatcher = Dispatcher()
    dispatcher.map("/musicscape/beat", on_beat)
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    serving = threading.Thread(target=server.serve_forever, name="osc-bench", daemon=True)
    serving.start()
    try:
        with headless_window(model_dir, seconds + 30, audio_file) as window:
            window.stage.send_osc("127.0.0.1", server.server_address[1])
            wait(WARMUP_SECONDS)
            measuring.set()
            wait(seconds)
            output = window.source.output_name
    finally:
        server.shutdown()
        server.server_close()
    with lock:
        values = np.asarray(latencies) * 1e3
    return {
        "beats": len(values),
        "latency_ms_p50": float(np.percentile(values, 50)) if len(values) else None,
        "latency_ms_p95": float(np.percentile(values, 95)) if len(values) else None,
        "latency_ms_max": float(values.max()) if len(values) else None,
        "output_device": output,
        "latency_from": "a beat's audio time to its /musicscape/beat arriving on loopback",
    }
