#!/usr/bin/env python3
"""faultproxy.py - a TCP proxy that breaks connections on purpose.

It sits between mailsift and the real Dovecot (plain IMAP, or the implicit
TLS port: it only forwards bytes, so mailsift still verifies the real
certificate) and injects one fault per connection, chosen in advance or at
random, or into every live connection on request.

Usage:
  faultproxy.py --target HOST:PORT --port-file F [--log F] [--control F]
                [--seed N] [--default SPEC] [SPEC ...]

The listening port (on 127.0.0.1) is written to the port file once the
proxy accepts connections.  The i-th SPEC applies to the i-th connection;
later connections get --default (default "pass").

SPEC is ACTION[@DIR:TRIGGER][,ARG]:
  ACTION   pass     forward everything
           close    close both sides (FIN)
           reset    close both sides with a TCP reset
           stall    stop forwarding DIR, keep everything open
           drop     stop forwarding both ways, keep everything open (a
                    silent drop: no FIN, no RST, nothing)
           trickle  forward DIR one byte every ARG ms (default 1000)
           literal  send the client "* 1 FETCH (BODY[] {99999999999999999999}"
                    then close
  DIR      s2c (server to client, the default) or c2s
  TRIGGER  N        after N bytes went through in DIR (default 0)
           /RE/     where the regular expression RE first matches in DIR
           /RE/+N   N bytes after that
  random:MAX        one of close, reset, stall, drop, trickle, literal in a
                    random direction at a random offset below MAX (seeded)

The control file, if given, is read for appended lines:
  now ACTION[,ARG]  inject ACTION into every live connection at once
  next SPEC         the next new connection gets SPEC
  default SPEC      new connections without a SPEC get this one

Every connection and every fault is logged, one line each, with a time
stamp:  "conn 3: close@s2c at byte 123456 (after /BODY\\[\\]/+2000000)".
"""
import argparse
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time

ACTIONS = ("pass", "close", "reset", "stall", "drop", "trickle", "literal")
ABSURD = b"* 1 FETCH (UID 1 BODY[] {99999999999999999999}\r\n"
TAIL = 4096  # bytes of a direction kept to match patterns across reads


class Spec:
    def __init__(self, text, rng=None):
        self.text = text
        self.arg = None
        self.dir = "s2c"
        self.offset = 0
        self.pattern = None
        if text.startswith("random:"):
            limit = int(text.split(":", 1)[1])
            self.action = rng.choice(ACTIONS[1:])
            self.dir = rng.choice(("s2c", "c2s"))
            self.offset = rng.randrange(0, max(limit, 1))
            if self.action == "trickle":
                self.arg = 200
            self.text = "%s@%s:%d (random)" % (self.action, self.dir,
                                               self.offset)
            return
        action, _, rest = text.partition("@")
        if "," in action:
            action, self.arg = action.split(",", 1)
        if rest:
            if "," in rest and not rest.endswith("/"):
                rest, _, self.arg = rest.rpartition(",")
            self.dir, _, trig = rest.partition(":")
            if trig.startswith("/"):
                end = trig.rindex("/")
                self.pattern = re.compile(trig[1:end].encode())
                extra = trig[end + 1:]
                self.offset = int(extra[1:]) if extra.startswith("+") else 0
            elif trig:
                self.offset = int(trig)
        if action not in ACTIONS or self.dir not in ("s2c", "c2s"):
            raise ValueError("bad fault spec: %s" % text)
        self.action = action
        self.arg = int(self.arg) if self.arg is not None else None


class Proxy:
    def __init__(self, args):
        self.target = args.target.rsplit(":", 1)
        self.target = (self.target[0], int(self.target[1]))
        self.rng = random.Random(args.seed)
        self.specs = list(args.spec)
        self.default = args.default
        self.control = args.control
        self.control_pos = 0
        self.log_file = open(args.log, "a", buffering=1) if args.log \
            else sys.stderr
        self.lock = threading.Lock()
        self.conns = []
        self.count = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", args.port))
        self.sock.listen(64)
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.sock.getsockname()[1])
        os.rename(tmp, args.port_file)

    def log(self, msg):
        with self.lock:
            self.log_file.write("%.3f %s\n" % (time.time(), msg))

    def next_spec(self):
        text = self.specs.pop(0) if self.specs else self.default
        return Spec(text, self.rng)

    def read_control(self):
        if not self.control:
            return
        try:
            with open(self.control, "r") as f:
                f.seek(self.control_pos)
                data = f.read()
        except FileNotFoundError:
            return
        if not data.endswith("\n"):
            data = data[:data.rfind("\n") + 1]
        self.control_pos += len(data.encode())
        for line in data.splitlines():
            word, _, rest = line.strip().partition(" ")
            if word == "now":
                spec = Spec(rest, self.rng)
                with self.lock:
                    live = list(self.conns)
                self.log("control: now %s on %d connection(s)"
                         % (rest, len(live)))
                for c in live:
                    c.inject(spec)
            elif word == "next":
                self.specs.insert(0, rest)
            elif word == "default":
                self.default = rest
            elif word:
                self.log("control: unknown command %r" % line)

    def serve(self):
        while True:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            self.read_control()
            if not r:
                continue
            client, _ = self.sock.accept()
            self.count += 1
            spec = self.next_spec()
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError as e:
                self.log("conn %d: cannot reach %s:%d: %s"
                         % (self.count, self.target[0], self.target[1], e))
                client.close()
                continue
            server.settimeout(None)
            conn = Conn(self, self.count, client, server, spec)
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=conn.run, daemon=True).start()


class Direction:
    def __init__(self, name, src, dst):
        self.name = name
        self.src = src
        self.dst = dst
        self.sent = 0          # bytes forwarded so far
        self.tail = b""        # the last TAIL bytes, for patterns
        self.pending = b""     # read, not yet forwarded (trickle)
        self.stalled = False
        self.trickle_ms = None
        self.next_byte = 0.0
        self.eof = False


class Conn:
    def __init__(self, proxy, n, client, server, spec):
        self.proxy = proxy
        self.n = n
        self.client = client
        self.server = server
        self.spec = spec
        self.armed = spec.action != "pass"
        self.injected = None
        self.dirs = {"c2s": Direction("c2s", client, server),
                     "s2c": Direction("s2c", server, client)}
        self.done = False
        proxy.log("conn %d: open, fault %s" % (n, spec.text))

    def inject(self, spec):
        self.injected = spec

    def fire(self, spec, d, where):
        self.proxy.log("conn %d: %s@%s at byte %d%s"
                       % (self.n, spec.action, d.name, d.sent, where))
        a = spec.action
        if a in ("close", "reset", "literal"):
            if a == "literal":
                try:
                    self.client.sendall(ABSURD)
                except OSError:
                    pass
            self.finish(reset=(a == "reset"))
        elif a == "stall":
            d.stalled = True
        elif a == "drop":
            for x in self.dirs.values():
                x.stalled = True
        elif a == "trickle":
            d.trickle_ms = spec.arg or 1000

    def finish(self, reset=False):
        if self.done:
            return
        self.done = True
        for s in (self.client, self.server):
            try:
                if reset:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                s.close()
            except OSError:
                pass

    def trigger_at(self, d, data):
        """How many bytes of data go through before the armed fault
        fires, or None if it does not fire within data."""
        spec = self.spec
        if not self.armed or spec.dir != d.name:
            return None
        if spec.pattern is None:
            at = spec.offset - d.sent
            return at if at <= len(data) else None
        window = d.tail + data
        m = spec.pattern.search(window)
        if m is None:
            return None
        # Offsets from the start of data; the pattern then becomes an
        # absolute offset.
        at = m.start() - len(d.tail) + spec.offset
        spec.pattern = None
        spec.offset = d.sent + max(at, 0)
        at = spec.offset - d.sent
        return at if at <= len(data) else None

    def forward(self, d, data):
        if d.stalled or self.done:
            return
        if d.trickle_ms is not None:
            d.pending += data
            return
        try:
            d.dst.sendall(data)
        except OSError:
            self.proxy.log("conn %d: %s send failed, closing"
                           % (self.n, d.name))
            self.finish()
            return
        d.sent += len(data)
        d.tail = (d.tail + data)[-TAIL:]

    def handle(self, d, data):
        at = self.trigger_at(d, data)
        if at is None:
            self.forward(d, data)
            return
        at = max(at, 0)
        self.forward(d, data[:at])
        self.armed = False
        spec = self.spec
        where = " (after /%s/)" % spec.text.split("/")[1] \
            if spec.text.count("/") >= 2 else ""
        self.fire(spec, d, where)
        self.forward(d, data[at:])

    def run(self):
        try:
            self.loop()
        finally:
            self.finish()
            with self.proxy.lock:
                if self in self.proxy.conns:
                    self.proxy.conns.remove(self)
            self.proxy.log("conn %d: closed (c2s %d bytes, s2c %d bytes)"
                           % (self.n, self.dirs["c2s"].sent,
                              self.dirs["s2c"].sent))

    def loop(self):
        # Faults at offset 0 fire before anything is read.
        for d in self.dirs.values():
            if self.armed and self.spec.pattern is None and \
                    self.spec.dir == d.name and self.spec.offset == 0:
                self.armed = False
                self.fire(self.spec, d, "")
        while not self.done:
            if self.injected is not None:
                spec, self.injected = self.injected, None
                self.fire(spec, self.dirs[spec.dir], " (injected)")
                continue
            readers = [d.src for d in self.dirs.values() if not d.eof]
            timeout = 0.1
            now = time.time()
            for d in self.dirs.values():
                if d.pending and not d.stalled:
                    timeout = min(timeout, max(d.next_byte - now, 0))
            if not readers and not any(d.pending for d in self.dirs.values()):
                return
            r, _, _ = select.select(readers, [], [], timeout)
            for d in self.dirs.values():
                if d.src in r and not self.done:
                    try:
                        data = d.src.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        d.eof = True
                        if not d.stalled:
                            # Pass the half-close on, as TCP would.
                            try:
                                d.dst.shutdown(socket.SHUT_WR)
                            except OSError:
                                pass
                        continue
                    self.handle(d, data)
            now = time.time()
            for d in self.dirs.values():
                if d.pending and not d.stalled and not self.done and \
                        now >= d.next_byte:
                    try:
                        d.dst.sendall(d.pending[:1])
                    except OSError:
                        self.finish()
                        return
                    d.sent += 1
                    d.pending = d.pending[1:]
                    d.next_byte = now + d.trickle_ms / 1000.0
            if all(d.eof for d in self.dirs.values()) and \
                    not any(d.pending for d in self.dirs.values()):
                return


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--control")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--default", default="pass")
    p.add_argument("spec", nargs="*")
    args = p.parse_args()
    for s in args.spec + [args.default]:
        Spec(s, random.Random(0))  # refuse bad specs at once
    Proxy(args).serve()


if __name__ == "__main__":
    main()
