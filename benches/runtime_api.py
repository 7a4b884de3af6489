"""A Lambda Runtime API served on 127.0.0.1 (next / response / error), for
the benches that run the release `bootstrap` as Lambda would."""
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = "123456789012"


class Api:
    """A Runtime API: queued events out, answers in; `first_poll` is when
    the process first asked for an event."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_poll = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if api.first_poll is None:
                    api.first_poll = time.perf_counter()
                rid, event = api.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                for k, v in [("Lambda-Runtime-Aws-Request-Id", rid),
                             ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000)),
                             ("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:bench"),
                             ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.answers.put((self.path, time.perf_counter(), body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
