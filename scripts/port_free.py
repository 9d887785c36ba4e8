"""Exit with one plain sentence when 127.0.0.1:PORT is taken, so `make run` stops before it
migrates and seeds rather than when gunicorn finally tries to listen.

Usage: python scripts/port_free.py PORT
"""

from __future__ import annotations

import socket
import sys


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn binds: a port left in TIME_WAIT by the last Ctrl-C is free, a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str]) -> int:
    arg = argv[1] if len(argv) > 1 else ""
    if not arg.isdigit() or not 0 < int(arg) < 65536:
        print(f"PORT must be a number from 1 to 65535, not {arg!r}: try `make run PORT=5001`.", file=sys.stderr)
        return 2
    port = int(arg)
    if not port_free(port):
        other = port + 1 if port < 65535 else 5001
        print(
            f"Port {port} on 127.0.0.1 is already in use; stop what is using it, "
            f"or pick another port with `make run PORT={other}`.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
