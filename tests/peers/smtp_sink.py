#!/usr/bin/env python3
"""Test-only peer: a plain SMTP listener (RFC 5321) that files every message it takes.

usage: smtp_sink.py DIR [--port N] [--tempfail N]

Prints "listening PORT" on stdout once bound. Each message taken is written to DIR/N.eml
(N from 1; written to a temporary name, then renamed) with its envelope in DIR/N.env
(one JSON object: from, to). The first N ends of data get "451 4.3.0" (--tempfail); RCPT to
a local part starting with "reject" gets "550 5.1.1". Written for softfax's tests.
"""
import json
import os
import socketserver
import sys
import threading

args = sys.argv[1:]
out = args[0]
port = int(args[args.index("--port") + 1]) if "--port" in args else 0
tempfail = [int(args[args.index("--tempfail") + 1]) if "--tempfail" in args else 0]
lock = threading.Lock()
count = [0]


class Handler(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.say("220 sink.test ESMTP test sink")
        sender, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                self.say("250-sink.test")
                self.say("250 8BITMIME")
            elif verb == "HELO":
                self.say("250 sink.test")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip().strip("<>"), []
                self.say("250 2.1.0 Ok")
            elif verb == "RCPT":
                to = cmd.split(":", 1)[1].strip().strip("<>")
                if to.lower().startswith("reject"):
                    self.say("550 5.1.1 No such mailbox")
                else:
                    rcpts.append(to)
                    self.say("250 2.1.5 Ok")
            elif verb == "DATA":
                self.say("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while True:
                    l = self.rfile.readline()
                    if not l or l == b".\r\n":
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    data += l
                with lock:
                    if tempfail[0] > 0:
                        tempfail[0] -= 1
                        self.say("451 4.3.0 Try again later")
                        continue
                    count[0] += 1
                    n = count[0]
                    tmp = os.path.join(out, ".tmp-%d" % n)
                    with open(tmp, "wb") as f:
                        f.write(data)
                    with open(os.path.join(out, "%d.env" % n), "w") as f:
                        json.dump({"from": sender, "to": rcpts}, f)
                    os.rename(tmp, os.path.join(out, "%d.eml" % n))
                self.say("250 2.0.0 Ok: queued as SINK%d" % n)
            elif verb == "QUIT":
                self.say("221 2.0.0 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.say("250 2.0.0 Ok")
            else:
                self.say("502 5.5.2 Not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


srv = Server(("127.0.0.1", port), Handler)
print("listening %d" % srv.server_address[1], flush=True)
srv.serve_forever()
