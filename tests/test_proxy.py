"""Client addresses behind a real nginx (Debian's, started by the test on
loopback): only the configured proxy's X-Forwarded-For is believed, and from
it the right-most address that is not the proxy's, so a client cannot pick
its own address to slip the chat rate limit.  nginx runs with the shipped
config's forwarding headers and binds its upstream side to 127.0.0.2, so the
server tells it apart from clients on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from server_support import Server, free_port, qbank_server

from index.engine import IngestReport

pytestmark = pytest.mark.server
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
PROXY_ADDRESS = "127.0.0.2"
CHAT = {"messages": [{"role": "user", "content": "what is dropout"}]}


@pytest.fixture(scope="module")
def server(built: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"QBANK_TRUSTED_PROXIES": PROXY_ADDRESS, "QBANK_CHAT_RATE_LIMIT": "2"}
    with qbank_server(built.path, tmp_path_factory.mktemp("proxied"), env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def proxy(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if NGINX is None:
        pytest.skip("nginx is not installed: `make setup-test` installs Debian's nginx")
    work = tmp_path_factory.mktemp("nginx")
    port = free_port()
    upstream = server.base_url.removeprefix("http://")
    temp_paths = "".join(f"{d}_temp_path {work / d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # The forwarding headers are the ones deploy/nginx.conf sets.
    (work / "nginx.conf").write_text(f"""
pid {work / "nginx.pid"};
error_log {work / "error.log"};
events {{}}
http {{
    access_log off; {temp_paths}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_bind {PROXY_ADDRESS};
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_pass http://{upstream};
        }}
    }}
}}
""")
    proc = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;", "-e", "stderr"],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def chats(base_url: str, forwarded: list[str], source: str = "127.0.0.1") -> list[int]:
    """Chat requests from the client address ``source``, each claiming an address in X-Forwarded-For."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=base_url, timeout=60, transport=transport) as client:
        return [client.post("/api/chat", json=CHAT, headers={"X-Forwarded-For": f}).status_code for f in forwarded]


def test_straight_to_the_server_forwarded_headers_are_not_believed(server: Server, proxy: str) -> None:
    # From loopback, which uvicorn would trust by default: the forged addresses change nothing.
    assert chats(server.base_url, ["4.4.4.4", "5.5.5.5", "6.6.6.6"]) == [200, 200, 429]


def test_through_the_proxy_the_limit_follows_the_real_client(proxy: str) -> None:
    # Each request claims another client; nginx appends the real one, which the server uses.
    assert chats(proxy, ["1.1.1.1", "2.2.2.2", "3.3.3.3"], source="127.0.0.3") == [200, 200, 429]
    # Another real client has its own budget: the key is the client, not the proxy.
    assert chats(proxy, ["1.1.1.1"], source="127.0.0.5") == [200]
