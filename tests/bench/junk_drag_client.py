#!/usr/bin/env python3
"""junk_drag_client.py - the timing client of tests/bench/junk-drag.

Each round plays the owner dragging a message into Junk from a folder
mailsift does not watch ("Archive": only the Junk watch can notice it):
it APPENDs a message there, waits a moment, then moves it into Junk (UID
MOVE, or UID COPY + \\Deleted + UID EXPUNGE where the server lacks MOVE) and
measures from the move's completion (its tagged OK):

  server    until an IDLE client of our own on Junk receives "* n EXISTS":
            the server's own notification delay for that change (Dovecot
            waits about 0.5 s after a change before it notifies), the
            floor of what any client watching Junk can do;
  mailsift  until mailsift recorded the training: the time_ms of the new
            row of the ledger's corrections table (mailsift's own
            CLOCK_REALTIME; this client reads time.time(), the same clock).

Standard library only (and latency_client.py beside it).  Prints one tab-separated line per round: index,
server ms, mailsift ms, their difference ("-" when nothing came within
the timeout).
"""
import argparse
import select
import sqlite3
import sys
import time

from latency_client import Imap as LatencyImap


class Imap(LatencyImap):
    """latency_client's IMAP client, plus what dragging needs: the
    capabilities, APPEND with APPENDUID, a move as a mail client makes it,
    and waiting for EXISTS.  Literals are synchronising: not every server
    offers LITERAL+."""

    def __init__(self, host, port):
        super().__init__(host, port)
        self.caps = set()

    def command(self, text, literal=None):
        self.seq += 1
        tag = b"d%d" % self.seq
        if literal is None:
            self.sock.sendall(tag + b" " + text + b"\r\n")
        else:
            self.sock.sendall(tag + b" " + text + b" {%d}\r\n" % len(literal))
            if not self.line().startswith(b"+"):
                raise RuntimeError("no continuation for %r" % text)
            self.sock.sendall(literal + b"\r\n")
        while True:
            line = self.line()
            if line.startswith(b"* CAPABILITY "):
                self.caps = set(line.upper().split()[2:])
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise RuntimeError("%r failed: %r" % (text.split()[0], line))
                return line

    def login(self, user, password):
        super().login(user, password)
        self.command(b"CAPABILITY")

    def append(self, box, data):
        ok = self.command(b"APPEND " + self.quote(box), data)
        # [APPENDUID validity uid]
        if b"[APPENDUID " not in ok:
            raise RuntimeError("no APPENDUID: %r" % ok)
        return int(ok.split(b"[APPENDUID ", 1)[1].split(b"]", 1)[0].split()[1])

    def move(self, uid, box):
        if b"MOVE" in self.caps:
            self.command(b"UID MOVE %d " % uid + self.quote(box))
            return
        self.command(b"UID COPY %d " % uid + self.quote(box))
        self.command(b"UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid)
        self.command(b"UID EXPUNGE %d" % uid)

    def wait_exists(self, deadline):
        """Monotonic time of the next "* n EXISTS", or None."""
        while True:
            while b"\r\n" in self.buf:
                line = self.line()
                if line.startswith(b"* ") and line.endswith(b" EXISTS"):
                    return time.monotonic()
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("server closed the IDLE connection")
            self.buf += data


def trained_at(ledger, after_id, deadline):
    """(id, time_ms) of the first correction with id > after_id, or None."""
    while time.monotonic() < deadline:
        try:
            db = sqlite3.connect("file:%s?mode=ro" % ledger, uri=True,
                                 timeout=5)
            row = db.execute("SELECT id, time_ms FROM corrections WHERE "
                             "id > ? ORDER BY id LIMIT 1",
                             (after_id,)).fetchone()
            db.close()
        except sqlite3.OperationalError:
            row = None
        if row is not None:
            return row
        time.sleep(0.005)
    return None


def message(i, run_id):
    return ("From: Old Friend <friend%d@archive.example>\r\n"
            "To: owner@example.com\r\n"
            "Subject: an old message %d\r\n"
            "Date: Mon, 30 Nov 2026 04:00:00 +0000\r\n"
            "Message-ID: <drag.%s.%d@example.org>\r\n"
            "\r\n"
            "An old message %d that the owner drags into Junk.\r\n"
            % (i, i, run_id, i, i)).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--ledger", required=True)
    ap.add_argument("--junk", default="Junk")
    ap.add_argument("--source", default="Archive")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--interval", type=float, default=1.5)
    ap.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()
    with open(args.password_file) as f:
        password = f.readline().rstrip("\r\n")

    owner = Imap(args.host, args.port)
    owner.login(args.user, password)
    watcher = Imap(args.host, args.port)
    watcher.login(args.user, password)
    watcher.idle(args.junk)
    owner.command(b"SELECT " + owner.quote(args.source))
    run_id = "%d" % (time.time() * 1000)
    db = sqlite3.connect("file:%s?mode=ro" % args.ledger, uri=True)
    last_id = db.execute("SELECT coalesce(max(id), -1) FROM "
                         "corrections").fetchone()[0]
    db.close()
    for i in range(1, args.n + 1):
        uid = owner.append(args.source, message(i, run_id))
        time.sleep(args.interval / 2)
        # Courier shows this session its own APPEND only after a command.
        owner.command(b"NOOP")
        owner.move(uid, args.junk)
        t0_mono = time.monotonic()
        t0_wall = time.time() * 1000
        deadline = t0_mono + args.timeout
        seen = watcher.wait_exists(deadline)
        server = (seen - t0_mono) * 1000 if seen is not None else None
        got = trained_at(args.ledger, last_id, deadline)
        ms = None
        if got is not None:
            last_id = got[0]
            ms = got[1] - t0_wall
        diff = ms - server if ms is not None and server is not None else None
        print("%d\t%s\t%s\t%s" % (i, "-" if server is None else "%.1f" % server,
                                  "-" if ms is None else "%.1f" % ms,
                                  "-" if diff is None else "%.1f" % diff))
        sys.stdout.flush()
        time.sleep(args.interval / 2)


if __name__ == "__main__":
    main()
