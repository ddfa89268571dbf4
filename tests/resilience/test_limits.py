"""Resources a hostile peer could exhaust are cut off at the documented limits: an endless HTTP
body, a catalog that fans out into thousands of requests. (Servers that flood stdout, never end a
line, or burn CPU and memory are covered in tests/live/test_live_hostile.py.)"""

import socket
import threading
import time

from crawl.conftest import run
from crawl.loopback import DockerCatalog, Loopback


class EndlessBody:
    """An HTTP server on 127.0.0.1 that answers every request with a chunked body that never ends."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sent = 0
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self.flood, args=(connection,), daemon=True).start()

    def flood(self, connection):
        chunk = b"[" * 65536  # never valid, never a line end
        try:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            while not self.stop.is_set():
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.sent += len(chunk)
        except OSError:
            pass
        finally:
            connection.close()

    def close(self):
        self.stop.set()
        self.listener.close()


def test_an_endless_body_is_cut_off_at_the_byte_limit(tmp_path):
    server = EndlessBody()
    try:
        started = time.monotonic()
        code, out, err = run("crawl", "registry", "--url", server.url, "--db", tmp_path / "c.db",
                             "--rate", "0", "--timeout", "5", "--max-bytes", str(8 << 20))
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert code == 4, err
    assert "over the 8,388,608-byte limit" in err
    assert elapsed < 30
    # it stopped reading soon after the limit: not gigabytes later
    assert server.sent < 64 << 20


def test_a_fan_out_of_thousands_of_requests_stays_within_the_per_host_limit(tmp_path):
    catalog = DockerCatalog()
    active, peak, lock = [0], [0], threading.Lock()

    def handler(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.005)  # long enough for requests to overlap when they are allowed to
            return catalog(request)
        finally:
            with lock:
                active[0] -= 1

    with Loopback(handler) as server:
        catalog.bind(server.url)
        # the real catalog, its tiles repeated under new names: ~1,000 toolsUrl requests
        tiles = dict(catalog.catalog["registry"])
        for copy in range(1, 36):
            for name, tile in tiles.items():
                tile = dict(tile)
                if "toolsUrl" in tile:
                    tile["toolsUrl"] += f"?copy={copy}"  # a URL of its own: no cache can merge them
                catalog.catalog["registry"][f"{name}-{copy}"] = tile
        fan_out = sum(1 for tile in catalog.catalog["registry"].values() if "toolsUrl" in tile)
        assert fan_out >= 900
        code, out, err = run("crawl", "docker", "--url", f"{server.url}/catalog.json", "--db", tmp_path / "c.db",
                             "--rate", "0", "--concurrency", "4")
    assert code == 0, err
    assert len(server.requests) >= fan_out
    assert peak[0] <= 4, f"{peak[0]} requests in flight at once against a limit of 4"
    assert peak[0] >= 2  # the limit, not a single lane, was what held it back
