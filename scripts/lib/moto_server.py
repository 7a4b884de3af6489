"""moto's server, one request at a time.

moto's own `moto_server` serves each connection on a thread, and under the
test suite's parallel clients its backends race: a response serialised
while another request changes the same backend fails with "dictionary
changed size during iteration" (HTTP 500). moto is single-threaded in
effect anyway (the GIL), so a lock around the app costs little and makes
every request see a consistent state. Connections are still accepted on
threads, so a client's idle keep-alive connection blocks nobody.

Usage: moto_server.py HOST PORT
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def one_at_a_time(environ, start_response):
    with lock:
        # The body is produced inside the lock as well.
        return list(app(environ, start_response))


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)
