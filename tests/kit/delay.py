"""A TCP proxy on 127.0.0.1 that adds latency, to make a near registry look far away.

Every chunk is delivered ``delay / 2`` seconds after it arrived, in each direction, so a round trip (the TCP and
TLS handshakes included) costs ``delay`` more, as to a registry on another continent; throughput is not limited.
TLS passes through untouched, so certificates stay valid.

    python -m tests.kit.delay PORTS_FILE DELAY UPSTREAM_PORT [UPSTREAM_PORT ...]

listens on one free port per upstream and writes ``{"<upstream>": <port>, ...}`` to PORTS_FILE. Prints one line
per connection it accepts (``connection <upstream>``): how many TCP and TLS handshakes a client paid for.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, half: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            pause = due - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    delivering = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + half, data))
            if not data:
                break
    except (ConnectionError, OSError):
        await queue.put((loop.time(), b""))
    await delivering


async def _serve(upstream: int, delay: float) -> asyncio.AbstractServer:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        print(f"connection {upstream}", flush=True)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _pump(client_reader, server_writer, delay / 2), _pump(server_reader, client_writer, delay / 2)
            )
        except (ConnectionError, OSError):
            pass
        finally:
            for writer in (client_writer, server_writer):
                writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _main(ports_file: Path, delay: float, upstreams: list[int]) -> None:
    servers = [await _serve(upstream, delay) for upstream in upstreams]
    ports = {str(upstream): server.sockets[0].getsockname()[1] for upstream, server in zip(upstreams, servers)}
    ports_file.write_text(json.dumps(ports))
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), float(sys.argv[2]), [int(port) for port in sys.argv[3:]]))
