"""``zenoo-etl sandbox`` as a user runs it: prints how to connect, serves, stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import aiohttp


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zenoo_etl",
        "sandbox",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_serves_json2_with_the_printed_key_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    proc = await _start("--port", "0", "--db", str(db), "--version", "19.0", "--json")
    try:
        assert proc.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, (await proc.stderr.read()).decode() if proc.stderr else ""
            text += line.decode()
        info = json.loads(text)
        assert (info["database"], info["login"], info["version"]) == ("etl", "admin", "19.0")
        async with aiohttp.ClientSession() as s:
            headers = {"Authorization": f"bearer {info['api_key']}"}
            url = f"{info['url']}/json/2/res.partner/create"
            async with s.post(
                url, json={"vals_list": [{"name": "From CLI"}]}, headers=headers
            ) as r:
                assert r.status == 200 and await r.json() == [
                    6
                ]  # 19.0 seeds 5 partners (no default user template)
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert code == 0
    assert db.exists()


async def test_cli_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = await _start("--port", str(port))
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    message = err.decode()
    assert (
        message.startswith("Error: The sandbox cannot listen on 127.0.0.1:") and "--port" in message
    )
    assert "Traceback" not in message
