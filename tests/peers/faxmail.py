#!/usr/bin/env python3
"""Test-only peer: parse a fax-mail (RFC 2305) with Python's email package.

usage: faxmail.py MESSAGE.eml OUTDIR

Prints one JSON object: the headers From, To, Subject, Message-ID, Date (as parsed), the
top-level content type, each part's content type, its application= parameter and file name,
and the text/plain summary; writes every attachment into OUTDIR under its file name.
Written for softfax's tests.
"""
import email
import email.policy
import email.utils
import json
import os
import sys

with open(sys.argv[1], "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
out = sys.argv[2]
parts, summary = [], None
for part in msg.iter_parts():
    ctype = part.get_content_type()
    entry = {"type": ctype, "application": part.get_param("application"),
             "filename": part.get_filename()}
    if ctype == "text/plain":
        summary = part.get_content()
    elif part.get_filename():
        with open(os.path.join(out, part.get_filename()), "wb") as f:
            f.write(part.get_content())
    parts.append(entry)
print(json.dumps({
    "from": str(msg["From"]), "to": str(msg["To"]), "subject": str(msg["Subject"]),
    "message_id": str(msg["Message-ID"]),
    "date_ok": email.utils.parsedate_to_datetime(str(msg["Date"])) is not None,
    "type": msg.get_content_type(), "defects": len(msg.defects), "parts": parts,
    "summary": summary,
}))
