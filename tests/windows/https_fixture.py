#!/usr/bin/env python3
"""Loopback fixtures for the WinHTTP transport's tests (tests/windows/https_test.sh).

  https_fixture.py server CERT KEY PORT_FILE LOG_FILE
      An HTTPS server on 127.0.0.1 whose answers the request path scripts (see Handler).
      Every request whose body arrived whole is logged as one JSON line
      {"path": ..., "bytes": ...} to LOG_FILE, so the test can tell which bodies were sent.
  https_fixture.py proxy PORT_FILE LOG_FILE
      An HTTP CONNECT proxy on 127.0.0.1 that tunnels to the loopback only and logs each
      CONNECT target as a JSON line {"connect": "HOST:PORT"}.
  https_fixture.py closed-port PORT_FILE
      Writes a port on 127.0.0.1 where nothing listens (bound, then closed) and exits.

The process runs until it is killed; every sleep and socket wait below is bounded.
"""
import email.utils
import http.server
import json
import os
import select
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

LOG_LOCK = threading.Lock()
LOOPBACK = ("127.0.0.1", "localhost")


def log(path, record):
    with LOG_LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def write_port(path, port):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(port))
    os.replace(path + ".tmp", path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that stops talking is dropped

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=None, content_length=True):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            return  # the client gave up before sending the body
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        log(self.server.log_file, {"path": url.path, "bytes": len(body)})
        n = int(query.get("bytes", "0"))
        if url.path == "/echo":
            answer = {
                "body": body.decode("utf-8", "replace"),
                "user_agent": self.headers.get("User-Agent", ""),
                "content_type": self.headers.get("Content-Type", ""),
                "accept": self.headers.get("Accept", ""),
            }
            self.send(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})
        elif url.path == "/retry-after-seconds":
            self.send(503, b'{"error":"busy"}', {"Retry-After": "7"})
        elif url.path == "/retry-after-date":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.send(429, b'{"error":"slow down"}', {"Retry-After": when})
        elif url.path == "/sized":
            self.send(200, b"x" * n)
        elif url.path == "/chunked":
            # No Content-Length: the size is known only while reading. Closes when done.
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            left = n
            while left > 0:
                part = min(left, 8192)
                self.wfile.write(b"%x\r\n" % part + b"y" * part + b"\r\n")
                left -= part
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/slow":
            time.sleep(min(float(query.get("seconds", "5")), 20))
            self.send(200, b"{}")
        elif url.path == "/redirect":
            self.send(302, b"", {"Location": "/echo"})
        else:
            self.send(404, b'{"error":"no such path"}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class Proxy(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        line = self.rfile.readline(4096).decode("latin-1").split()
        while self.rfile.readline(4096) not in (b"\r\n", b"\n", b""):
            pass
        if len(line) < 2 or line[0] != "CONNECT" or line[1].split(":")[0] not in LOOPBACK:
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        log(self.server.log_file, {"connect": line[1]})
        upstream = socket.create_connection(("127.0.0.1", int(line[1].split(":")[1])), 10)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sockets = [self.connection, upstream]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            readable, _, _ = select.select(sockets, [], [], 1)
            for s in readable:
                data = s.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if s is self.connection else self.connection).sendall(data)
        upstream.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True


def main():
    mode = sys.argv[1]
    if mode == "server":
        cert, key, port_file, log_file = sys.argv[2:6]
        server = Server(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    elif mode == "proxy":
        port_file, log_file = sys.argv[2:4]
        server = ProxyServer(("127.0.0.1", 0), Proxy)
    elif mode == "closed-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        write_port(sys.argv[2], port)
        return
    else:
        sys.exit("usage: https_fixture.py server|proxy|closed-port ...")
    server.log_file = log_file
    write_port(port_file, server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
