#!/usr/bin/env python3
"""latency_client.py - the timing client of tests/bench/latency.

Each round appends one message to INBOX, where mailsift waits in IDLE,
and right after it one to a folder of its own ("Baseline" by default) that
mailsift does not watch, and measures from each APPEND's completion (the
tagged OK):

  mailsift  until the INBOX message appears in the target folder's Maildir
            (new/ or cur/), watched with inotify: the moment mailsift's MOVE
            stored it there;
  dovecot   until an IDLE client of our own on the Baseline folder receives
            "* n EXISTS": the server's own IDLE notification delay (Dovecot
            waits about 0.5 s after a change before it notifies), which is
            also the first part of mailsift's figure.

The baseline has its own folder because an IDLE client on INBOX races with
mailsift: when mailsift's MOVE comes first, Dovecot reports neither the
arrival nor the expunge to the other client.  All times are
time.monotonic() in this one process.  Measurement error: the inotify and
socket wake-ups and this loop cost well under a millisecond; the file
appears in the Maildir a fraction of a millisecond before the server
answers mailsift's MOVE.

Standard library only (socket, select, ctypes for inotify).  Prints one
tab-separated line per round: index, dovecot ms, mailsift ms, and their
difference (each "-" when nothing arrived within the timeout).
"""
import argparse
import ctypes
import ctypes.util
import os
import select
import socket
import struct
import sys
import time

IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100


class Imap:
    """Just enough IMAP4rev1 for LOGIN, SELECT, IDLE and APPEND."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.seq = 0
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError("no IMAP greeting: %r" % greeting)

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def has_line(self):
        return b"\r\n" in self.buf

    def command(self, text, literal=None):
        self.seq += 1
        tag = b"b%d" % self.seq
        if literal is None:
            self.sock.sendall(tag + b" " + text + b"\r\n")
        else:
            # LITERAL+ (Dovecot advertises it): no round trip for the "+".
            self.sock.sendall(tag + b" " + text + b" {%d+}\r\n" % len(literal)
                              + literal + b"\r\n")
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise RuntimeError("%s failed: %r" % (text.split()[0], line))
                return line

    @staticmethod
    def quote(s):
        return b'"' + s.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'

    def login(self, user, password):
        self.command(b"LOGIN " + self.quote(user) + b" " + self.quote(password))

    def idle(self, box):
        self.command(b"SELECT " + self.quote(box))
        self.seq += 1
        self.sock.sendall(b"b%d IDLE\r\n" % self.seq)
        while not self.line().startswith(b"+"):
            pass


class Inotify:
    """New files in a Maildir folder's new/ and cur/, once per message."""

    def __init__(self, maildir):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                           use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        for sub in ("new", "cur"):
            path = os.path.join(maildir, sub).encode()
            if libc.inotify_add_watch(self.fd, path, IN_CREATE | IN_MOVED_TO) < 0:
                raise OSError(ctypes.get_errno(), "inotify_add_watch %s" % path)
        # A message moving from new/ to cur/ or changing flags is renamed:
        # count each Maildir base name (before ":2,") once.
        self.seen = set(self.basename(n) for sub in ("new", "cur")
                        for n in os.listdir(os.path.join(maildir, sub)))

    @staticmethod
    def basename(name):
        return name.split(":", 1)[0]

    def new_files(self):
        count = 0
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return 0
        off = 0
        while off + 16 <= len(data):
            _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, off)
            name = data[off + 16:off + 16 + length].rstrip(b"\0").decode()
            off += 16 + length
            base = self.basename(name)
            if base and base not in self.seen:
                self.seen.add(base)
                count += 1
        return count


def message(i, run_id):
    return ("From: Bench Sender <bench@example.org>\r\n"
            "To: bench@example.com\r\n"
            "Subject: [bench] message %d\r\n"
            "Date: %s\r\n"
            "Message-ID: <bench.%s.%d@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "Latency benchmark message %d.  The owner's Sieve script files\r\n"
            "every message whose subject carries the [bench] tag into the\r\n"
            "Bench folder, so each one is fetched, scored, run through the\r\n"
            "script and moved.\r\n"
            % (i, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
               run_id, i, i)).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--target-maildir", required=True,
                    help="Maildir directory of the target folder")
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--interval", type=float, default=1.5)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--baseline", default="Baseline",
                    help="folder for the baseline messages (must exist)")
    a = ap.parse_args()

    with open(a.password_file) as f:
        password = f.read().rstrip("\n")
    watcher = Imap(a.host, a.port)
    watcher.login(a.user, password)
    watcher.idle(a.baseline)
    appender = Imap(a.host, a.port)
    appender.login(a.user, password)
    target = Inotify(a.target_maildir)
    run_id = "%d.%d" % (os.getpid(), int(time.time()))

    for i in range(1, a.n + 1):
        started = time.monotonic()
        # Forget anything the IDLE connection said late about earlier
        # rounds, so it cannot count for this one.
        while select.select([watcher.sock], [], [], 0)[0]:
            data = watcher.sock.recv(65536)
            if not data:
                raise RuntimeError("the IDLE connection was closed")
            watcher.buf += data
        while watcher.has_line():
            watcher.line()
        appender.command(b"APPEND INBOX", message(i, run_id))
        t0 = time.monotonic()
        appender.command(b"APPEND " + Imap.quote(a.baseline),
                         message(i, run_id + ".baseline"))
        t0_base = time.monotonic()
        t_exists = t_target = None
        deadline = t0 + a.timeout
        while t_exists is None or t_target is None:
            if t_exists is None and watcher.has_line():
                ready = [watcher.sock]
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                ready, _, _ = select.select([watcher.sock, target.fd], [], [],
                                            left)
            now = time.monotonic()
            if target.fd in ready and target.new_files() > 0 and t_target is None:
                t_target = now
            if watcher.sock in ready:
                if not watcher.has_line():
                    data = watcher.sock.recv(65536)
                    if not data:
                        raise RuntimeError("the IDLE connection was closed")
                    watcher.buf += data
                while watcher.has_line():
                    line = watcher.line()
                    if line.endswith(b" EXISTS") and t_exists is None:
                        t_exists = now
        fmt = lambda t, t_0: "-" if t is None else "%.3f" % ((t - t_0) * 1000)
        diff = "-"
        if t_exists is not None and t_target is not None:
            diff = "%.1f" % (((t_target - t0) - (t_exists - t0_base)) * 1000)
        print("%d\t%s\t%s\t%s" % (i, fmt(t_exists, t0_base),
                                   fmt(t_target, t0), diff), flush=True)
        rest = a.interval - (time.monotonic() - started)
        if rest > 0 and i < a.n:
            time.sleep(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
