"""Media relay: server CPU per viewer, frame rate and time to first frame, forwarding against re-encoding.

What it does:

1. Makes a network namespace with only loopback and runs itself inside it (``ip netns exec``), so ICE touches no
   other interface; the server offers only 127.0.0.1 as an ICE host address and no STUN/TURN is configured.
   The namespace is deleted afterwards. Needs root and iproute2.
2. ``livecommerce db upgrade`` and ``livecommerce serve`` (one worker: the embedded shape, SQLite, in-process bus)
   on a free port on 127.0.0.1. Setup through the API (not timed): an influencer and one room per cell.
3. Per cell: an aiortc publisher sends FFmpeg's testsrc2 (640x360, 30 fps) over WHIP in the publisher's codec
   (``--codec``, H264 by default, as OBS sends). When the room is live, V viewers join over WHEP at once:
   - forwarding: they offer the publisher's codec, so the server only re-packetises its packets;
   - re-encoding: they offer only the other codec (VP8 for H264), so the server decodes and encodes per viewer
     (the relay's fallback for viewers that cannot take the publisher's codec).
   The viewers do not decode (their receivers hand over encoded frames, as the server's do), so the client's CPU
   stays low; a frame counts when it arrives whole. Time to first frame is from a viewer's POST to its first
   keyframe. After ``--settle`` seconds the server's process tree CPU (``/proc``) and each viewer's frames are
   measured for ``--seconds``.

Printed per cell: server CPU (cores, and per viewer above the publisher-only baseline), delivered frame rate per
viewer (median and minimum), time to first frame (median and maximum), this client's CPU, the host's busy cores
during the cell (everything, ours included) and before it (each cell first waits up to ``--quiet-wait`` seconds
for a quiet host: on a shared machine other people's work lowers every figure).
Run: ``.venv/bin/python bench/media_relay.py [--viewers 1,10,20,40] [--reencode-viewers 1,10,20] [--seconds 8]``.
Bounded: each cell takes about ``settle + seconds`` plus setup, the whole run stops itself after 10 minutes.
Only 127.0.0.1 inside the namespace is contacted, and only the processes started here are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from harness import (
    HOST,
    busy_cores,
    free_port,
    host_jiffies,
    machine_line,
    run_livecommerce,
    server_environment,
    serving,
    tree_cpu_seconds,
    unwind_on_sigterm,
    wait_for_quiet_host_async,
)

from live.forwarding import forward_encoded, restrict_host_addresses

WIDTH, HEIGHT, FPS = 640, 360, 30
PASSWORD = "media relay bench password"  # noqa: S105 - a throwaway account in a temporary database
RUN_LIMIT_S = 10 * 60
OTHER_CODEC = {"H264": "VP8", "VP8": "H264"}


class TestSource(VideoStreamTrack):
    """FFmpeg's testsrc2 through PyAV: a moving picture with no camera and no ffmpeg binary."""

    def __init__(self) -> None:
        super().__init__()
        self._container = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", format="lavfi")
        self._frames = self._container.decode(video=0)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = next(self._frames)
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame


def capabilities(name: str) -> list:
    return [c for c in RTCRtpReceiver.getCapabilities("video").codecs if c.mimeType in (f"video/{name}", "video/rtx")]


def is_keyframe(codec: str, data: bytes) -> bool:
    if codec == "VP8":
        return len(data) > 0 and data[0] & 0x01 == 0
    return any((data[i + 3] & 0x1F) == 5 for i in range(len(data) - 3) if data[i : i + 3] == b"\x00\x00\x01")


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


@dataclass
class Viewer:
    codec: str
    pc: RTCPeerConnection = field(default_factory=new_pc)
    frames: int = 0
    first_keyframe_s: float | None = None
    started: float = 0.0
    reader: asyncio.Task[None] | None = None

    async def join(self, client: httpx.AsyncClient, room_id: str) -> None:
        self.pc.addTransceiver("video", direction="recvonly").setCodecPreferences(capabilities(self.codec))
        self.started = time.monotonic()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await client.post(
            f"/live/rooms/{room_id}/whep",
            content=self.pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        )
        answer.raise_for_status()
        await self.pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        receiver = self.pc.getTransceivers()[0].receiver
        forward_encoded(receiver, lambda _codec: None)  # count whole frames; decoding them is not what we measure
        self.reader = asyncio.ensure_future(self._read(receiver))

    async def _read(self, receiver: RTCRtpReceiver) -> None:
        try:
            while True:
                packet = await receiver.track.recv()
                self.frames += 1
                if self.first_keyframe_s is None and is_keyframe(self.codec, bytes(packet)):
                    self.first_keyframe_s = time.monotonic() - self.started
        except MediaStreamError:
            pass


async def make_room(client: httpx.AsyncClient, token: str) -> dict:
    body = {"title": "Bench room", "product_ids": []}
    response = await client.post("/api/live/rooms", json=body, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


async def host_token(client: httpx.AsyncClient) -> str:
    email = f"host-{uuid.uuid4().hex[:8]}@bench.test"
    body = {"email": email, "password": PASSWORD, "display_name": "Bench host", "roles": ["influencer"]}
    (await client.post("/api/auth/signup", json=body)).raise_for_status()
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    client.cookies.clear()
    return login.json()["token"]


async def publish(client: httpx.AsyncClient, room: dict, codec: str) -> tuple[RTCPeerConnection, str]:
    pc = new_pc()
    pc.addTransceiver(TestSource(), direction="sendonly").setCodecPreferences(capabilities(codec))
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {room['stream_key']}"}
    answer = await client.post(f"/live/rooms/{room['id']}/whip", content=pc.localDescription.sdp, headers=headers)
    answer.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
    return pc, answer.headers["location"]


async def until_live(client: httpx.AsyncClient, room_id: str) -> None:
    for _ in range(200):
        if (await client.get(f"/api/live/rooms/{room_id}")).json()["status"] == "live":
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the room did not go live within 10 s")


@dataclass
class Cell:
    mode: str
    viewers: int
    server_cores: float
    per_viewer: float | None
    fps_median: float
    fps_min: float
    ttff_median_ms: float
    ttff_max_ms: float
    client_cores: float
    host_cores: float
    busy_before: float


def cpu_seconds_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    client: httpx.AsyncClient, token: str, server_pid: int, args: argparse.Namespace, mode: str, count: int
) -> Cell:
    quiet = await wait_for_quiet_host_async(args.quiet_wait)
    room = await make_room(client, token)
    publisher, session = await publish(client, room, args.codec)
    viewers: list[Viewer] = []
    try:
        await until_live(client, room["id"])
        await asyncio.sleep(args.settle)
        baseline = await server_cores(server_pid, 2.0) if count == 0 else None
        codec = args.codec if mode == "forwarding" else OTHER_CODEC[args.codec]
        viewers = [Viewer(codec) for _ in range(count)]
        await asyncio.gather(*(v.join(client, room["id"]) for v in viewers))
        await asyncio.sleep(args.settle)
        counts = [v.frames for v in viewers]
        server_before, client_before, host_before = tree_cpu_seconds(server_pid), cpu_seconds_self(), host_jiffies()
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        elapsed = time.monotonic() - started
        server_used = sum(tree_cpu_seconds(server_pid).values()) - sum(server_before.values())
        client_used = cpu_seconds_self() - client_before
        host = busy_cores(host_before, host_jiffies())
        rates = [(v.frames - c) / elapsed for v, c in zip(viewers, counts, strict=True)] or [0.0]
        firsts = [v.first_keyframe_s * 1000 if v.first_keyframe_s is not None else float("inf") for v in viewers]
        server = server_used / elapsed if baseline is None else baseline
        return Cell(
            mode, count, server, None, statistics.median(rates), min(rates),
            statistics.median(firsts or [0.0]), max(firsts or [0.0]), client_used / elapsed, host, quiet,
        )  # fmt: skip
    finally:
        await client.delete(session, headers={"Authorization": f"Bearer {room['stream_key']}"})
        await asyncio.gather(publisher.close(), *(v.pc.close() for v in viewers))


async def server_cores(pid: int, seconds: float) -> float:
    before = tree_cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return (sum(tree_cpu_seconds(pid).values()) - sum(before.values())) / seconds


async def bench(args: argparse.Namespace) -> int:
    restrict_host_addresses(("127.0.0.1",))
    print(machine_line())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Load average before (1/5/15 min): {load}; the cores are shared with other work.")
    print(
        f"Publisher: aiortc, testsrc2 {WIDTH}x{HEIGHT} at {FPS} fps, {args.codec}; "
        f"re-encoding viewers offer only {OTHER_CODEC[args.codec]}."
    )
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="lc-media-bench-") as tmp:
        env = server_environment(
            Path(tmp),
            base_url,
            secret_key=uuid.uuid4().hex * 2,
            auth_rate="10000/minute",
            extra={"LIVECOMMERCE_ICE_HOST_ADDRESSES": "127.0.0.1", "LIVECOMMERCE_PUBLISHER_GRACE": "5s"},
        )
        run_livecommerce("db", "upgrade", env=env)
        with serving(port, 1, env, Path(tmp) / "server.log") as pid:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                token = await host_token(client)
                baseline = await measure(client, token, pid, args, "publisher only", 0)
                cells = [baseline]
                plan = [("forwarding", n) for n in args.viewers] + [("re-encoding", n) for n in args.reencode_viewers]
                for mode, count in plan:
                    cell = await measure(client, token, pid, args, mode, count)
                    cell.per_viewer = (cell.server_cores - baseline.server_cores) / count
                    cells.append(cell)
                    print_cell(cell)
    print()
    print("| mode | viewers | server CPU (cores) | per viewer (% of a core) | fps per viewer: median / min "
          "| first frame ms: median / max | client CPU (cores) | host busy (cores) | busy before |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cell in cells:
        per = f"{cell.per_viewer * 100:.1f}" if cell.per_viewer is not None else "-"
        ttff = f"{cell.ttff_median_ms:.0f} / {cell.ttff_max_ms:.0f}" if cell.viewers else "-"
        fps = f"{cell.fps_median:.1f} / {cell.fps_min:.1f}" if cell.viewers else "-"
        print(
            f"| {cell.mode} | {cell.viewers} | {cell.server_cores:.2f} | {per} | {fps} | {ttff} "
            f"| {cell.client_cores:.2f} | {cell.host_cores:.2f} | {cell.busy_before:.2f} |"
        )
    return 0


def print_cell(cell: Cell) -> None:
    print(
        f"  {cell.mode:<11} {cell.viewers:>3} viewers: server {cell.server_cores:.2f} cores "
        f"({(cell.per_viewer or 0) * 100:.1f} % per viewer), {cell.fps_median:.1f} fps (min {cell.fps_min:.1f}), "
        f"first frame {cell.ttff_median_ms:.0f} ms (max {cell.ttff_max_ms:.0f}), client {cell.client_cores:.2f}",
        flush=True,
    )


def in_namespace(argv: list[str]) -> int:
    """Run this script again inside a fresh loopback-only network namespace; delete the namespace afterwards."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        raise SystemExit("This benchmark runs in a network namespace: it needs root and iproute2 (`ip`).")
    name = f"lc-media-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        command = ["ip", "netns", "exec", name, sys.executable, __file__, "--inside-namespace", *argv]
        return subprocess.run(command, check=False, timeout=RUN_LIMIT_S).returncode
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=counts, default=[1, 10, 20, 40], help="forwarding cells (1,10,20,40)")
    parser.add_argument("--reencode-viewers", type=counts, default=[1, 10, 20], help="re-encoding cells (1,10,20)")
    parser.add_argument("--codec", choices=["H264", "VP8"], default="H264", help="the publisher's codec (H264)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per cell (8)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before measuring (2)")
    parser.add_argument(
        "--quiet-wait", type=float, default=20.0, help="seconds to wait per cell for a host under 0.25 busy cores (20)"
    )
    parser.add_argument("--inside-namespace", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not args.inside_namespace:
        return in_namespace(argv)
    unwind_on_sigterm()
    return asyncio.run(asyncio.wait_for(bench(args), RUN_LIMIT_S))


if __name__ == "__main__":
    sys.exit(main())
